//! The SQL of `l2lens sql`, run by real engines (DuckDB, and Spark in local mode) through
//! `scripts/run_sql.py`: equal to the hand-checked fixture and to `l2lens metrics` row for row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{GOVERNANCE_CHECKS, Scratch, fixture, golden_dir, l2lens, stderr};

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

/// Every row of `part` is in `all`, with the same n and a value within 1e-9.
fn assert_includes(label: &str, all: &Rows, part: &Rows) {
    for (key, value) in part {
        let got = all
            .get(key)
            .unwrap_or_else(|| panic!("{label}: {key:?} missing"));
        assert!(
            (got.0 - value.0).abs() <= 1e-9 && got.1 == value.1,
            "{label}: {key:?}: {got:?} instead of {value:?}"
        );
    }
}

fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = l2lens(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

/// The text fixture's key (its README).
const TEXT_KEY: &str = "l2lens-fixture-key";

/// [`run_ok`] with the text fixture's key in the environment.
fn run_ok_keyed(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("L2LENS_TEXT_KEY", TEXT_KEY)
        .output()
        .expect("run l2lens");
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

/// Business hours for the sample data's lanes.
const BUSINESS_HOURS: &str = r#"
[schedules.eu_office]
timezone = "Europe/Berlin"
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-12:30", "13:30-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
holidays = ["2026-11-02"]
overrides = { "2026-10-30" = ["09:00-13:00"] }

[schedules.night_desk]
timezone = "America/New_York"
everyday = ["22:00-06:00"]

[schedules.weekend]
timezone = "Asia/Kolkata"
sat = ["10:00-24:00"]
sun = ["00:00-18:00"]

[business_hours]
default = "24x7"
[business_hours.lanes]
technical_l2 = "eu_office"
compliance = "night_desk"
retention = "weekend"
general = "eu_office"
"#;

/// The rows `l2lens metrics` computes on `warehouse` with `args`.
fn l2lens_rows(scratch: &Scratch, label: &str, warehouse: &Path, args: &[&str]) -> Rows {
    let out = scratch.join(&format!("{label}-l2lens.csv"));
    let mut all = vec![
        "metrics",
        "-q",
        "--data",
        warehouse.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_ok(&all);
    read(&[out])
}

/// (label, warehouse, SQL, result, expected rows) for every comparison: each data set with
/// `--select all`, against `l2lens metrics --select all` and the hand-checked fixtures.
fn cases(scratch: &Scratch, dialect: &str) -> Vec<(String, PathBuf, PathBuf, PathBuf, Rows)> {
    let golden = scratch.join("golden");
    let governance = scratch.join("governance");
    let sample = scratch.join("sample");
    let business_fixture = scratch.join("business-hours");
    // The text fixture, ingested with its key and config: text_findings in the warehouse.
    let text = scratch.join("text");
    let text_config = fixture("text/l2lens.toml");
    let text_config = text_config.to_str().unwrap();
    run_ok_keyed(&[
        "ingest",
        "-q",
        "--data",
        fixture("text").to_str().unwrap(),
        "--config",
        text_config,
        "--out",
        text.to_str().unwrap(),
    ]);
    for (data, warehouse) in [
        (golden_dir(), &golden),
        (fixture("governance"), &governance),
        (fixture("business_hours"), &business_fixture),
        (PathBuf::from("sample_data"), &sample),
    ] {
        let (data, out) = (data.to_str().unwrap(), warehouse.to_str().unwrap());
        run_ok(&["ingest", "-q", "--data", data, "--out", out]);
    }
    let governance_config = fixture("governance/l2lens.toml");
    let governance_config = governance_config.to_str().unwrap();
    let as_of = ["--as-of", "2026-11-25T00:00:00Z"];
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
            "--select",
            "all",
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

    // The golden fixture: its hand-checked rows, and every other row as l2lens computes it.
    let hand_checked = read(&[
        fixture("golden/expected_metrics.csv"),
        fixture("golden/expected_metrics_extra.csv"),
    ]);
    let mut expected = l2lens_rows(
        scratch,
        &format!("golden-{dialect}"),
        &golden,
        &[&as_of[..], &["--select", "all"]].concat(),
    );
    assert_includes("l2lens on the golden fixture", &expected, &hand_checked);
    expected.extend(hand_checked);
    add("golden", &golden, &as_of, expected);

    // The golden fixture with one more open thread, opened eleven weeks earlier: the weeks in
    // between are quiet (nothing opened or closed), so neither side takes a window snapshot in
    // them, and the thread counts at the snapshots of its own week and of the golden weeks.
    let quiet_raw = scratch.join("golden-quiet-raw");
    std::fs::create_dir_all(&quiet_raw).unwrap();
    for table in ["conversations", "messages", "assignments", "handoffs"] {
        let mut text = std::fs::read_to_string(golden_dir().join(format!("{table}.csv"))).unwrap();
        match table {
            "conversations" => {
                text.push_str("q01,cus_q,whatsapp,free,order_status,2026-09-01T10:00:00Z,\n")
            }
            "messages" => {
                text.push_str("mq01,q01,2026-09-01T10:00:00Z,customer,text,,order_status,\n")
            }
            _ => {}
        }
        std::fs::write(quiet_raw.join(format!("{table}.csv")), text).unwrap();
    }
    let quiet = scratch.join("golden-quiet");
    run_ok(&[
        "ingest",
        "-q",
        "--data",
        quiet_raw.to_str().unwrap(),
        "--out",
        quiet.to_str().unwrap(),
    ]);
    let expected = l2lens_rows(
        scratch,
        &format!("golden-quiet-{dialect}"),
        &quiet,
        &[&as_of[..], &["--select", "all"]].concat(),
    );
    let window_weeks: std::collections::BTreeSet<&str> = expected
        .keys()
        .filter(|(_, _, metric)| metric == "window_risk_rate")
        .map(|(period, _, _)| period.as_str())
        .collect();
    assert!(
        window_weeks.contains("2026-08-31") && !window_weeks.contains("2026-09-07"),
        "{window_weeks:?}"
    );
    add("golden-quiet", &quiet, &as_of, expected);

    // The governance fixture with its config: its hand-checked governance rows, and the rest.
    let analysis = [&as_of[..], &["--config", governance_config]].concat();
    let hand_checked = read(&[fixture("governance/expected_metrics.csv")]);
    assert_eq!(hand_checked.len(), 70, "the governance fixture's rows");
    let mut expected = l2lens_rows(
        scratch,
        &format!("governance-{dialect}"),
        &governance,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    assert_includes("l2lens on the governance fixture", &expected, &hand_checked);
    expected.extend(hand_checked);
    add("governance", &governance, &analysis, expected);

    // The text fixture: its hand-checked text metrics, and the rest.
    let analysis = [&as_of[..], &["--config", text_config]].concat();
    let hand_checked = read(&[fixture("text/expected_metrics.csv")]);
    assert_eq!(hand_checked.len(), 51, "the text fixture's rows");
    let mut expected = l2lens_rows(
        scratch,
        &format!("text-{dialect}"),
        &text,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    assert_includes("l2lens on the text fixture", &expected, &hand_checked);
    expected.extend(hand_checked);
    add("text", &text, &analysis, expected);

    // The WhatsApp 2026 fixture (calls, aliases, cost) with its rate card: its hand-checked
    // rows, and the rest.
    let whatsapp = scratch.join("whatsapp2026");
    let whatsapp_data = fixture("whatsapp2026");
    run_ok(&[
        "ingest",
        "-q",
        "--data",
        whatsapp_data.to_str().unwrap(),
        "--out",
        whatsapp.to_str().unwrap(),
    ]);
    let whatsapp_config = fixture("whatsapp2026/l2lens.toml");
    let analysis = [&as_of[..], &["--config", whatsapp_config.to_str().unwrap()]].concat();
    let hand_checked = read(&[fixture("whatsapp2026/expected_metrics.csv")]);
    assert_eq!(hand_checked.len(), 87, "the whatsapp2026 fixture's rows");
    let mut expected = l2lens_rows(
        scratch,
        &format!("whatsapp2026-{dialect}"),
        &whatsapp,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    assert_includes(
        "l2lens on the whatsapp2026 fixture",
        &expected,
        &hand_checked,
    );
    expected.extend(hand_checked);
    add("whatsapp2026", &whatsapp, &analysis, expected);
    // The other two settings of `[calls]`: answered calls only refresh the window, and calls
    // count for first response.
    let calls_config = scratch.write(
        "whatsapp2026-calls.toml",
        std::fs::read_to_string(&whatsapp_config)
            .unwrap()
            .replace("window_refresh = \"any\"", "window_refresh = \"answered\"")
            .replace("frt = false", "frt = true"),
    );
    let analysis = [&as_of[..], &["--config", calls_config.to_str().unwrap()]].concat();
    let expected = l2lens_rows(
        scratch,
        &format!("whatsapp2026-calls-{dialect}"),
        &whatsapp,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    add("whatsapp2026-calls", &whatsapp, &analysis, expected);

    // The outcomes fixture with its config (bot outcomes, SLA attainment with a business-clock
    // target across a holiday): its hand-checked rows by lane and by owner, and the rest.
    let outcomes = scratch.join("outcomes");
    let outcomes_data = fixture("outcomes");
    run_ok(&[
        "ingest",
        "-q",
        "--data",
        outcomes_data.to_str().unwrap(),
        "--out",
        outcomes.to_str().unwrap(),
    ]);
    let outcomes_config = fixture("outcomes/l2lens.toml");
    run_ok(&[
        "calendar",
        "-q",
        "--config",
        outcomes_config.to_str().unwrap(),
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--out",
        outcomes.join("calendar.parquet").to_str().unwrap(),
    ]);
    for (label, by, file, count) in [
        ("outcomes", "lane", "outcomes/expected_metrics.csv", 93),
        (
            "outcomes-owner",
            "owner",
            "outcomes/expected_metrics_owner.csv",
            172,
        ),
    ] {
        let analysis = [
            &as_of[..],
            &["--config", outcomes_config.to_str().unwrap(), "--by", by],
        ]
        .concat();
        let hand_checked = read(&[fixture(file)]);
        assert_eq!(hand_checked.len(), count, "{file}");
        assert!(
            hand_checked.keys().any(|k| k.2 == "sla_update_hit_rate"),
            "{file}: SLA rows"
        );
        let mut expected = l2lens_rows(
            scratch,
            &format!("{label}-{dialect}"),
            &outcomes,
            &[&analysis[..], &["--select", "all"]].concat(),
        );
        assert_includes(&format!("l2lens on {file}"), &expected, &hand_checked);
        // The fixture's handoffs table is header-only: l2lens reads an empty table as briefs
        // that are missing, the SQL (where an absent table is an empty one) as no briefs in the
        // data; the brief metrics are compared on the other fixtures.
        expected.retain(|k, _| {
            ![
                "brief_missing_rate",
                "context_completeness_rate",
                "context_score_mean",
            ]
            .contains(&k.2.as_str())
        });
        expected.extend(hand_checked);
        add(label, &outcomes, &analysis, expected);
    }

    // Business time on the business-hours fixture (the contract's worked examples, from March
    // 2026 to January 2027), read from the calendar `l2lens calendar` writes.
    let fixture_config = fixture("business_hours/l2lens.toml");
    let fixture_config = fixture_config.to_str().unwrap();
    run_ok(&[
        "calendar",
        "-q",
        "--config",
        fixture_config,
        "--from",
        "2026-03-01",
        "--to",
        "2027-01-31",
        "--out",
        business_fixture.join("calendar.parquet").to_str().unwrap(),
    ]);
    let analysis = ["--config", fixture_config];
    let expected = l2lens_rows(
        scratch,
        &format!("business-hours-{dialect}"),
        &business_fixture,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    assert!(
        expected
            .iter()
            .any(|(k, v)| k.1 == "ALL" && k.2 == "frt_bh_median_s" && v.0 == 28800.0),
        "the fixture's overnight shift on the night clocks go back"
    );
    add("business-hours", &business_fixture, &analysis, expected);

    // Business time on the sample data: three schedules (office hours with a split day and a
    // holiday, an overnight desk in New York, a weekend desk), across both clock changes of
    // 2026, read from the calendar `l2lens calendar` writes.
    let business = scratch.write(
        "business.toml",
        format!(
            "{}\n{BUSINESS_HOURS}",
            std::fs::read_to_string("sample_data/l2lens.toml").unwrap()
        ),
    );
    let business = business.to_str().unwrap().to_owned();
    run_ok(&[
        "calendar",
        "-q",
        "--config",
        &business,
        "--from",
        "2026-09-01",
        "--to",
        "2026-12-31",
        "--out",
        sample.join("calendar.parquet").to_str().unwrap(),
    ]);
    let analysis = ["--config", business.as_str()];
    let expected = l2lens_rows(
        scratch,
        &format!("sample-business-{dialect}"),
        &sample,
        &[&analysis[..], &["--select", "all"]].concat(),
    );
    for id in ["frt_bh_median_s", "tts_bh_p90_s", "art_bh_median_s"] {
        assert!(expected.keys().any(|k| k.2 == id), "business rows of {id}");
    }
    add("sample-business", &sample, &analysis, expected);

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
        let expected = l2lens_rows(
            scratch,
            &format!("{label}-{dialect}"),
            &sample,
            &[analysis, &["--select", "all"]].concat(),
        );
        for id in GOVERNANCE_CHECKS {
            assert!(
                expected.keys().any(|k| k.2 == id),
                "the sample data has rows of {id}"
            );
        }
        add(label, &sample, analysis, expected);
    }
    out
}

fn run_engine(dialect: &str, module: &str) {
    if !engine(module) {
        return;
    }
    let scratch = Scratch::new(&format!("sql-{dialect}"));
    let cases = cases(&scratch, dialect);
    let boards = board_cases(&scratch, dialect);
    let mut command = Command::new("python3");
    command
        .arg("scripts/run_sql.py")
        .arg(dialect)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (_, warehouse, sql, result, _) in &cases {
        command.arg(warehouse).arg(sql).arg(result);
    }
    for (_, warehouse, sql, result, _) in &boards {
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
    for (label, _, _, result, expected) in &boards {
        let got = board_rows(result);
        // The text fixture's board is small: what it must show is a sensitive conversation.
        let shows = if label == "board-outcomes" {
            expected
                .iter()
                .any(|r| r.iter().any(|c| c == "frt;update;resolution"))
        } else if label == "board-text" {
            expected
                .iter()
                .any(|r| r.iter().any(|c| c.contains("sensitive")))
        } else {
            expected.len() > 3
        };
        assert!(
            shows,
            "{label}: a board of {} rows: {expected:?}",
            expected.len()
        );
        assert_eq!(
            &got, expected,
            "{label} on {dialect}: the board from SQL differs from l2lens board"
        );
    }
}

/// A board CSV as rows of cells, instants normalised to UTC milliseconds (l2lens prints RFC
/// 3339, the engines `YYYY-MM-DD HH:MM:SS[.ffffff]`), empty cells and `None` as empty.
fn board_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    // 14 columns, 16 with [sla].
    assert!(
        header.len() == 14 || header.len() == 16,
        "{}: {header:?}",
        path.display()
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            r.iter()
                .zip(&header)
                .map(|(cell, column)| {
                    let cell = if cell == "None" { "" } else { cell };
                    let instant = column.ends_with("_at")
                        || column.ends_with("_since")
                        || column.ends_with("_due");
                    if instant && !cell.is_empty() {
                        let t = chrono::DateTime::parse_from_rfc3339(cell)
                            .map(|t| t.timestamp_millis())
                            .or_else(|_| {
                                chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S%.f")
                                    .map(|t| t.and_utc().timestamp_millis())
                            })
                            .unwrap_or_else(|e| panic!("{column} `{cell}`: {e}"));
                        t.to_string()
                    } else {
                        cell.to_owned()
                    }
                })
                .collect()
        })
        .collect()
}

/// (label, warehouse, SQL, result, `l2lens board` rows) for the board: the governance fixture
/// with its config, and the sample data.
#[allow(clippy::type_complexity)] // a test table, read once below
fn board_cases(
    scratch: &Scratch,
    dialect: &str,
) -> Vec<(String, PathBuf, PathBuf, PathBuf, Vec<Vec<String>>)> {
    let config = fixture("governance/l2lens.toml");
    let config = config.to_str().unwrap();
    let text_config = fixture("text/l2lens.toml");
    let text_config = text_config.to_str().unwrap();
    let outcomes_config = fixture("outcomes/l2lens.toml");
    let outcomes_config = outcomes_config.to_str().unwrap();
    let mut out = Vec::new();
    for (label, warehouse, extra) in [
        (
            "board-governance",
            scratch.join("governance"),
            vec!["--config", config, "--as-of", "2026-11-25T00:00:00Z"],
        ),
        ("board-sample", scratch.join("sample"), vec![]),
        // With [sla]: the earliest pending due and the broken promises (a business-clock target
        // across a holiday among them).
        (
            "board-outcomes",
            scratch.join("outcomes"),
            vec![
                "--config",
                outcomes_config,
                "--as-of",
                "2026-11-25T00:00:00Z",
            ],
        ),
        // Sensitive flags and briefs with markers (their tokens left out).
        (
            // t04 and t13 open; t13's customer and agent sent card numbers.
            "board-text",
            scratch.join("text"),
            vec!["--config", text_config, "--as-of", "2026-11-24T08:05:00Z"],
        ),
    ] {
        let data = warehouse.to_str().unwrap();
        let expected = scratch.join(&format!("{label}-l2lens.csv"));
        let mut args = vec!["board", "-q", "--data", data, "--format", "csv", "--out"];
        args.push(expected.to_str().unwrap());
        args.extend_from_slice(&extra);
        run_ok(&args);
        let sql = scratch.join(&format!("{label}.sql"));
        let mut args = vec![
            "sql",
            "--board",
            "--dialect",
            dialect,
            "--data",
            data,
            "--out",
        ];
        args.push(sql.to_str().unwrap());
        args.extend_from_slice(&extra);
        run_ok(&args);
        out.push((
            label.to_owned(),
            warehouse,
            sql,
            scratch.join(&format!("{label}-{dialect}.csv")),
            board_rows(&expected),
        ));
    }
    out
}

#[test]
fn duckdb_runs_the_exported_sql_to_the_same_rows() {
    run_engine("duckdb", "duckdb");
}

#[test]
fn spark_runs_the_exported_sql_to_the_same_rows() {
    let _one = SPARK.lock().unwrap_or_else(|e| e.into_inner());
    run_engine("spark", "pyspark");
}

/// One Spark test at a time: each driver takes a 6 GB heap, and two tests side by side would
/// start three drivers on a 24 GB machine.
static SPARK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether a command runs; under CI it must.
fn shell(program: &str, install: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "no `{program}` on the PATH; scripts/test.sh installs it ({install})"
        );
        eprintln!("note: no `{program}`; its shell test is skipped");
    }
    ok
}

/// The exported file as a user runs it, unchanged, in the engine's own shell (DuckDB's `.read`,
/// `spark-sql -f`): `--select all` on the governance fixture with its config equals
/// `l2lens metrics`.
fn run_shell(dialect: &str, engine_name: &str) {
    let scratch = Scratch::new(&format!("sql-shell-{engine_name}"));
    let warehouse = scratch.join("governance");
    let data = fixture("governance");
    run_ok(&[
        "ingest",
        "-q",
        "--data",
        data.to_str().unwrap(),
        "--out",
        warehouse.to_str().unwrap(),
    ]);
    let config = fixture("governance/l2lens.toml");
    let analysis = [
        "--as-of",
        "2026-11-25T00:00:00Z",
        "--config",
        config.to_str().unwrap(),
        "--select",
        "all",
    ];
    let expected = l2lens_rows(&scratch, "governance", &warehouse, &analysis);
    let sql = scratch.join("governance.sql");
    run_ok(
        &[
            &[
                "sql",
                "--dialect",
                dialect,
                "--data",
                warehouse.to_str().unwrap(),
                "--out",
                sql.to_str().unwrap(),
            ][..],
            &analysis[..],
        ]
        .concat(),
    );
    let result = scratch.join(&format!("governance-{engine_name}.csv"));
    let output = Command::new("python3")
        .arg("scripts/run_sql.py")
        .arg(engine_name)
        .arg(&warehouse)
        .arg(&sql)
        .arg(&result)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{engine_name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_same(
        &format!("governance in {engine_name}"),
        &expected,
        &read(&[result]),
    );
}

#[test]
fn duckdb_shell_reads_the_exported_file_unchanged() {
    if shell("duckdb", "PyPI duckdb-cli") {
        run_shell("duckdb", "duckdb-cli");
    }
}

#[test]
fn spark_sql_shell_runs_the_exported_file_unchanged() {
    // spark-sql ships with PyPI pyspark.
    if engine("pyspark") {
        let _one = SPARK.lock().unwrap_or_else(|e| e.into_inner());
        run_shell("spark", "spark-sql");
    }
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
            "-- Every selected metric is exported.",
        ],
    );
    assert!(
        !sql.contains("template_checks"),
        "the governance checks only on request"
    );
    let config = scratch.write(
        "blocked.toml",
        "[governance]\nblocked_template_statuses = [\"paused\", \"flagged\"]\n\
         duplicate_match = \"customer_intent\"\nstrikes = 4\nhandoff_grace_s = 30\n\
         human_request_intents = [\"agent\", \"talk_to_human\"]\nbrief_before_s = 900\n\
         [governance.lanes.vip_fast_lane]\nownerless_max_s = 60\nstall_after_s = 600\n",
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
            "AND (p.intent = c.intent OR (p.intent IS NULL AND c.intent IS NULL))",
            "WHERE k = 4",
            "> 30000",
            "m.intent IN ('agent', 'talk_to_human')",
            "- 900000",
            "CASE WHEN spell_lane = 'vip_fast_lane' THEN 60000 ELSE 1800000 END",
            "CASE WHEN lane = 'vip_fast_lane' THEN 600000 ELSE 14400000 END",
        ],
    );
    // A tool that splits the file on `;` finds whole statements: the header holds none.
    let header: String = sql.lines().take_while(|l| l.starts_with("--")).collect();
    assert!(!header.contains(';'), "{header}");
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

#[test]
fn the_sla_targets_and_clocks_are_inlined_in_lookup_order() {
    let sql = sql_text(&[
        "--dialect",
        "duckdb",
        "--config",
        fixture("outcomes/l2lens.toml").to_str().unwrap(),
        "--select",
        "sla",
    ]);
    assert_has(
        &sql,
        &[
            // Lane + segment, then lane, then segment, then the default block.
            "CASE WHEN lower(lk) = 'vip_fast_lane' AND segment = 'enterprise' THEN CAST(30000 AS BIGINT) \
             WHEN segment = 'enterprise' THEN CAST(60000 AS BIGINT) ELSE CAST(300000 AS BIGINT) END",
            "CASE WHEN lower(lk) = 'vip_fast_lane' THEN CAST(30000 AS BIGINT) \
             WHEN segment = 'enterprise' THEN CAST(20000 AS BIGINT) ELSE CAST(900000 AS BIGINT) END",
            // The clock travels with the target of the block that sets it.
            "CASE WHEN lower(lk) = 'technical_l2' THEN 'business' ELSE 'calendar' END",
            // The business clock reads the calendar.
            "JOIN calendar k",
            "'sla_update_hit_rate'",
        ],
    );
    // A tool that splits the file on `;` finds whole statements: none inside a comment or a
    // statement.
    for line in sql.lines().filter(|l| l.contains(';')) {
        assert!(
            !line.trim_start().starts_with("--") && line.ends_with(';'),
            "{line}"
        );
    }
}
