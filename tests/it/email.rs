//! Alert emails against a real SMTP server (aiosmtpd on 127.0.0.1).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::util::{Scratch, golden_dir, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py")
}

/// Whether Python's aiosmtpd is importable; under CI it must be.
fn have_aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "python3 with aiosmtpd is missing: scripts/test.sh installs it (pip install aiosmtpd)"
        );
    }
    if !ok {
        eprintln!("skipped: no python3 aiosmtpd (scripts/test.sh installs it)");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running aiosmtpd, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Server {
    fn start(scratch: &Scratch, credentials: Option<&str>) -> Server {
        Server::start_with(scratch, credentials, None)
    }

    fn start_with(
        scratch: &Scratch,
        credentials: Option<&str>,
        tls: Option<(&Path, &Path)>,
    ) -> Server {
        let port = free_port();
        let maildir = scratch.join(&format!("maildir-{port}"));
        let mut command = Command::new("python3");
        command
            .arg(script())
            .arg("serve")
            .arg(port.to_string())
            .arg(&maildir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(c) = credentials {
            command.arg(c);
        }
        if let Some((cert, key)) = tls {
            command.arg("--tls").arg(cert).arg(key);
        }
        let mut child = command.spawn().expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        Server {
            child,
            port,
            maildir,
        }
    }

    /// The delivered messages.
    fn messages(&self) -> Vec<serde_json::Value> {
        if !self.maildir.exists() {
            return Vec::new();
        }
        let output = Command::new("python3")
            .arg(script())
            .arg("dump")
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config with the small-cohort alert rules, `extra` rules and an [email] section
/// (security `none` unless `extra_email` says otherwise).
fn config(scratch: &Scratch, name: &str, port: u16, extra: &str, user: Option<&str>) -> PathBuf {
    config_with(scratch, name, port, extra, user, "security = \"none\"\n")
}

fn config_with(
    scratch: &Scratch,
    name: &str,
    port: u16,
    extra: &str,
    user: Option<&str>,
    security: &str,
) -> PathBuf {
    let user =
        user.map(|u| format!("user = \"{u}\"\npassword_env = \"L2LENS_TEST_SMTP_PASSWORD\"\n"));
    scratch.write(
        name,
        format!(
            "[alerts]\nmin_n = 1\n{extra}\n\n[email]\nhost = \"127.0.0.1\"\nport = {port}\n\
             {security}from = \"l2lens <l2lens@example.com>\"\n\
             to = [\"cx-director@example.com\", \"oncall@example.com\"]\n\
             attempts = 2\nbackoff_ms = 50\ntimeout_s = 5\n{}",
            user.unwrap_or_default()
        ),
    )
}

fn alerts(config: &Path, state: &Path, extra: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_l2lens"));
    command
        .args(["alerts", "--data"])
        .arg(golden_dir())
        .args([
            "--as-of",
            AS_OF,
            "--email",
            "--fail-on",
            "never",
            "--config",
        ])
        .arg(config)
        .arg("--state")
        .arg(state)
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("L2LENS_TEST_SMTP_PASSWORD");
    if let Some(p) = password {
        command.env("L2LENS_TEST_SMTP_PASSWORD", p);
    }
    command.output().unwrap()
}

#[test]
fn the_alert_email_arrives_with_both_parts_and_the_alert_rows() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("mail");
    let server = Server::start(&scratch, None);
    let config = config(&scratch, "cfg.toml", server.port, "", None);
    let state = scratch.join("state.json");
    let output = alerts(&config, &state, &[], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    let subject = m["subject"].as_str().unwrap();
    assert!(subject.contains("CRITICAL"), "{subject}");
    assert!(subject.contains("2026-11-16"), "{subject}");
    let count = subject
        .split(": ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        count,
        json["alerts"].as_array().unwrap().len().to_string(),
        "{subject}"
    );
    assert_eq!(m["to"], "cx-director@example.com, oncall@example.com");
    assert!(m["from"].as_str().unwrap().contains("l2lens@example.com"));
    assert_eq!(m["content_type"], "multipart/alternative");
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    // By metric (its name, then its id), one row per alert: group, value against threshold, n.
    let at = text
        .find("Threads past the 24-hour window (window_expired)")
        .unwrap_or_else(|| panic!("{text}"));
    let first = text[at..].lines().nth(1).unwrap();
    assert!(
        first.contains("CRITICAL")
            && first.contains("ALL")
            && first.contains("2 against > 0")
            && first.contains("(n=5)"),
        "{text}"
    );
    assert!(
        text.contains("Report: reports/2026-11-16/index.html"),
        "{text}"
    );
    assert_eq!(
        html.matches("<tr class=\"alert\"").count(),
        json["alerts"].as_array().unwrap().len()
    );
    assert!(
        html.contains("window_expired") && html.contains("18.2 %"),
        "{html}"
    );
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(saved["alerts"]["lane|ALL|window_expired"].is_object());
}

#[test]
fn dedupe_escalation_and_resolution_across_runs() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("dedupe");
    let server = Server::start(&scratch, None);
    let state = scratch.join("state.json");
    let warning_only = config(
        &scratch,
        "warn.toml",
        server.port,
        "[alerts.metrics.misroute_rate]\ncritical = \"off\"",
        None,
    );
    let default_rules = config(&scratch, "default.toml", server.port, "", None);
    let no_misroute = config(
        &scratch,
        "quiet.toml",
        server.port,
        "[alerts.metrics.misroute_rate]\nwarning = \"off\"\ncritical = \"off\"",
        None,
    );
    let run = |config: &Path| {
        let output = alerts(config, &state, &[], None);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        server.messages().len()
    };
    assert_eq!(run(&warning_only), 1, "first run mails every alert");
    assert_eq!(run(&warning_only), 1, "same alerts: nothing sent");
    assert_eq!(
        run(&default_rules),
        2,
        "misroute_rate escalates to critical"
    );
    let escalation = server
        .messages()
        .into_iter()
        .find(|m| m["text"].as_str().unwrap().contains("escalated from"))
        .expect("an escalation mail");
    let text = escalation["text"].as_str().unwrap();
    assert!(
        text.contains("misroute_rate") && text.contains("escalated from warning"),
        "{text}"
    );
    assert_eq!(
        text.matches("[new]").count(),
        0,
        "only the escalation: {text}"
    );
    assert_eq!(run(&default_rules), 2, "still critical: nothing sent");
    assert_eq!(run(&no_misroute), 3, "the resolution is announced");
    let resolution = server
        .messages()
        .into_iter()
        .find(|m| m["subject"].as_str().unwrap().contains("RESOLVED"))
        .expect("a resolution mail");
    assert!(
        resolution["text"]
            .as_str()
            .unwrap()
            .contains("misroute_rate")
    );
    assert_eq!(run(&no_misroute), 3, "announced once");
}

#[test]
fn a_server_that_is_down_exits_2_and_leaves_the_state_alone() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("down");
    let config = config(&scratch, "cfg.toml", free_port(), "", None);
    let state = scratch.write("state.json", "{\n  \"alerts\": {}\n}\n");
    let before = std::fs::read(&state).unwrap();
    let output = alerts(&config, &state, &[], None);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("could not send the alert email via 127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("after 2 attempt(s)"), "{err}");
    assert!(err.contains("retrying"), "a retry was made: {err}");
    assert_eq!(std::fs::read(&state).unwrap(), before, "state unchanged");

    // run writes the report before mailing, so a mail failure never loses it.
    let out = scratch.join("reports");
    let output = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["run", "--data"])
        .arg(golden_dir())
        .args(["--as-of", AS_OF, "--email", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(out.join("2026-11-16/index.html").is_file());
    assert!(!out.join("alert-state.json").exists());
}

#[test]
fn a_wrong_password_is_an_authentication_error_that_never_shows_the_password() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("auth");
    let server = Server::start(&scratch, Some("alerts:s3cret-Pass"));
    let config = config(&scratch, "cfg.toml", server.port, "", Some("alerts"));
    let state = scratch.join("state.json");
    let wrong = "wr0ng-Secret-42";
    let output = alerts(&config, &state, &[], Some(wrong));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("authentication failed for user alerts"),
        "{err}"
    );
    assert!(err.contains("$L2LENS_TEST_SMTP_PASSWORD"), "{err}");
    assert!(!err.contains(wrong) && !String::from_utf8_lossy(&output.stdout).contains(wrong));
    assert!(!state.exists());
    assert!(server.messages().is_empty());

    let missing = alerts(&config, &state, &[], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("L2LENS_TEST_SMTP_PASSWORD"),
        "{}",
        stderr(&missing)
    );

    let right = alerts(&config, &state, &[], Some("s3cret-Pass"));
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    assert_eq!(server.messages().len(), 1);
    assert!(!stderr(&right).contains("s3cret-Pass"));
}

#[test]
fn a_dry_run_prints_the_email_and_sends_nothing() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("dry");
    let server = Server::start(&scratch, None);
    let config = config(&scratch, "cfg.toml", server.port, "", None);
    let state = scratch.join("state.json");
    let output = alerts(&config, &state, &["--dry-run"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("dry run: not sent"), "{err}");
    assert!(err.contains("Subject: [l2lens] CRITICAL"), "{err}");
    assert!(err.contains("window_expired"), "{err}");
    assert!(server.messages().is_empty());
    assert!(!state.exists());
}

#[test]
fn starttls_with_a_private_ca_and_a_refused_unknown_certificate() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("starttls");
    // A private CA, and a server certificate it signs for 127.0.0.1.
    let (ca, ca_key) = (scratch.join("ca.pem"), scratch.join("ca.key"));
    let (cert, key, csr) = (
        scratch.join("cert.pem"),
        scratch.join("key.pem"),
        scratch.join("leaf.csr"),
    );
    let ext = scratch.write(
        "leaf.ext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    );
    let openssl = |args: Vec<&std::ffi::OsStr>| {
        let made = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    openssl(vec![
        os("req"),
        os("-x509"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-days"),
        os("1"),
        os("-subj"),
        os("/CN=l2lens test CA"),
        os("-keyout"),
        ca_key.as_os_str(),
        os("-out"),
        ca.as_os_str(),
    ]);
    openssl(vec![
        os("req"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-subj"),
        os("/CN=127.0.0.1"),
        os("-keyout"),
        key.as_os_str(),
        os("-out"),
        csr.as_os_str(),
    ]);
    openssl(vec![
        os("x509"),
        os("-req"),
        os("-in"),
        csr.as_os_str(),
        os("-CA"),
        ca.as_os_str(),
        os("-CAkey"),
        ca_key.as_os_str(),
        os("-CAcreateserial"),
        os("-days"),
        os("1"),
        os("-extfile"),
        ext.as_os_str(),
        os("-out"),
        cert.as_os_str(),
    ]);
    let server = Server::start_with(&scratch, Some("alerts:tls-Pass"), Some((&cert, &key)));
    let state = scratch.join("state.json");

    // Trusting the certificate: the mail goes through STARTTLS and AUTH.
    let trusted = config_with(
        &scratch,
        "trusted.toml",
        server.port,
        "",
        Some("alerts"),
        &format!("security = \"starttls\"\nca_file = \"{}\"\n", ca.display()),
    );
    let output = alerts(&trusted, &state, &[], Some("tls-Pass"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.messages().len(), 1);

    // Without the CA the certificate is refused: nothing is sent in the clear instead.
    std::fs::remove_file(&state).unwrap();
    let untrusted = config_with(
        &scratch,
        "untrusted.toml",
        server.port,
        "",
        Some("alerts"),
        "security = \"starttls\"\n",
    );
    let output = alerts(&untrusted, &state, &[], Some("tls-Pass"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("could not send"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn the_report_email_carries_the_findings_in_both_parts_and_the_chart_inline() {
    if !have_aiosmtpd() {
        return;
    }
    let scratch = Scratch::new("mail-report");
    let server = Server::start(&scratch, None);
    let config = config(&scratch, "cfg.toml", server.port, "", None);
    let out = scratch.join("reports");
    let output = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["run", "--data"])
        .arg(golden_dir())
        .args(["--as-of", AS_OF, "--email-report", "-q", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "only the report email (no --email)");
    let m = &messages[0];
    let subject = m["subject"].as_str().unwrap();
    assert!(
        subject.contains("L2 report, week starting 2026-11-16") && subject.contains("critical"),
        "{subject}"
    );
    assert_eq!(m["content_type"], "multipart/alternative");
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    // The findings, in both parts, in the same order, as on the report page.
    let page = std::fs::read_to_string(out.join("2026-11-16/index.html")).unwrap();
    let sentences: Vec<String> = page
        .split("<li class=\"finding ")
        .skip(1)
        .map(|li| {
            let a = &li[li.find("<a href=").unwrap()..];
            let a = &a[a.find('>').unwrap() + 1..];
            a[..a.find("</a>").unwrap()]
                .replace("&#60;", "<")
                .replace("&#62;", ">")
        })
        .collect();
    assert!((1..=5).contains(&sentences.len()), "{sentences:?}");
    let mut last = 0;
    for s in &sentences {
        let at = text
            .find(s.as_str())
            .unwrap_or_else(|| panic!("{s} not in\n{text}"));
        assert!(at >= last, "the report's order");
        last = at;
        let escaped = s.replace('<', "&#60;").replace('>', "&#62;");
        assert!(html.contains(&escaped), "{s} not in the HTML part");
    }
    // The headline, and the link to the report.
    assert!(text.contains("First response (median): "), "{text}");
    assert!(text.contains("2026-11-16/index.html"), "{text}");
    // The chart inline: the HTML names it by Content-ID, a related part carries the PNG.
    assert!(html.contains("src=\"cid:headline-chart\""), "{html}");
    let related = m["related"].as_array().unwrap();
    assert_eq!(related[0]["content_type"], "text/html");
    assert!(
        related.iter().any(|p| p["content_type"] == "image/png"
            && p["content_id"]
                .as_str()
                .unwrap_or_default()
                .contains("headline-chart")),
        "{related:?}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no remote resource"
    );
}
