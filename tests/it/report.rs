//! Alerts and the HTML report through the built binary: exit codes, the golden fixture's cards
//! and table, escaping, charts, reproducibility, and a real browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, golden_dir, l2lens, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

/// A config that lets the golden fixture's small cohorts alert.
fn small_cohorts(dir: &Scratch, extra: &str) -> PathBuf {
    dir.write("l2lens.toml", format!("[alerts]\nmin_n = 1\n{extra}"))
}

fn report(data: &Path, config: Option<&Path>, out: &Path, extra: &[&str]) -> PathBuf {
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

/// The alert cards of a page: (metric, group, severity), in page order.
fn cards(html: &str) -> Vec<(String, String, String)> {
    html.split("<section class=\"card ")
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
fn table_row(html: &str, group: &str) -> Vec<(String, String, String)> {
    let html = &html[html.find("id=\"metric-table\"").unwrap()..];
    let head = &html[html.find("<thead>").unwrap()..html.find("</thead>").unwrap()];
    // Skip what precedes the first header cell, `<thead>` itself and the group column.
    let headers: Vec<String> = head
        .split("<th")
        .skip(3)
        .map(|th| {
            let text = &th[th.find('>').unwrap() + 1..];
            text[..text.find('<').unwrap()].to_owned()
        })
        .collect();
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
    let first_warning = found.iter().position(|c| c.2 == "warning").unwrap();
    assert!(found[..first_warning].iter().all(|c| c.2 == "critical"));
    assert!(found[first_warning..].iter().all(|c| c.2 == "warning"));

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
        26,
        "one chart per metric: the ten (15 ids), 11-12 (3) and G1-G8"
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
fn chromium() -> Option<PathBuf> {
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
fn load_in_browser(
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

/// A copy of the governance fixture with a hostile owner and lane on g01's assignments, and
/// optionally without its templates table.
fn hostile_governance(scratch: &Scratch, templates: bool) -> PathBuf {
    let fixture = crate::util::fixture("governance");
    let dir = scratch.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "conversations.csv",
        "messages.csv",
        "handoffs.csv",
        "l2lens.toml",
        "templates.csv",
    ] {
        if name != "templates.csv" || templates {
            std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
        }
    }
    let assignments = std::fs::read_to_string(fixture.join("assignments.csv"))
        .unwrap()
        .lines()
        .map(|line| {
            if line.starts_with("g01,") {
                line.replace("agent-01", "<img src=x onerror=alert(1)>")
                    .replace("general", "<script>alert(2)</script>")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("assignments.csv"), assignments + "\n").unwrap();
    dir
}

#[test]
fn the_governance_section_and_the_board_page_render_and_escape() {
    let scratch = Scratch::new("governance-report");
    let data = hostile_governance(&scratch, true);
    let index = report(&data, None, &scratch.join("out"), &["--week", "2026-W47"]);
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("id=\"governance-table\""));
    assert!(html.contains("<a href=\"board.html\">Board: 6 open conversation(s)</a>"));
    assert!(html.contains("id=\"templates-table\""));
    assert!(html.contains("<td class=\"group\">tpl_paused</td>"));
    let board = std::fs::read_to_string(index.with_file_name("board.html")).unwrap();
    assert!(!board.contains("<img src=x") && !board.contains("<script>alert"));
    assert!(
        board.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "the owner, escaped"
    );
    assert!(
        board.contains("&#60;script&#62;alert(2)&#60;/script&#62;"),
        "the lane, escaped"
    );
    // Urgent first, with badges and counts per flag.
    let first_row = &board[board.find("<tbody>").unwrap()..];
    assert!(first_row[..first_row.find("</tr>").unwrap()].contains("data-id=\"g02\""));
    assert!(board.contains("<span class=\"badge window_expired\">window_expired</span>"));
    assert!(board.contains("data-flag=\"stalled\"><b>2</b>stalled"));
    let csv = std::fs::read_to_string(index.with_file_name("board.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        7,
        "a header and six open conversations"
    );

    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing: scripts/test.sh installs it (apt-get install chromium)");
        }
        eprintln!("skipped the browser half: no chromium on this machine");
        return;
    };
    for page in [index.clone(), index.with_file_name("board.html")] {
        let (shot, console) = load_in_browser(&browser, &page, &scratch);
        assert!(console.is_empty(), "{}: {console:#?}", page.display());
        let inked = shot
            .pixels()
            .filter(|p| p.0.iter().any(|c| *c < 200))
            .count();
        assert!(inked > 5_000, "{} is nearly blank", page.display());
    }
}

#[test]
fn a_report_without_template_history_says_so() {
    let scratch = Scratch::new("no-template-report");
    let data = hostile_governance(&scratch, false);
    let index = report(&data, None, &scratch.join("out"), &["--week", "2026-W47"]);
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("id=\"no-templates\""));
    assert!(html.contains("template_blocked_sends: no template status history in the data"));
    assert!(!html.contains("id=\"templates-table\""));
}

#[test]
fn a_historical_export_reports_its_latest_period_with_data_and_says_so() {
    let scratch = Scratch::new("historical");
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for table in ["conversations", "messages", "assignments", "handoffs"] {
        std::fs::copy(
            golden_dir().join(format!("{table}.csv")),
            data.join(format!("{table}.csv")),
        )
        .unwrap();
    }
    // One straggling brief two months later moves as_of, and the week before it is empty.
    let mut handoffs = std::fs::read_to_string(data.join("handoffs.csv")).unwrap();
    let id = handoffs
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    handoffs.push_str(&format!("{id},2027-01-20T10:00:00Z,late,,,,\n"));
    std::fs::write(data.join("handoffs.csv"), handoffs).unwrap();
    let out = l2lens(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--out",
        scratch.join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("(2027-01-11) has no conversations; showing the latest week with data, starting 2026-11-23"),
        "{err}"
    );
    let index = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        index.ends_with("2026-11-23/index.html"),
        "{}",
        index.display()
    );
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("id=\"period-note\""));

    // An explicit period without data says so in one line instead of an empty grid; any period
    // kind takes --period-start.
    let out = l2lens(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--out",
        scratch.join("out").to_str().unwrap(),
        "--period",
        "month",
        "--period-start",
        "2025-03-14",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("The month starting 2025-03-01 has no conversations"));
    let index = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        index.ends_with("2025-03-01/index.html"),
        "{}",
        index.display()
    );
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("id=\"empty-period\"") && !html.contains("id=\"metric-table\""));
}

