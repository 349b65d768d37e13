//! The SQL of `l2lens sql`, run by real engines (DuckDB, and Spark in local mode) through
//! `scripts/run_sql.py`: equal to the hand-checked fixture and to `l2lens metrics` row for row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, fixture, golden_dir, l2lens, stderr};

type Rows = BTreeMap<(String, String, String), (f64, u64)>;

/// Whether the engine's Python package is importable; under CI it must be.
fn engine(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "python3 cannot import {module}; scripts/test.sh installs it"
        );
        eprintln!("note: python3 cannot import {module}; the {module} SQL test is skipped");
    }
    ok
}

/// The governance checks the SQL has.
const EXPORTED_GOVERNANCE: [&str; 2] = ["template_blocked_sends", "window_violation_sends"];

/// The rows of `paths` whose metric is one of the exported governance checks.
fn read_exported_governance(paths: &[PathBuf]) -> Rows {
    let mut rows = read(paths);
    rows.retain(|(_, _, metric), _| EXPORTED_GOVERNANCE.contains(&metric.as_str()));
    rows
}

fn read(paths: &[PathBuf]) -> Rows {
    let mut rows = Rows::new();
    for path in paths {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for record in reader.records() {
            let r = record.unwrap();
            let value: f64 = r[3].parse().unwrap_or(f64::NAN);
            let n: f64 = r[4].parse().unwrap();
            rows.insert(
                (r[0].to_owned(), r[1].to_owned(), r[2].to_owned()),
                (value, n as u64),
            );
        }
    }
    rows
}

