//! The report's views beyond the metric table: the governance section and board page, the
//! headline and what changed, periods chosen or fallen back to, many groups, and the numbers
//! on the page against metrics.csv.

use std::path::{Path, PathBuf};

use crate::report::{AS_OF, chromium, load_in_browser, report, table_row};
use crate::util::{Scratch, golden_dir, l2lens, stderr};

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
    assert!(board.contains(
        "<span class=\"badge window_expired\" title=\"window_expired\">Past the 24-hour window</span>"
    ));
    assert!(
        board.contains(
            "data-flag=\"stalled\" title=\"stalled\"><b>2</b>Silent past the stall limit"
        )
    );
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
    assert!(strip < html.find("id=\"alerts\"").unwrap());
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
            // A tile: a `data-metric` on a `tile` div (headers and cards have one too).
            let at = html
                .match_indices(&tile)
                .map(|(at, _)| at)
                .find(|&at| html[at.saturating_sub(40)..at].contains("class=\"tile "));
            if let Some(at) = at {
                let tile = &html[at..];
                let value = &tile[tile.find("class=\"val\">").unwrap() + 12..];
                assert_eq!(&value[..value.find('<').unwrap()], text, "{metric} tile");
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "checked {checked} numbers");
}
