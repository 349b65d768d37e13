//! Bot outcomes, SLA attainment and `--by owner` through the built binary, on the hand-checked
//! outcomes fixture.

use std::path::Path;

use crate::util::{Scratch, assert_metric_rows, fixture, l2lens, read_csv_rows, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
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
    let run = l2lens(&[
        "board",
        "-q",
        "--data",
        s(&fixture("outcomes")),
        "--config",
        s(&fixture("outcomes/l2lens.toml")),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
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
