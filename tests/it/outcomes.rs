//! Bot outcomes, SLA attainment and `--by owner` through the built binary, on the hand-checked
//! outcomes fixture.

use std::path::Path;

use crate::util::{Scratch, assert_metric_rows, fixture, l2lens, read_csv_rows, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The command `args[0]` on the fixture with its config and as_of, then the rest of `args`;
/// it must succeed.
fn on_fixture(args: &[&str]) -> std::process::Output {
    let (data, config) = (fixture("outcomes"), fixture("outcomes/l2lens.toml"));
    let mut all = vec![
        args[0],
        "-q",
        "--data",
        s(&data),
        "--config",
        s(&config),
        "--as-of",
        AS_OF,
    ];
    all.extend(&args[1..]);
    let run = l2lens(&all);
    assert!(run.status.success(), "{}", stderr(&run));
    run
}

/// `metrics --select all` on the fixture with its config, `--by by`.
fn metrics(scratch: &Scratch, by: &str, config: Option<&Path>) -> Vec<Vec<String>> {
    let out = scratch.join(&format!("metrics-{by}.csv"));
    let default = fixture("outcomes/l2lens.toml");
    let config = config.unwrap_or(&default);
    let run = l2lens(&[
        "metrics",
        "-q",
        "--data",
        s(&fixture("outcomes")),
        "--config",
        s(config),
        "--select",
        "all",
        "--as-of",
        AS_OF,
        "--by",
        by,
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    read_csv_rows(&out)
}

#[test]
fn the_fixture_by_lane_equals_the_hand_checked_values() {
    let scratch = Scratch::new("outcomes-lane");
    let got = metrics(&scratch, "lane", None);
    let expected = read_csv_rows(&fixture("outcomes/expected_metrics.csv"));
    assert_eq!(expected.len(), 93);
    assert_metric_rows(&got, &expected);
}

#[test]
fn the_fixture_by_owner_equals_the_hand_checked_values() {
    let scratch = Scratch::new("outcomes-owner");
    let got = metrics(&scratch, "owner", None);
    let expected = read_csv_rows(&fixture("outcomes/expected_metrics_owner.csv"));
    assert_eq!(expected.len(), 172);
    assert_metric_rows(&got, &expected);
}

#[test]
fn select_sla_alone_gives_the_sla_rows_of_select_all() {
    let scratch = Scratch::new("outcomes-select-sla");
    let all = metrics(&scratch, "lane", None);
    let out = scratch.join("sla.csv");
    let run = l2lens(&[
        "metrics",
        "-q",
        "--data",
        s(&fixture("outcomes")),
        "--select",
        "sla",
        "--as-of",
        AS_OF,
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let sla = read_csv_rows(&out);
    let expected: Vec<Vec<String>> = all
        .into_iter()
        .filter(|r| r[2].starts_with("sla_") || r[0] == "period_start")
        .collect();
    assert!(expected.len() > 10, "{expected:?}");
    assert_eq!(sla, expected);
}

#[test]
fn without_sla_no_sla_metric_exists_and_the_others_are_unchanged() {
    let scratch = Scratch::new("outcomes-nosla");
    // The fixture's config without its [sla] blocks (the schedules after them stay).
    let text = std::fs::read_to_string(fixture("outcomes/l2lens.toml")).unwrap();
    let (before, rest) = text.split_once("[sla]").unwrap();
    let after = &rest[rest.find("[schedules").unwrap()..];
    let config = scratch.write("l2lens.toml", format!("{before}{after}"));
    let without = metrics(&scratch, "lane", Some(&config));
    assert!(!without.iter().any(|r| r[2].starts_with("sla_")));
    let with = metrics(&scratch, "lane", None);
    let others: Vec<&Vec<String>> = with.iter().filter(|r| !r[2].starts_with("sla_")).collect();
    assert_eq!(others.len(), without.len());
    for (a, b) in others.iter().zip(&without) {
        assert_eq!(*a, b);
    }
}

#[test]
fn with_sla_the_board_has_the_due_and_breached_promises() {
    let run = on_fixture(&["board", "--format", "csv"]);
    let text = String::from_utf8_lossy(&run.stdout).into_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(at("sla_due_at"), at("due_at") + 1);
    assert_eq!(at("sla_breached"), at("due_at") + 2);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = |id: &str| rows.iter().find(|r| &r[0] == id).unwrap().clone();
    // o21: never answered, FRT overdue; its resolution is still pending.
    assert_eq!(&row("o21")[at("sla_breached")], "frt");
    assert_eq!(&row("o21")[at("sla_due_at")], "2026-11-25T10:00:00.000Z");
    // o18: FRT, an update and the resolution broken.
    assert_eq!(&row("o18")[at("sla_breached")], "frt;update;resolution");
    // o20: FRT pending, due 00:03 after as_of.
    assert_eq!(&row("o20")[at("sla_due_at")], "2026-11-25T00:03:00.000Z");
    // Without [sla] the board has no SLA columns.
    let plain = l2lens(&[
        "board",
        "-q",
        "--data",
        s(&fixture("golden")),
        "--format",
        "csv",
    ]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("sla_due_at"));
}

/// The report computes only the SLA facts its metrics and board read; its `board.csv` equals
/// the `board` command's, which computes every public column.
#[test]
fn the_reports_board_has_the_same_sla_due_and_breaches_as_the_board_command() {
    let scratch = Scratch::new("outcomes-report-board");
    let board = on_fixture(&["board", "--format", "csv"]);
    let out = scratch.join("report");
    on_fixture(&["report", "--out", s(&out)]);
    let period = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("board.csv").is_file())
        .expect("a period folder with board.csv");
    let from_report = std::fs::read_to_string(period.join("board.csv")).unwrap();
    let from_board = String::from_utf8_lossy(&board.stdout);
    assert!(from_report.contains("frt;update;resolution"));
    assert_eq!(from_report, from_board);
}

/// The facts table has every public SLA column of the spec, in order, states and clocks
/// spelled out, and none of the board's internal state.
#[test]
fn the_facts_table_has_the_public_sla_columns_in_order() {
    let scratch = Scratch::new("outcomes-facts");
    let out = scratch.join("facts.csv");
    on_fixture(&["facts", "--out", s(&out)]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = read_csv_rows(&out);
    let sla: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| h.starts_with("sla_"))
        .collect();
    let mut expected: Vec<String> = Vec::new();
    for p in ["frt", "human_frt", "tts", "resolution"] {
        for what in [
            "target_s",
            "clock",
            "due_at",
            "state",
            "breach",
            "overshoot_s",
            "settled_at",
        ] {
            expected.push(format!("sla_{p}_{what}"));
        }
    }
    for what in ["hits", "breaches", "pending_due_at", "max_overshoot_s"] {
        expected.push(format!("sla_update_{what}"));
    }
    assert_eq!(sla, expected);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows.iter().find(|r| r[0] == "o21").unwrap();
    assert_eq!(row[column("sla_frt_state")], "breach");
    assert_eq!(row[column("sla_frt_clock")], "calendar");
    assert_eq!(row[column("sla_resolution_state")], "pending");
}

/// The metric ids of the columns of the table `id` of a report page.
fn table_headers(html: &str, id: &str) -> Vec<String> {
    let at = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    crate::util::metric_headers(&html[at..])
}

/// The groups of the rows of the table `id` (shown, not folded), in page order.
fn table_groups(html: &str, id: &str) -> Vec<String> {
    let html = &html[html.find(&format!("<table id=\"{id}\"")).unwrap()..];
    let body = &html[..html.find("</table>").unwrap()];
    body.split("<tr data-group=\"")
        .skip(1)
        .map(|r| r[..r.find('"').unwrap()].to_owned())
        .collect()
}

#[test]
fn the_report_by_owner_splits_own_work_from_the_cases_last_held() {
    let scratch = Scratch::new("outcomes-report-owner");
    let index = crate::report::report(
        &fixture("outcomes"),
        Some(&fixture("outcomes/l2lens.toml")),
        &scratch.join("out"),
        &["--by", "owner"],
    );
    let html = std::fs::read_to_string(index).unwrap();
    // Charged to whoever held the thread.
    assert_eq!(
        table_headers(&html, "owner-own-table"),
        ["silent_stall_rate", "sla_update_hit_rate"]
    );
    // On the cases each owner last held, waits before they held them included.
    let held = table_headers(&html, "metric-table");
    for id in [
        "frt_median_s",
        "human_frt_median_s",
        "tts_median_s",
        "ownerless_rate",
        "brief_missing_rate",
        "sla_frt_hit_rate",
        "sla_resolution_hit_rate",
    ] {
        assert!(held.iter().any(|h| h == id), "{id} in {held:?}");
    }
    // Restating the owner rule, or charged to the holder: not here.
    for id in [
        "escalation_rate",
        "bot_trap_index",
        "silent_stall_rate",
        "sla_update_hit_rate",
        "bot_resolution_rate",
    ] {
        assert!(!held.iter().any(|h| h == id), "{id} in {held:?}");
    }
    assert!(html.contains("On cases this owner last held by owner"));
    assert!(!html.contains("id=\"sla-table\"") && !html.contains("id=\"governance-table\""));
    let owners = table_groups(&html, "metric-table");
    assert_eq!(owners[0], "ALL");
    assert!(owners.iter().any(|g| g.starts_with("agent-")), "{owners:?}");
}

#[test]
fn every_report_has_the_bot_outcomes_for_all_and_by_segment_channel_and_intent() {
    let scratch = Scratch::new("outcomes-report-segments");
    let index = crate::report::report(
        &fixture("outcomes"),
        Some(&fixture("outcomes/l2lens.toml")),
        &scratch.join("out"),
        &["--by", "lane"],
    );
    let html = std::fs::read_to_string(index).unwrap();
    let settled = [
        "bot_resolution_rate",
        "bot_abandon_rate",
        "bot_escalated_rate",
    ];
    // All groups together, with the cohort in the caption.
    assert_eq!(table_groups(&html, "outcomes-table"), ["ALL"]);
    assert_eq!(table_headers(&html, "outcomes-table")[..3], settled);
    assert!(html.contains("closing intents skipped: thanks"));
    // By segment, channel and intent, whatever the report's own dimension.
    for (id, group) in [
        ("outcomes-segment-table", "free"),
        ("outcomes-channel-table", "whatsapp"),
        ("outcomes-intent-table", "billing_error"),
    ] {
        let groups = table_groups(&html, id);
        assert!(groups.iter().any(|g| g == group), "{id}: {groups:?}");
        assert!(!groups.iter().any(|g| g == "ALL"), "{id}: {groups:?}");
    }
    assert!(html.contains("Bot outcomes by segment"));
    // The lane table leaves the outcomes out: they split by construction there.
    let lanes = table_headers(&html, "metric-table");
    for id in settled {
        assert!(!lanes.iter().any(|h| h == id), "{id} in {lanes:?}");
    }
}

#[test]
fn an_assignee_named_like_a_reserved_group_is_a_warning_and_all_counts_as_unowned() {
    let scratch = Scratch::new("outcomes-reserved");
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for entry in std::fs::read_dir(fixture("outcomes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            let text = std::fs::read_to_string(&path).unwrap();
            // agent-a becomes `ALL`, agent-b `bot`.
            let text = if path.ends_with("assignments.csv") {
                text.replace(",agent-a,", ",ALL,")
                    .replace(",agent-b,", ",bot,")
            } else {
                text
            };
            std::fs::write(data.join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let out = scratch.join("owner.csv");
    let run = l2lens(&[
        "metrics",
        "--data",
        s(&data),
        "--config",
        s(&fixture("outcomes/l2lens.toml")),
        "--select",
        "all",
        "--as-of",
        AS_OF,
        "--by",
        "owner",
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains(
            "warning: assignee ids that are reserved owner group names: `bot` (1 assignment rows) \
             counts as the `bot` group, `ALL` (2 assignment rows) counts as the `unowned` group"
        ),
        "{err}"
    );
    let rows = read_csv_rows(&out);
    // One `ALL` row per period and metric, no more.
    let mut all = std::collections::BTreeSet::new();
    for r in rows.iter().filter(|r| r[1] == "ALL") {
        assert!(
            all.insert((r[0].clone(), r[2].clone())),
            "two ALL rows: {r:?}"
        );
    }
    // The rows of agent-a went to `unowned`: the same `ALL` rows as the fixture's, more
    // `unowned`.
    let expected = read_csv_rows(&fixture("outcomes/expected_metrics_owner.csv"));
    let all_rows = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter().filter(|r| r[1] == "ALL").cloned().collect()
    };
    assert_metric_rows(&all_rows(&rows), &all_rows(&expected));
    assert!(!rows.iter().any(|r| r[1] == "agent-a" || r[1] == "agent-b"));
    let unowned_n = |rows: &[Vec<String>]| -> u64 {
        rows.iter()
            .filter(|r| r[1] == "unowned" && r[2] == "frt_median_s")
            .map(|r| r[4].parse::<u64>().unwrap())
            .sum()
    };
    assert!(unowned_n(&rows) > unowned_n(&expected));
}
