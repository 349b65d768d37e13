//! Metrics through the built binary: the golden fixture row for row, dimensions, periods and
//! time zones.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{Scratch, golden_dir, l2lens, stderr};

const GOLDEN_AS_OF: &str = "2026-11-25T00:00:00Z";

type Rows = Vec<(String, String, String, f64, u64)>;

fn parse_rows(text: &str) -> (Vec<String>, Rows) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_owned(),
                r[1].to_owned(),
                r[2].to_owned(),
                r[3].parse::<f64>().unwrap(),
                r[4].parse::<u64>().unwrap(),
            )
        })
        .collect();
    (header, rows)
}

fn metrics(data: &Path, extra: &[&str]) -> (Vec<String>, Rows) {
    let mut args = vec!["metrics", "--data", data.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let output = l2lens(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    parse_rows(&String::from_utf8(output.stdout).unwrap())
}

fn assert_same_rows(got: &Rows, want: &Rows) {
    let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.0 == w.0 && g.1 == w.1 && g.2 == w.2 && g.4 == w.4 && close(g.3, w.3),
            "row {} differs:\n  got  {g:?}\n  want {w:?}",
            i + 1
        );
    }
    assert_eq!(got.len(), want.len(), "row count");
}

/// The golden values of every metric: the ten (`expected_metrics.csv`) and metrics 11-12
/// (`expected_metrics_extra.csv`, kept apart so that the first file stays as it is), in the
/// output's order.
fn expected() -> (Vec<String>, Rows) {
    let text = std::fs::read_to_string(golden_dir().join("expected_metrics.csv")).unwrap();
    let (header, mut rows) = parse_rows(&text);
    let extra = std::fs::read_to_string(golden_dir().join("expected_metrics_extra.csv")).unwrap();
    rows.extend(parse_rows(&extra).1);
    rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    (header, rows)
}

#[test]
fn golden_fixture_from_the_raw_directory() {
    let (header, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF]);
    let (want_header, want) = expected();
    assert_eq!(header, want_header);
    assert_same_rows(&rows, &want);
}

#[test]
fn golden_fixture_from_the_ingested_warehouse() {
    let warehouse = Scratch::new("golden-wh");
    let output = l2lens(&[
        "ingest",
        "--data",
        golden_dir().to_str().unwrap(),
        "--out",
        warehouse.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, rows) = metrics(warehouse.path(), &["--as-of", GOLDEN_AS_OF]);
    assert_same_rows(&rows, &expected().1);
}

#[test]
fn as_of_defaults_to_the_latest_timestamp() {
    // The latest instant in the fixture is c19's close, 2026-11-25T01:00:00Z.
    let (_, rows) = metrics(&golden_dir(), &[]);
    let (_, explicit) = metrics(&golden_dir(), &["--as-of", "2026-11-25T01:00:00Z"]);
    assert_same_rows(&rows, &explicit);
    let (_, at_golden) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF]);
    assert_ne!(rows, at_golden, "c19's reply at 00:00:01 now counts");
}

fn lookup(rows: &Rows) -> BTreeMap<(String, String, String), (f64, u64)> {
    rows.iter()
        .map(|(p, g, m, v, n)| ((p.clone(), g.clone(), m.clone()), (*v, *n)))
        .collect()
}

#[test]
fn other_dimensions_group_the_same_cohorts() {
    let (header, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF, "--by", "segment"]);
    assert_eq!(header[1], "segment");
    let by = lookup(&rows);
    let key = |g: &str, m: &str| ("2026-11-16".to_owned(), g.to_owned(), m.to_owned());
    // The ALL rows do not depend on the dimension.
    let (_, lanes) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF]);
    let lanes = lookup(&lanes);
    for metric in [
        "frt_median_s",
        "misroute_rate",
        "reopen_48h_rate",
        "window_risk_rate",
    ] {
        assert_eq!(
            by[&key("ALL", metric)],
            lanes[&key("ALL", metric)],
            "{metric}"
        );
    }
    // Enterprise is c04 alone: a VIP thread handled by humans and misrouted laterally.
    assert_eq!(by[&key("enterprise", "misroute_rate")], (1.0, 1));
    // Trial is c09 (bot only, not escalated) and c10 (never answered, not bot-handled).
    assert_eq!(by[&key("trial", "escalation_rate")], (0.0, 1));

    let (header, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF, "--by", "intent"]);
    assert_eq!(header[1], "intent");
    let by = lookup(&rows);
    // Null entry intents (c09, c10) form the group `unknown`.
    assert_eq!(by[&key("unknown", "reopen_48h_rate")], (1.0, 1));

    let (_, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF, "--by", "channel"]);
    let by = lookup(&rows);
    assert_eq!(by[&key("email", "frt_median_s")], (3600.0, 1), "c07");

    let (header, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF, "--by", "none"]);
    assert_eq!(header[1], "group");
    assert!(rows.iter().all(|r| r.1 == "ALL"));
    let all_rows: Vec<_> = lanes.iter().filter(|(k, _)| k.1 == "ALL").collect();
    assert_eq!(rows.len(), all_rows.len());
}

