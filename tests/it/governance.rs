//! The governance checks on the hand-checked governance fixture, and their edges.

use std::path::Path;

use crate::util::{GOVERNANCE_CHECKS, Scratch, fixture, l2lens, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn governance_metrics(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "metrics",
        "--data",
        s(dir),
        "--as-of",
        AS_OF,
        "--select",
        "governance",
    ];
    args.extend(extra);
    let out = l2lens(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

/// Every row of `got` equals `expected`: same keys in the same order, values within 1e-9.
fn assert_metrics_equal(got: &str, expected: &str) {
    let (got, expected) = (rows(got), rows(expected));
    assert_eq!(got.len(), expected.len(), "row count");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g[..3], e[..3], "row key");
        let (gv, ev): (f64, f64) = (g[3].parse().unwrap(), e[3].parse().unwrap());
        assert!(
            (gv - ev).abs() <= 1e-9 * ev.abs().max(1.0),
            "{e:?}: got {gv}"
        );
        assert_eq!(g[4], e[4], "n of {e:?}");
    }
}

#[test]
fn the_fixture_metrics_equal_the_hand_checked_values() {
    let dir = fixture("governance");
    let (code, out, err) = governance_metrics(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    let expected = std::fs::read_to_string(dir.join("expected_metrics.csv")).unwrap();
    assert!(out.starts_with("period_start,lane,metric,value,n\n"));
    assert_metrics_equal(&out, &expected);
}

#[test]
fn the_fixture_board_equals_the_hand_checked_board_byte_for_byte() {
    let dir = fixture("governance");
    let out = l2lens(&[
        "board",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = std::fs::read_to_string(dir.join("expected_board.csv")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    // Filters.
    let flagged = l2lens(&[
        "board",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "--flag",
        "stalled",
    ]);
    let ids: Vec<String> = rows(&String::from_utf8_lossy(&flagged.stdout))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, ["g03", "g01"]);
    let owned = l2lens(&[
        "board",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "--owner",
        "agent-11",
        "--lane",
        "VIP_fast_lane",
    ]);
    assert_eq!(rows(&String::from_utf8_lossy(&owned.stdout)).len(), 1);
    let bad = l2lens(&["board", "--data", s(&dir), "--flag", "sleepy"]);
    assert_eq!(bad.status.code(), Some(2));
    // The board never shows customer ids or message text.
    assert!(!expected.contains("cus_"));
}

#[test]
fn the_board_and_the_governance_facts_are_sql_tables() {
    let dir = fixture("governance");
    let out = l2lens(&[
        "query",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "--sql",
        "select conversation_id, flags from board where flags like '%ownerless%'",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "conversation_id,flags\ng10,ownerless\n"
    );
    let out = l2lens(&[
        "query",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "--sql",
        "select conversation_id, duplicate_of, bounces, stall_max_s from facts \
         where conversation_id in ('g02', 'g13', 'g24') order by conversation_id",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "conversation_id,duplicate_of,bounces,stall_max_s\ng02,g01,0,\ng13,,1,5100.0\ng24,,0,14400.0\n"
    );
}

#[test]
fn metrics_prints_the_ten_by_default_and_governance_on_request() {
    let dir = fixture("governance");
    let core = l2lens(&["metrics", "--data", s(&dir), "--as-of", AS_OF]);
    let core = String::from_utf8_lossy(&core.stdout).into_owned();
    assert!(core.contains("frt_median_s") && !core.contains("duplicate_rate"));
    let all = l2lens(&[
        "metrics",
        "--data",
        s(&dir),
        "--as-of",
        AS_OF,
        "--select",
        "all",
    ]);
    let all = String::from_utf8_lossy(&all.stdout).into_owned();
    assert!(all.contains("frt_median_s") && all.contains("duplicate_rate"));
    // The text metrics (from the briefs: no message text here) come on top.
    let text_rows = rows(&all)
        .iter()
        .filter(|r| r[2] == "brief_placeholder_rate" || r[2] == "sensitive_in_brief")
        .count();
    // And the share of customers known only by a business-scoped id (no calls, no pricing).
    let identity_rows = rows(&all)
        .iter()
        .filter(|r| r[2] == "bsuid_only_rate")
        .count();
    // And the bot outcomes, which need no configuration.
    let outcome_rows = rows(&all)
        .iter()
        .filter(|r| {
            [
                "bot_resolution_rate",
                "bot_abandon_rate",
                "bot_escalated_rate",
                "durable_bot_resolution_rate",
                "handoff_reason_human_request_rate",
                "handoff_reason_strikes_rate",
                "handoff_reason_other_rate",
            ]
            .contains(&r[2].as_str())
        })
        .count();
    assert!(outcome_rows > 0);
    assert!(identity_rows > 0);
    assert_eq!(
        rows(&all).len(),
        rows(&core).len() + 70 + text_rows + identity_rows + outcome_rows
    );
    let list = l2lens(&["metrics", "--list"]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    for id in GOVERNANCE_CHECKS {
        assert!(list.contains(id), "{id} in --list");
    }
}

/// A copy of the governance fixture's tables without the named files.
fn fixture_without(scratch: &Scratch, skip: &[&str]) -> std::path::PathBuf {
    let dir = scratch.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "conversations.csv",
        "messages.csv",
        "assignments.csv",
        "handoffs.csv",
        "templates.csv",
        "l2lens.toml",
    ] {
        if !skip.contains(&name) {
            std::fs::copy(fixture("governance").join(name), dir.join(name)).unwrap();
        }
    }
    dir
}

#[test]
fn without_a_templates_table_g5_has_no_rows_and_nothing_else_changes() {
    let scratch = Scratch::new("no-templates");
    let dir = fixture_without(&scratch, &["templates.csv"]);
    let (code, out, err) = governance_metrics(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    let expected: String =
        std::fs::read_to_string(fixture("governance").join("expected_metrics.csv"))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("template_blocked_sends"))
            .map(|l| format!("{l}\n"))
            .collect();
    assert!(!out.contains("template_blocked_sends"));
    assert_metrics_equal(&out, &expected);
}

#[test]
fn send_failures_are_ingested_validated_and_counted() {
    let scratch = Scratch::new("send-failures");
    let dir = fixture_without(&scratch, &[]);
    std::fs::write(
        dir.join("send_failures.csv"),
        "message_id,conversation_id,failed_at,error_code,error_title\n\
         f1,g01,2026-11-24T10:00:00Z,131047,Re-engagement message\n\
         f2,g01,2026-11-24T11:00:00Z,131026,Message undeliverable\n\
         f3,g11,2026-11-24T22:00:00Z,131047,\n\
         f4,nobody,2026-11-24T22:00:00Z,131047,\n\
         f5,g03,yesterday,131047,\n",
    )
    .unwrap();
    let (code, out, err) = governance_metrics(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    let g8: Vec<Vec<String>> = rows(&out)
        .into_iter()
        .filter(|r| r[2] == "window_violation_sends")
        .collect();
    assert_eq!(
        g8,
        [
            ["2026-11-23", "ALL", "window_violation_sends", "2.0", "3"],
            [
                "2026-11-23",
                "general",
                "window_violation_sends",
                "1.0",
                "2"
            ],
            [
                "2026-11-23",
                "vip_fast_lane",
                "window_violation_sends",
                "1.0",
                "1"
            ],
        ]
        .map(|r| r.map(str::to_owned).to_vec())
    );
    // The two bad rows are quarantined with their reasons.
    let warehouse = scratch.join("warehouse");
    let out = l2lens(&["ingest", "--data", s(&dir), "--out", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let quarantine = std::fs::read_to_string(warehouse.join("quarantine.csv")).unwrap();
    assert!(
        quarantine.contains(
            "send_failures,send_failures.csv,4,conversation_id,nobody,unknown_conversation"
        ),
        "{quarantine}"
    );
    assert!(
        quarantine.contains("send_failures,send_failures.csv,5,failed_at,yesterday,bad_timestamp"),
        "{quarantine}"
    );
}

#[test]
fn governance_config_errors_name_the_file_and_key() {
    let scratch = Scratch::new("governance-config");
    let data = fixture("governance");
    for (text, key) in [
        ("[governance]\nstall_afer_s = 10\n", "stall_afer_s"),
        (
            "[governance]\nownerless_max_s = -1\n",
            "ownerless_max_s = -1",
        ),
        ("[governance.lanes.general]\nstrikes = 2\n", "strikes"),
        ("[governance]\nduplicate_match = \"phone\"\n", "phone"),
    ] {
        let config = scratch.write("bad.toml", text);
        let out = l2lens(&["metrics", "--data", s(&data), "--config", s(&config)]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(
            err.contains(key) && err.contains("bad.toml"),
            "{text}: {err}"
        );
    }
}

#[test]
fn the_governance_queries_answer_the_fixture() {
    let dir = fixture("governance");
    let run = |name: &str| {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("queries")
            .join(name);
        let out = l2lens(&[
            "query",
            s(&file),
            "--data",
            s(&dir),
            "--as-of",
            AS_OF,
            "--format",
            "csv",
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        rows(&String::from_utf8_lossy(&out.stdout))
    };
    let templates = run("templates_blocked_while_used.sql");
    let firsts: Vec<(&str, &str, &str)> = templates
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        firsts,
        [
            ("tpl_paused", "paused", "1"),
            ("tpl_rejected", "rejected", "1")
        ]
    );
    let stalled = run("stalled_threads_per_owner.sql");
    let owners: Vec<&str> = stalled.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(owners, ["agent-03", "agent-01"], "g03 is due first");
    let ping_pong = run("owners_most_ping_pong.sql");
    let owners: Vec<(&str, &str)> = ping_pong
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(owners, [("agent-05a", "1"), ("agent-13a", "1")]);
}

#[test]
fn the_sample_data_shows_every_check_and_answers_every_query() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let out = l2lens(&["metrics", "--data", s(&sample), "--select", "governance"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for id in [
        "duplicate_rate",
        "ownerless_rate",
        "ping_pong_rate",
        "missed_handoff_rate",
        "template_blocked_sends",
        "silent_stall_rate",
        "brief_missing_rate",
        "window_violation_sends",
    ] {
        let breaking = rows(&text)
            .into_iter()
            .filter(|r| r[1] == "ALL" && r[2] == id)
            .any(|r| r[3].parse::<f64>().unwrap() > 0.0);
        assert!(breaking, "{id}: the sample has no case of it");
    }
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    for entry in std::fs::read_dir(&queries).unwrap() {
        let file = entry.unwrap().path();
        let out = l2lens(&["query", s(&file), "--data", s(&sample), "--format", "csv"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).lines().count() > 1,
            "{} returns no rows on sample_data",
            file.display()
        );
    }
}