#[test]
fn seven_hundred_lanes_render_quickly_with_the_small_ones_folded() {
    let scratch = Scratch::new("many-lanes");
    let mut conversations =
        String::from("conversation_id,customer_id,channel,segment,intent,opened_at,closed_at\n");
    let mut messages = String::from(
        "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name\n",
    );
    let mut assignments = String::from("conversation_id,assigned_at,lane,assignee_id,reason\n");
    for i in 0..2_100 {
        // lane_000 gets the first 100 conversations and every lane two or three more, so the
        // largest lane is clear.
        let lane = if i < 100 { 0 } else { i % 700 };
        conversations.push_str(&format!(
            "c{i},cus{i},whatsapp,pro,billing,2026-11-17T10:00:00Z,2026-11-17T12:00:00Z\n"
        ));
        messages.push_str(&format!(
            "m{i}a,c{i},2026-11-17T10:00:00Z,customer,text,,billing,\n\
             m{i}b,c{i},2026-11-17T10:05:00Z,agent,text,,,\n"
        ));
        assignments.push_str(&format!(
            "c{i},2026-11-17T10:01:00Z,lane_{lane:03},agent_{i},initial\n"
        ));
    }
    let data = scratch.join("data");
    scratch.write("data/conversations.csv", conversations);
    scratch.write("data/messages.csv", messages);
    scratch.write("data/assignments.csv", assignments);
    scratch.write(
        "data/handoffs.csv",
        "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\n",
    );
    let started = std::time::Instant::now();
    let out = l2lens(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--out",
        scratch.join("out").to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--week",
        "2026-W47",
        "--quiet",
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(took.as_secs_f64() < 5.0, "700 lanes took {took:?}");
    let index = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let html = std::fs::read_to_string(&index).unwrap();
    let shown = &html
        [html.find("id=\"metric-table\"").unwrap()..html.find("id=\"metric-table-more\"").unwrap()];
    assert_eq!(
        shown.matches("<tr data-group=").count(),
        21,
        "ALL and the 20 largest"
    );
    assert!(
        shown.contains("<tr data-group=\"lane_000\">"),
        "the largest lane is shown"
    );
    assert!(html.contains("<summary>680 smaller lane group(s)</summary>"));
}

#[test]
fn the_top_of_the_page_says_what_changed() {
    let scratch = Scratch::new("headline");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let out = l2lens(&[
        "report",
        "--data",
        sample.to_str().unwrap(),
        "--out",
        scratch.join("out").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let index = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let html = std::fs::read_to_string(&index).unwrap();
    // The strip comes before the alerts, with every metric of the ten for ALL.
    let strip = html.find("id=\"headline\"").expect("a headline strip");
    assert!(strip < html.find("<h2>Alerts</h2>").unwrap());
    for id in ["frt_median_s", "escalation_rate", "specialist_rate"] {
        assert!(html.contains(&format!("data-metric=\"{id}\"")), "{id}");
    }
    // Up to five sentences, each with numbers.
    let list = &html[html.find("<ul id=\"what-changed\">").expect("what changed")..];
    let list = &list[..list.find("</ul>").unwrap()];
    let items = list.matches("<li>").count();
    assert!((1..=5).contains(&items), "{items} sentences");
    assert!(list.contains(" from ") && list.contains("(n = "));

    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing: scripts/test.sh installs it (apt-get install chromium)");
        }
        return;
    };
    // Above the fold at 1400 px: the coloured tile edges of the strip are in the first screen.
    let (shot, console) = load_in_browser(&browser, &index, &scratch);
    assert!(console.is_empty(), "{console:#?}");
    let fold = 900.min(shot.height());
    let coloured = (0..fold)
        .flat_map(|y| (0..shot.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = shot.get_pixel(x, y).0;
            p == [0xc0, 0x39, 0x2b] || p == [0x2e, 0x8b, 0x57]
        })
        .count();
    assert!(
        coloured > 200,
        "the strip's coloured edges above the fold: {coloured} pixels"
    );
    // Keep the screenshot for people (not committed).
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = shot.save(artifacts.join("report-top.png"));
}

#[test]
fn the_numbers_on_the_page_are_those_of_metrics_csv() {
    use l2lens::metrics::{find, human};
    let scratch = Scratch::new("page-numbers");
    let index = report(
        &golden_dir(),
        None,
        &scratch.join("out"),
        &["--week", "2026-W47"],
    );
    let html = std::fs::read_to_string(&index).unwrap();
    let csv_text = std::fs::read_to_string(index.with_file_name("metrics.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut checked = 0;
    for record in reader.records() {
        let r = record.unwrap();
        if &r[0] != "2026-11-16" {
            continue;
        }
        let (group, metric) = (&r[1], &r[2]);
        let value: f64 = r[3].parse().unwrap();
        let text = human(value, find(metric).unwrap().unit);
        // The table cell (every metric table has the group's row).
        let cells = table_row(&html, group);
        if let Some((_, _, cell)) = cells.iter().find(|(h, _, _)| h == metric) {
            assert!(
                cell.starts_with(&format!("{text}<small>n={}</small>", &r[4])),
                "{group} {metric}: {cell} vs {text}"
            );
            checked += 1;
        }
        // The headline tile of ALL.
        if group == "ALL" {
            let tile = format!("data-metric=\"{metric}\"");
            if let Some(at) = html.find(&tile) {
                let tile = &html[at..];
                let value = &tile[tile.find("class=\"val\">").unwrap() + 12..];
                assert_eq!(&value[..value.find('<').unwrap()], text, "{metric} tile");
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "checked {checked} numbers");
}
