//! Alerts and the HTML report through the built binary: exit codes, the golden fixture's cards
//! and table, escaping, charts, reproducibility, and a real browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, golden_dir, l2lens, stderr};

pub(crate) const AS_OF: &str = "2026-11-25T00:00:00Z";

/// A config that lets the golden fixture's small cohorts alert.
pub(crate) fn small_cohorts(dir: &Scratch, extra: &str) -> PathBuf {
    dir.write("l2lens.toml", format!("[alerts]\nmin_n = 1\n{extra}"))
}

pub(crate) fn report(data: &Path, config: Option<&Path>, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "report",
        "--data",
        data.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    if let Some(c) = config {
        args.extend(["--config", c.to_str().unwrap()]);
    }
    args.extend_from_slice(extra);
    let output = l2lens(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let index = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    assert!(
        index.ends_with("2026-11-16/index.html"),
        "{}",
        index.display()
    );
    index
}

/// The alerts on a page's cards (one row per group in breach): (metric, group, severity), in
/// page order.
fn cards(html: &str) -> Vec<(String, String, String)> {
    html.split("<tr class=\"breach ")
        .skip(1)
        .map(|s| {
            let attr = |name: &str| {
                let start = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                s[start..start + s[start..].find('"').unwrap()].to_owned()
            };
            (
                attr("data-metric"),
                attr("data-group"),
                attr("data-severity"),
            )
        })
        .collect()
}

/// The cells of the metric table row of `group`, keyed by the column headers:
/// (header, cell class, cell text).
pub(crate) fn table_row(html: &str, group: &str) -> Vec<(String, String, String)> {
    let html = &html[html.find("id=\"metric-table\"").unwrap()..];
    let headers = crate::util::metric_headers(html);
    let marker = format!("<tr data-group=\"{group}\">");
    let row = &html[html
        .find(&marker)
        .unwrap_or_else(|| panic!("no row {group}"))..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cells: Vec<(String, String)> = row
        .split("<td class=\"")
        .skip(2)
        .map(|td| {
            let class = td[..td.find('"').unwrap()].to_owned();
            let text = &td[td.find('>').unwrap() + 1..];
            (class, text[..text.find("</td>").unwrap()].to_owned())
        })
        .collect();
    assert_eq!(headers.len(), cells.len());
    headers
        .into_iter()
        .zip(cells)
        .map(|(h, (c, t))| (h, c, t))
        .collect()
}

fn cell<'a>(row: &'a [(String, String, String)], metric: &str) -> (&'a str, &'a str) {
    let (_, class, text) = row.iter().find(|(h, _, _)| h == metric).unwrap();
    (class, text)
}

#[test]
fn alerts_exit_codes_follow_the_fail_level() {
    let scratch = Scratch::new("alerts-exit");
    let golden = golden_dir();
    let data = golden.to_str().unwrap();
    let run = |config: Option<&Path>, fail_on: &str| {
        let mut args = vec![
            "alerts",
            "--data",
            data,
            "--as-of",
            AS_OF,
            "--fail-on",
            fail_on,
        ];
        if let Some(c) = config {
            args.extend(["--config", c.to_str().unwrap()]);
        }
        let output = l2lens(&args);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        (output.status.code(), json)
    };
    // Default min_n (20): the fixture's cohorts are too small to alert.
    let (code, json) = run(None, "warning");
    assert_eq!(code, Some(0));
    assert_eq!(json["alerts"].as_array().unwrap().len(), 0);
    assert_eq!(json["period_start"], "2026-11-16");

    let config = small_cohorts(&scratch, "");
    let (code, json) = run(Some(&config), "critical");
    assert_eq!(code, Some(1), "criticals reach the default fail level");
    let alerts = json["alerts"].as_array().unwrap();
    assert_eq!(alerts[0]["severity"], "critical", "critical first");

    // With every critical level off, only warnings remain.
    let off: String = [
        "frt_median_s",
        "tts_median_s",
        "window_expired",
        "escalation_rate",
        "bot_trap_index",
        "misroute_rate",
        "transfers_per_resolution",
        "art_median_s",
        "reopen_48h_rate",
        "context_completeness_rate",
        "duplicate_rate",
        "ownerless_rate",
        "ping_pong_rate",
        "missed_handoff_rate",
        "template_blocked_sends",
        "silent_stall_rate",
        "brief_missing_rate",
    ]
    .iter()
    .map(|m| format!("[alerts.metrics.{m}]\ncritical = \"off\"\n"))
    .collect();
    let config = scratch.write("warnings.toml", format!("[alerts]\nmin_n = 1\n{off}\n[alerts.lanes.vip_fast_lane.tts_median_s]\ncritical = \"off\"\n"));
    assert_eq!(run(Some(&config), "critical").0, Some(0));
    assert_eq!(run(Some(&config), "warning").0, Some(1));

    // Errors are 2.
    let missing = l2lens(&[
        "alerts",
        "--data",
        scratch.join("nothing").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("does not exist"));
    let bad_week = l2lens(&["alerts", "--data", data, "--week", "2026-W99"]);
    assert_eq!(bad_week.status.code(), Some(2));
    assert!(
        stderr(&bad_week).contains("has no week 99"),
        "{}",
        stderr(&bad_week)
    );
}

#[test]
fn alerts_json_names_the_conversations_behind_each_alert() {
    let scratch = Scratch::new("alerts-json");
    let config = small_cohorts(&scratch, "");
    let out = scratch.join("alerts.json");
    let output = l2lens(&[
        "alerts",
        "--data",
        golden_dir().to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let find = |metric: &str, group: &str| {
        json["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["metric"] == metric && a["group"] == group)
            .unwrap_or_else(|| panic!("no alert {metric} {group}"))
            .clone()
    };
    let ids = |a: &serde_json::Value| -> Vec<String> {
        a["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let expired = find("window_expired", "ALL");
    assert_eq!(expired["severity"], "critical");
    assert_eq!(expired["threshold"], "> 0");
    assert_eq!(expired["value"], 2.0);
    assert_eq!(expired["n"], 5);
    // c04 has been silent since 2026-11-16 13:00, c10 since 2026-11-21 09:00.
    assert_eq!(ids(&expired), vec!["c04", "c10"]);
    let misroute = find("misroute_rate", "ALL");
    assert_eq!(misroute["severity"], "critical");
    let mut m = ids(&misroute);
    m.sort();
    assert_eq!(m, vec!["c03", "c04"]);
    let context = find("context_completeness_rate", "ALL");
    assert_eq!(ids(&context).len(), 5, "9 handoffs, 4 complete");
    assert_eq!(ids(&context)[0], "c04", "no brief at all (score 0) first");
    let trap = find("bot_trap_index", "ALL");
    assert_eq!(trap["severity"], "warning");
    assert_eq!(ids(&trap), vec!["c01"]);
    let frt = find("frt_median_s", "general");
    assert_eq!(frt["severity"], "critical");
    assert_eq!(ids(&frt), vec!["c07", "c11"], "slowest first");
    let escalation = find("escalation_rate", "ALL");
    assert_eq!(escalation["threshold"], "< 0.05 or > 0.1");
    assert_eq!(ids(&escalation).len(), 7, "too many: the escalated ones");
}

#[test]
fn golden_report_has_the_expected_cards_and_table() {
    let scratch = Scratch::new("golden-report");
    let config = small_cohorts(&scratch, "");
    let index = report(&golden_dir(), Some(&config), &scratch.join("out"), &[]);
    let html = std::fs::read_to_string(&index).unwrap();
    let found = cards(&html);
    let has = |m: &str, g: &str, s: &str| found.iter().any(|c| c.0 == m && c.1 == g && c.2 == s);
    assert!(has("window_expired", "ALL", "critical"));
    assert!(has("misroute_rate", "ALL", "critical"));
    assert!(has("reopen_48h_rate", "ALL", "critical"));
    assert!(has("context_completeness_rate", "ALL", "critical"));
    assert!(has("window_risk_rate", "ALL", "warning"));
    assert!(has("bot_trap_index", "ALL", "warning"));
    assert!(has("escalation_rate", "ALL", "warning"));
    assert!(
        !found
            .iter()
            .any(|c| c.0 == "escalation_rate" && c.1 != "ALL")
    );
    assert!(
        !found.iter().any(|c| c.0 == "frt_median_s" && c.1 == "ALL"),
        "3.5 s is fine"
    );
    // One card per metric: its alerts together, ALL first, then critical before warning.
    let metrics: Vec<&str> = html
        .split("<section class=\"card ")
        .skip(1)
        .map(|s| {
            let at = s.find("data-metric=\"").unwrap() + 13;
            &s[at..at + s[at..].find('"').unwrap()]
        })
        .collect();
    let mut distinct = metrics.clone();
    distinct.dedup();
    assert_eq!(metrics, distinct, "one card per metric");
    for m in &metrics {
        let of: Vec<&(String, String, String)> = found.iter().filter(|c| c.0 == *m).collect();
        let groups: Vec<&str> = of
            .iter()
            .map(|c| c.1.as_str())
            .filter(|g| *g != "ALL")
            .collect();
        let severities: Vec<&str> = of
            .iter()
            .filter(|c| c.1 != "ALL")
            .map(|c| c.2.as_str())
            .collect();
        let mut sorted = severities.clone();
        sorted.sort_by_key(|s| *s != "critical");
        assert_eq!(severities, sorted, "{m}: {groups:?}");
    }
    // Every alert of alerts.json is on the page exactly once.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(index.parent().unwrap().join("alerts.json")).unwrap(),
    )
    .unwrap();
    let mut listed: Vec<(String, String, String)> = json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["metric"].as_str().unwrap().to_owned(),
                a["group"].as_str().unwrap().to_owned(),
                a["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut shown = found.clone();
    listed.sort();
    shown.sort();
    assert_eq!(shown, listed);

    let all = table_row(&html, "ALL");
    assert_eq!(
        cell(&all, "frt_median_s"),
        ("ok", "3.5 s<small>n=14</small>")
    );
    assert_eq!(
        cell(&all, "window_expired"),
        ("critical", "2<small>n=5</small>")
    );
    assert_eq!(
        cell(&all, "misroute_rate"),
        ("critical", "18.2 %<small>n=11</small>")
    );
    assert_eq!(cell(&all, "art_mean_s").0, "unwatched");
    let tech = table_row(&html, "technical_l2");
    assert_eq!(
        cell(&tech, "tts_median_s"),
        ("ok", "2.8 min<small>n=4</small>")
    );
    let unassigned = table_row(&html, "unassigned");
    assert_eq!(cell(&unassigned, "frt_median_s").0, "empty");
    assert!(html.contains("legacy_queue (1 rows)"), "data-quality line");
    assert!(html.contains("Data as of 2026-11-25T00:00:00Z"));

    // Without the small-cohort config the same values are shown, but nothing alerts.
    let plain = report(&golden_dir(), None, &scratch.join("plain"), &[]);
    let plain = std::fs::read_to_string(plain).unwrap();
    assert!(cards(&plain).is_empty());
    assert_eq!(
        cell(&table_row(&plain, "ALL"), "window_expired"),
        ("few", "2<small>n=5</small>")
    );
}

#[test]
fn strings_from_the_data_are_escaped() {
    let scratch = Scratch::new("escape");
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".csv") && name != "expected_metrics.csv" {
            std::fs::copy(&path, scratch.join(&name)).unwrap();
        }
    }
    let evil_lane = "<script>alert(1)</script>";
    let evil_intent = "<img src=x onerror=alert(2)>";
    let mut conversations = std::fs::read_to_string(scratch.join("conversations.csv")).unwrap();
    conversations = conversations.replace(",order_status,", &format!(",{evil_intent},"));
    std::fs::write(scratch.join("conversations.csv"), conversations).unwrap();
    let mut assignments = std::fs::read_to_string(scratch.join("assignments.csv")).unwrap();
    assignments = assignments.replace("legacy_queue", evil_lane);
    std::fs::write(scratch.join("assignments.csv"), assignments).unwrap();
    let config = small_cohorts(&scratch, "");
    for by in ["lane", "intent"] {
        let index = report(
            scratch.path(),
            Some(&config),
            &scratch.join(&format!("out-{by}")),
            &["--by", by],
        );
        // Entities may be named or numeric: compare in one spelling.
        let html = std::fs::read_to_string(index)
            .unwrap()
            .replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;");
        assert!(
            !html.contains("<script"),
            "by {by}: raw <script> in the page"
        );
        assert!(
            !html.contains("<img src=x"),
            "by {by}: raw <img> in the page"
        );
        assert!(!html.contains("onerror=alert(2)>"), "by {by}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "by {by}: the lane shows as text"
        );
        if by == "intent" {
            assert!(
                html.contains("&lt;img src=x onerror=alert(2)&gt;"),
                "the intent shows as text"
            );
        }
    }
}

#[test]
fn charts_decode_at_their_size_and_reruns_are_identical() {
    let scratch = Scratch::new("rerun");
    let config = small_cohorts(&scratch, "");
    let out = scratch.join("out");
    let index = report(&golden_dir(), Some(&config), &out, &["--weeks-back", "4"]);
    let dir = index.parent().unwrap().to_owned();
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for sub in ["", "charts"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
                    let mut bytes = std::fs::read(&path).unwrap();
                    if name.ends_with("index.html") {
                        let text = String::from_utf8(bytes).unwrap();
                        let start = text.find(" · generated ").unwrap();
                        let end = start + text[start..].find("</div>").unwrap();
                        bytes = format!("{}{}", &text[..start], &text[end..]).into_bytes();
                    }
                    files.push((name, bytes));
                }
            }
        }
        files.sort();
        files
    };
    let first = snapshot(&dir);
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"/alerts.json") && names.contains(&"/metrics.csv"));
    let pngs: Vec<_> = first.iter().filter(|(n, _)| n.ends_with(".png")).collect();
    assert_eq!(
        pngs.len(),
        46,
        "one chart per metric: the ten (15 ids), 11-12 (3), G1-G8, the five text metrics, the \
         eight of calls, identity and cost and the seven of bot outcomes (no SLA without [sla])"
    );
    for (name, bytes) in &pngs {
        let image = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((image.width(), image.height()), (760, 380), "{name}");
    }
    report(&golden_dir(), Some(&config), &out, &["--weeks-back", "4"]);
    assert!(first == snapshot(&dir), "a rerun writes the same files");
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, vec!["2026-11-16"]);
    // metrics.csv holds the periods the charts show (4 weeks ending 2026-11-16).
    let csv = String::from_utf8(
        first
            .iter()
            .find(|(n, _)| n == "/metrics.csv")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(csv.starts_with("period_start,lane,metric,value,n\n"));
    assert!(csv.contains("\n2026-11-09,ALL,frt_median_s,1.0,1\n"));
    assert!(!csv.contains("2026-11-23,"));
}