#[test]
fn day_and_month_periods() {
    let (_, rows) = metrics(
        &golden_dir(),
        &["--as-of", GOLDEN_AS_OF, "--period", "month"],
    );
    let by = lookup(&rows);
    let key = |m: &str| ("2026-11-01".to_owned(), "ALL".to_owned(), m.to_owned());
    // Every conversation opens in November: c18's FRT joins the others (15 replies).
    assert_eq!(by[&key("frt_median_s")].1, 15);
    assert!(rows.iter().all(|r| r.0 == "2026-11-01"));

    let (_, rows) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF, "--period", "day"]);
    let by = lookup(&rows);
    // Opened on 2026-11-16 and bot-handled: c01 c02 c03 c05, of which c02 c03 c05 escalated.
    let day = |d: &str, m: &str| (d.to_owned(), "ALL".to_owned(), m.to_owned());
    assert_eq!(by[&day("2026-11-16", "escalation_rate")], (0.75, 4));
    // One snapshot per day from 2026-11-13 to 2026-11-25.
    let snapshots = rows
        .iter()
        .filter(|r| r.1 == "ALL" && r.2 == "window_risk_rate")
        .count();
    assert!(snapshots >= 10, "{snapshots} daily snapshots");
}

#[test]
fn a_time_zone_moves_the_period_boundary() {
    // c11's first customer message, 2026-11-22T20:00Z, is Sunday evening in UTC but Monday
    // 05:00 in Asia/Tokyo (UTC+9): its FRT moves from week 2026-11-16 to week 2026-11-23.
    let (_, utc) = metrics(&golden_dir(), &["--as-of", GOLDEN_AS_OF]);
    let (_, tokyo) = metrics(
        &golden_dir(),
        &["--as-of", GOLDEN_AS_OF, "--tz", "Asia/Tokyo"],
    );
    let (utc, tokyo) = (lookup(&utc), lookup(&tokyo));
    let key = |p: &str| (p.to_owned(), "ALL".to_owned(), "frt_median_s".to_owned());
    assert_eq!(utc[&key("2026-11-16")].1, 14);
    assert_eq!(tokyo[&key("2026-11-16")].1, 13);
    assert_eq!(tokyo[&key("2026-11-23")].1, 1);
    assert!(!utc.contains_key(&key("2026-11-23")));
}

#[test]
fn output_formats_and_bad_arguments() {
    let out = Scratch::new("metrics-out");
    for (name, magic) in [
        ("m.json", &b"["[..]),
        ("m.parquet", &b"PAR1"[..]),
        ("m.csv", &b"period_start"[..]),
    ] {
        let path = out.join(name);
        let output = l2lens(&[
            "metrics",
            "--data",
            golden_dir().to_str().unwrap(),
            "--as-of",
            GOLDEN_AS_OF,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(magic), "{name}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("m.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), expected().1.len());
    assert_eq!(json[0]["lane"], "ALL");

    let bad_tz = l2lens(&[
        "metrics",
        "--data",
        golden_dir().to_str().unwrap(),
        "--tz",
        "Mars/Olympus",
    ]);
    assert_eq!(bad_tz.status.code(), Some(2));
    assert!(stderr(&bad_tz).contains("not an IANA time zone"));
    let bad_as_of = l2lens(&[
        "metrics",
        "--data",
        golden_dir().to_str().unwrap(),
        "--as-of",
        "tomorrow",
    ]);
    assert_eq!(bad_as_of.status.code(), Some(2));
    assert!(stderr(&bad_as_of).contains("--as-of `tomorrow`"));
}

#[test]
fn list_prints_every_metric_of_the_registry() {
    let output = l2lens(&["metrics", "--list"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for id in [
        "frt_median_s",
        "frt_p90_s",
        "tts_median_s",
        "tts_p90_s",
        "window_risk_rate",
        "window_expired",
        "escalation_rate",
        "bot_trap_index",
        "misroute_rate",
        "transfers_per_resolution",
        "art_mean_s",
        "art_median_s",
        "reopen_48h_rate",
        "context_completeness_rate",
        "context_score_mean",
    ] {
        assert!(text.contains(id), "{id} missing from --list");
    }
}

#[test]
fn facts_command_writes_one_row_per_conversation() {
    let out = Scratch::new("facts-out");
    let path = out.join("facts.csv");
    let output = l2lens(&[
        "facts",
        "--data",
        golden_dir().to_str().unwrap(),
        "--as-of",
        GOLDEN_AS_OF,
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in [
        "conversation_id",
        "first_customer_at",
        "first_reply_at",
        "first_bot_at",
        "bot_handled",
        "escalated_at",
        "specialist_at",
        "lane",
        "owner_changes",
        "misrouted",
        "trap_signals",
        "trapped",
        "context_complete",
        "context_score",
        "repeat_48h",
    ] {
        assert!(header.iter().any(|h| h == column), "{column}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 19);
    let lane = header.iter().position(|h| h == "lane").unwrap();
    let c04 = rows.iter().find(|r| &r[0] == "c04").unwrap();
    assert_eq!(&c04[lane], "customer_recovery");
}

#[test]
fn without_a_handoffs_table_the_brief_metrics_have_no_rows_and_nothing_else_changes() {
    let scratch = Scratch::new("no-handoffs");
    for table in ["conversations", "messages", "assignments"] {
        std::fs::copy(
            golden_dir().join(format!("{table}.csv")),
            scratch.join(&format!("{table}.csv")),
        )
        .unwrap();
    }
    let (_, rows) = metrics(scratch.path(), &["--as-of", GOLDEN_AS_OF]);
    let (_, mut want) = expected();
    want.retain(|r| !r.2.starts_with("context_"));
    assert_same_rows(&rows, &want);
    // The report says why those cells are empty.
    let out = l2lens(&[
        "report",
        "--data",
        scratch.path().to_str().unwrap(),
        "--as-of",
        GOLDEN_AS_OF,
        "--out",
        scratch.join("out").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let index = String::from_utf8(out.stdout).unwrap();
    let html = std::fs::read_to_string(index.trim()).unwrap();
    assert!(html.contains("no handoff briefs in the data (no handoffs table)"));
}