fn assert_same(label: &str, expected: &Rows, got: &Rows) {
    let mut problems = Vec::new();
    for key in expected.keys().chain(got.keys()) {
        match (expected.get(key), got.get(key)) {
            (Some(a), Some(b)) if (a.0 - b.0).abs() <= 1e-9 && a.1 == b.1 => {}
            (a, b) => problems.push(format!("{key:?}: expected {a:?}, got {b:?}")),
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{label}: {} row(s) differ of {} expected, e.g.\n{}",
        problems.len(),
        expected.len(),
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!expected.is_empty(), "{label}: nothing to compare");
}

fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = l2lens(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

/// (label, warehouse, SQL arguments, expected rows) for the three comparisons.
fn cases(scratch: &Scratch, dialect: &str) -> Vec<(String, PathBuf, PathBuf, PathBuf, Rows)> {
    let golden = scratch.join("golden");
    let governance = scratch.join("governance");
    let sample = scratch.join("sample");
    for (data, warehouse) in [
        (golden_dir(), &golden),
        (fixture("governance"), &governance),
        (PathBuf::from("sample_data"), &sample),
    ] {
        let (data, out) = (data.to_str().unwrap(), warehouse.to_str().unwrap());
        run_ok(&["ingest", "-q", "--data", data, "--out", out]);
    }
    let expected_golden = read(&[
        fixture("golden/expected_metrics.csv"),
        fixture("golden/expected_metrics_extra.csv"),
    ]);
    let mut out = Vec::new();
    let mut add = |label: &str, warehouse: &Path, analysis: &[&str], expected: Rows| {
        let sql = scratch.join(&format!("{label}.sql"));
        let mut args = vec![
            "sql",
            "--dialect",
            dialect,
            "--data",
            warehouse.to_str().unwrap(),
            "--out",
            sql.to_str().unwrap(),
        ];
        args.extend_from_slice(analysis);
        run_ok(&args);
        let result = scratch.join(&format!("{label}-{dialect}.csv"));
        out.push((
            label.to_owned(),
            warehouse.to_owned(),
            sql,
            result,
            expected,
        ));
    };
    add(
        "golden",
        &golden,
        &["--as-of", "2026-11-25T00:00:00Z"],
        expected_golden,
    );
    let expected_governance =
        read_exported_governance(&[fixture("governance/expected_metrics.csv")]);
    assert_eq!(
        expected_governance.len(),
        5,
        "the fixture's template_blocked_sends rows"
    );
    add(
        "governance",
        &governance,
        &["--as-of", "2026-11-25T00:00:00Z", "--select", "governance"],
        expected_governance,
    );
    for (label, analysis) in [
        (
            "sample-lane-week",
            &["--by", "lane", "--period", "week"][..],
        ),
        (
            "sample-segment-month-berlin",
            &[
                "--by",
                "segment",
                "--period",
                "month",
                "--tz",
                "Europe/Berlin",
            ][..],
        ),
    ] {
        // The SQL with every metric it has, against the ten and 11-12 and the governance checks
        // the SQL has, from `l2lens metrics`.
        let metrics = scratch.join(&format!("{label}-l2lens.csv"));
        let checks = scratch.join(&format!("{label}-l2lens-governance.csv"));
        for (out, select) in [(&metrics, "core"), (&checks, "governance")] {
            let mut args = vec![
                "metrics",
                "-q",
                "--data",
                sample.to_str().unwrap(),
                "--select",
                select,
                "--out",
                out.to_str().unwrap(),
            ];
            args.extend_from_slice(analysis);
            run_ok(&args);
        }
        let mut expected = read(&[metrics]);
        let governance_rows = read_exported_governance(&[checks]);
        assert!(
            EXPORTED_GOVERNANCE
                .iter()
                .all(|id| governance_rows.keys().any(|k| k.2 == *id)),
            "the sample data has rows of every exported governance check"
        );
        expected.extend(governance_rows);
        let mut sql_args = analysis.to_vec();
        sql_args.extend(["--select", "all"]);
        add(label, &sample, &sql_args, expected);
    }
    out
}

fn run_engine(dialect: &str, module: &str) {
    if !engine(module) {
        return;
    }
    let scratch = Scratch::new(&format!("sql-{dialect}"));
    let cases = cases(&scratch, dialect);
    let mut command = Command::new("python3");
    command
        .arg("scripts/run_sql.py")
        .arg(dialect)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (_, warehouse, sql, result, _) in &cases {
        command.arg(warehouse).arg(sql).arg(result);
    }
    let output = command.output().expect("run python3");
    assert!(
        output.status.success(),
        "{dialect}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (label, _, _, result, expected) in &cases {
        assert_same(
            &format!("{label} on {dialect}"),
            expected,
            &read(std::slice::from_ref(result)),
        );
    }
}

#[test]
fn duckdb_runs_the_exported_sql_to_the_same_rows() {
    run_engine("duckdb", "duckdb");
}

#[test]
fn spark_runs_the_exported_sql_to_the_same_rows() {
    run_engine("spark", "pyspark");
}

#[test]
fn the_sql_inlines_the_configuration() {
    let scratch = Scratch::new("sql-config");
    let config = scratch.write(
        "l2lens.toml",
        "[lanes]\n\"v5*\" = \"L2\"\n\"it's\" = \"L3\"\n[rules]\ndefault_tier = \"L2\"\ntrap_limit = 4\nwindow_risk_hours = 18\n",
    );
    let sql = sql_text(&[
        "--dialect",
        "spark",
        "--config",
        config.to_str().unwrap(),
        "--as-of",
        "2026-11-25T00:00:00Z",
        "--tz",
        "Europe/Berlin",
        "--by",
        "none",
    ]);
    assert_has(
        &sql,
        &[
            "LIKE 'v5%' ESCAPE '!' THEN 2",
            "WHEN a.lane = 'it''s' THEN 3",
            "ELSE 2 END",
            "> 4 AS trapped",
            "silence > 6.48e7",
            "'Europe/Berlin'",
            "CAST(1795564800000 AS BIGINT)",
            "SET spark.sql.session.timeZone = UTC;",
            "AS `group`",
            "Not exported:",
        ],
    );
    assert!(
        !sql.contains("template_checks"),
        "the governance checks only on request"
    );
    let config = scratch.write(
        "blocked.toml",
        "[governance]\nblocked_template_statuses = [\"paused\", \"flagged\"]\n",
    );
    let sql = sql_text(&[
        "--dialect",
        "duckdb",
        "--config",
        config.to_str().unwrap(),
        "--select",
        "governance",
    ]);
    assert_has(
        &sql,
        &[
            "IN ('paused', 'flagged')",
            "= '131047'",
            "'window_violation_sends'",
        ],
    );
    assert!(
        !sql.contains("'frt_median_s'"),
        "only the governance checks"
    );
}

/// The SQL `l2lens sql` writes with `args`.
fn sql_text(args: &[&str]) -> String {
    let mut all = vec!["sql"];
    all.extend_from_slice(args);
    String::from_utf8(run_ok(&all)).unwrap()
}

fn assert_has(sql: &str, needles: &[&str]) {
    for needle in needles {
        assert!(sql.contains(needle), "{needle} not in the SQL:\n{sql}");
    }
}