#[test]
fn run_writes_the_report_with_no_arguments_but_data_and_out() {
    let scratch = Scratch::new("run");
    let out = scratch.join("reports");
    let output = l2lens(&[
        "run",
        "--data",
        "sample_data",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let index = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(index.is_file());
    let talk = stderr(&output);
    assert!(
        talk.contains("conversations.csv"),
        "the ingest summary: {talk}"
    );
    assert!(talk.contains("alert(s)"), "{talk}");
    let failing = l2lens(&[
        "run",
        "--data",
        "sample_data",
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "warning",
        "-q",
    ]);
    assert_eq!(failing.status.code(), Some(1), "the sample has warnings");
}

/// The Chromium binary, if any.
pub(crate) fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Loads a page in headless Chromium; returns the screenshot and the console lines.
pub(crate) fn load_in_browser(
    browser: &Path,
    page: &Path,
    scratch: &Scratch,
) -> (image::RgbImage, Vec<String>) {
    let shot = scratch.join("shot.png");
    let _ = std::fs::remove_file(&shot);
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1800",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let image = image::open(&shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said:\n{log}"))
        .to_rgb8();
    (image, console)
}

#[test]
fn a_real_browser_loads_the_report_cleanly() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing: scripts/test.sh installs it (apt-get install chromium)");
        }
        eprintln!("skipped: no chromium on this machine (scripts/test.sh installs it)");
        return;
    };
    let scratch = Scratch::new("browser");
    let config = small_cohorts(&scratch, "");
    let index = report(&golden_dir(), Some(&config), &scratch.join("out"), &[]);
    let html = std::fs::read_to_string(&index).unwrap();

    // Self-contained: every linked resource is a relative file that exists.
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            assert!(!target.contains("//"), "remote resource {target}");
            // A link within the page leads to an element that exists.
            if let Some(anchor) = target.strip_prefix('#') {
                assert!(html.contains(&format!("id=\"{anchor}\"")), "no #{anchor}");
                continue;
            }
            assert!(
                index.parent().unwrap().join(target).is_file(),
                "missing {target}"
            );
        }
    }

    let (shot, console) = load_in_browser(&browser, &index, &scratch);
    assert!(console.is_empty(), "console messages: {console:#?}");
    let inked = shot
        .pixels()
        .filter(|p| p.0.iter().any(|c| *c < 200))
        .count();
    let total = (shot.width() * shot.height()) as usize;
    assert!(
        inked * 50 > total,
        "the screenshot is nearly blank ({inked} of {total} pixels)"
    );

    // The same check does see console errors: a broken page fails it.
    let broken = scratch.write(
        "broken.html",
        "<html><body><script>missingFunction();</script></body></html>",
    );
    let (_, console) = load_in_browser(&browser, &broken, &scratch);
    assert!(
        console.iter().any(|l| l.contains("missingFunction")),
        "{console:?}"
    );
}

/// What the probe script measures on a page in the browser, as `--dump-dom` prints it.
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var visible = function (el) { return !el.closest('details:not([open])'); };
  var first = null;
  document.querySelectorAll('table').forEach(function (t) {
    if (first === null && visible(t) && t.querySelectorAll('tbody tr').length >= 5) {
      first = Math.round(t.getBoundingClientRect().top + window.scrollY);
    }
  });
  var titles = [];
  document.querySelectorAll('h1, h2, h3, th, .tile .name, figcaption, .finding a').forEach(function (el) {
    var copy = el.cloneNode(true);
    copy.querySelectorAll('small').forEach(function (s) { s.remove(); });
    titles.push(copy.textContent.trim());
  });
  var broken = 0, images = 0;
  document.querySelectorAll('img').forEach(function (img) {
    images += 1;
    if (!img.complete || img.naturalWidth === 0) { broken += 1; }
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({ first_table_top: first, titles: titles, images: images, broken: broken });
  document.body.appendChild(out);
});
</script>"#;

#[test]
fn in_a_browser_the_sample_report_puts_a_table_near_the_top_in_names_for_people() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing: scripts/test.sh installs it (apt-get install chromium)");
        }
        eprintln!("skipped: no chromium on this machine (scripts/test.sh installs it)");
        return;
    };
    let scratch = Scratch::new("browser-budget");
    let out = l2lens(&[
        "run",
        "--data",
        "sample_data",
        "--out",
        scratch.join("out").to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    let index = std::fs::read_dir(scratch.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path().join("index.html"))
        .find(|p| p.is_file())
        .expect("a report");
    let html = std::fs::read_to_string(&index).unwrap();
    // The probe runs on a copy beside the page (the page itself has no script).
    assert!(!html.contains("<script"));
    let probe = index.with_file_name("probe.html");
    std::fs::write(&probe, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let dom = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .arg(format!("file://{}", probe.display()))
        .output()
        .expect("start chromium");
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    let at = dom.find("<pre id=\"probe\">").expect("the probe ran") + 16;
    let json = &dom[at..at + dom[at..].find("</pre>").unwrap()];
    let result: serde_json::Value =
        serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&"))
            .unwrap_or_else(|e| panic!("{e}: {json}"));
    // The budget: the first visible table of five or more rows within 2,000 px of the top.
    let top = result["first_table_top"].as_i64().expect("a visible table");
    assert!(top <= 2000, "the first table starts at {top} px");
    // Names for people: no title is a metric id.
    let ids: Vec<&str> = l2lens::metrics::all_metrics().map(|m| m.id).collect();
    for title in result["titles"].as_array().unwrap() {
        let title = title.as_str().unwrap();
        for id in &ids {
            assert!(
                !title
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == *id),
                "the id {id} is a visible title: {title}"
            );
        }
    }
    // Every chart loads.
    assert!(result["images"].as_u64().unwrap() > 10, "{result}");
    assert_eq!(result["broken"].as_u64(), Some(0), "{result}");
    // The findings come first: at most five, each linked to its card.
    let findings = html.matches("<li class=\"finding ").count();
    assert!((1..=5).contains(&findings), "{findings} findings");
}
