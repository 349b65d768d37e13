//! Failures found by hostile inputs, each pinned by the test that caught it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{Scratch, golden_dir, l2lens, read_csv_rows, stderr};

const GOLDEN_AS_OF: &str = "2026-11-25T00:00:00Z";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_l2lens"))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Copies the golden tables (not the expected values) into `dir`.
fn golden_copy(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for table in ["conversations", "messages", "assignments", "handoffs"] {
        std::fs::copy(
            golden_dir().join(format!("{table}.csv")),
            dir.join(format!("{table}.csv")),
        )
        .unwrap();
    }
}

#[test]
fn partitioned_output_never_deletes_what_l2lens_did_not_write() {
    let scratch = Scratch::new("partition-out");
    let work = scratch.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("notes.txt"), "keep me").unwrap();
    let data = golden_dir();
    for args in [
        vec!["metrics", "--partition", "--out", "."],
        vec!["facts", "--partition", "--out", "."],
        vec!["metrics", "--partition", "--out", ".."],
    ] {
        let mut full = args.clone();
        full.extend(["--data", s(&data)]);
        let out = bin().args(&full).current_dir(&work).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("working directory"),
            "{}",
            stderr(&out)
        );
        assert!(work.join("notes.txt").is_file(), "{args:?} deleted a file");
    }
    // A folder with files l2lens did not write is refused, and left alone.
    let foreign = scratch.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("thesis.tex"), "years").unwrap();
    let out = l2lens(&[
        "metrics",
        "--partition",
        "--out",
        s(&foreign),
        "--data",
        s(&data),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did not write"), "{}", stderr(&out));
    assert!(foreign.join("thesis.tex").is_file());
    // The data's own folder, or a folder holding it, is refused.
    let raw = scratch.join("raw");
    golden_copy(&raw);
    for out_dir in [&raw, &scratch.path().to_owned()] {
        let out = l2lens(&[
            "facts",
            "--partition",
            "--out",
            s(out_dir),
            "--data",
            s(&raw),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(raw.join("conversations.csv").is_file());
    }
    // A new folder is written, and the same --out is replaced on the next run.
    let parts = scratch.join("parts");
    for _ in 0..2 {
        let out = l2lens(&[
            "metrics",
            "--partition",
            "--out",
            s(&parts),
            "--data",
            s(&data),
            "--as-of",
            GOLDEN_AS_OF,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert!(parts.join(".l2lens-output").is_file());
    assert!(
        parts
            .join("period_start=2026-11-16/part-0.parquet")
            .is_file()
    );
}

/// The golden data plus conversations dated 1970-01-01, 1900 and the year 0.
fn with_old_dates(dir: &Path) {
    golden_copy(dir);
    let mut conversations = std::fs::read_to_string(dir.join("conversations.csv")).unwrap();
    let mut messages = std::fs::read_to_string(dir.join("messages.csv")).unwrap();
    for (id, day) in [
        ("old_1970", "1970-01-01"),
        ("old_1900", "1900-01-01"),
        ("old_0000", "0000-03-01"),
    ] {
        conversations.push_str(&format!(
            "{id},cus_{id},whatsapp,pro,billing,{day}T10:00:00Z,{day}T18:00:00Z\n"
        ));
        messages.push_str(&format!(
            "m_{id}_1,{id},{day}T10:00:00Z,customer,text,,billing,\n\
             m_{id}_2,{id},{day}T10:00:30Z,bot,text,,,\n"
        ));
    }
    std::fs::write(dir.join("conversations.csv"), conversations).unwrap();
    std::fs::write(dir.join("messages.csv"), messages).unwrap();
}

#[test]
fn dates_before_1970_are_measured_like_any_other() {
    let scratch = Scratch::new("old-dates");
    let data = scratch.join("data");
    with_old_dates(&data);
    let metrics = scratch.join("metrics.csv");
    let out = l2lens(&[
        "metrics",
        "--data",
        s(&data),
        "--as-of",
        GOLDEN_AS_OF,
        "--period",
        "day",
        "--out",
        s(&metrics),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = read_csv_rows(&metrics);
    for day in ["1970-01-01", "1900-01-01", "0000-03-01"] {
        let frt = rows
            .iter()
            .find(|r| r[0] == day && r[1] == "ALL" && r[2] == "frt_median_s")
            .unwrap_or_else(|| panic!("no FRT row for {day}"));
        assert_eq!(frt[3], "30.0", "{day}");
        assert_eq!(frt[4], "1", "{day}");
        // The thread was open with a customer message at no snapshot (it closed the same day).
        assert!(
            !rows
                .iter()
                .any(|r| r[0] == day && r[2] == "window_risk_rate")
        );
    }
    // The other commands on the same data.
    for args in [
        vec!["alerts", "--as-of", GOLDEN_AS_OF],
        vec![
            "query",
            "--sql",
            "select count(*) as n from facts",
            "--as-of",
            GOLDEN_AS_OF,
        ],
    ] {
        let mut full = args.clone();
        full.extend(["--data", s(&data)]);
        let out = l2lens(&full);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let parts = scratch.join("facts_parts");
    let out = l2lens(&[
        "facts",
        "--partition",
        "--out",
        s(&parts),
        "--data",
        s(&data),
        "--as-of",
        GOLDEN_AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        parts
            .join("period_start=1900-01-01/part-0.parquet")
            .is_file()
    );
    assert!(
        parts
            .join("period_start=1969-12-29/part-0.parquet")
            .is_file()
    );
}

#[test]
fn a_far_future_as_of_is_measured_not_fatal() {
    let scratch = Scratch::new("far-as-of");
    let out_csv = scratch.join("metrics.csv");
    let out = l2lens(&[
        "metrics",
        "--data",
        s(&golden_dir()),
        "--as-of",
        "9999-12-31T23:59:59Z",
        "--out",
        s(&out_csv),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The quiet weeks between the data and as_of are counted, not enumerated.
    let err = stderr(&out);
    assert!(err.contains("window risk has no snapshot in"), "{err}");
    // The threads still open are at risk at the snapshot of 9999's last week.
    let rows = read_csv_rows(&out_csv);
    let last = rows
        .iter()
        .find(|r| r[0] == "9999-12-27" && r[1] == "ALL" && r[2] == "window_expired")
        .unwrap_or_else(|| panic!("no window row in 9999"));
    assert!(last[3].parse::<f64>().unwrap() >= 1.0, "{last:?}");
}

#[test]
fn one_conversation_dated_year_0_or_9999_never_blocks_the_weekly_report() {
    let scratch = Scratch::new("year-0-9999");
    for (year, opened) in [
        ("0", "0000-01-05T10:00:00Z"),
        ("9999", "9999-06-02T10:00:00Z"),
    ] {
        let raw = scratch.join(&format!("raw-{year}"));
        golden_copy(&raw);
        let append = |table: &str, line: &str| {
            let path = raw.join(format!("{table}.csv"));
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str(line);
            std::fs::write(&path, text).unwrap();
        };
        // An open WhatsApp thread with a customer message: in the window cohort from then on.
        append(
            "conversations",
            &format!("h{year},cus_h,whatsapp,free,order_status,{opened},\n"),
        );
        append(
            "messages",
            &format!("mh{year},h{year},{opened},customer,text,,order_status,\n"),
        );
        for command in ["metrics", "report", "run"] {
            let out_dir = scratch.join(&format!("out-{year}-{command}"));
            let mut args = vec![command, "--data", s(&raw)];
            match command {
                "metrics" => args.extend(["--select", "all", "--out", "metrics.csv"]),
                _ => args.extend(["--out", "reports"]),
            }
            std::fs::create_dir_all(&out_dir).unwrap();
            let out = bin().args(&args).current_dir(&out_dir).output().unwrap();
            // `run` exits 1 on the golden data's critical alerts; never 2.
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{year} {command}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("window risk has no snapshot in"),
                "{year} {command}: {}",
                stderr(&out)
            );
            if command == "report" {
                // reports/<period>/index.html
                let html = std::fs::read_dir(out_dir.join("reports"))
                    .unwrap()
                    .filter_map(|e| e.ok().map(|e| e.path().join("index.html")))
                    .find(|p| p.is_file())
                    .map(|p| std::fs::read_to_string(p).unwrap())
                    .expect("a report page");
                assert!(html.contains("Window risk has no snapshot in"), "{year}");
            }
        }
    }
}

#[test]
fn an_impossible_weeks_back_is_an_argument_error() {
    let scratch = Scratch::new("weeks-back");
    for value in ["20000000", "0", "-3"] {
        let out = l2lens(&[
            "report",
            "--data",
            s(&golden_dir()),
            "--out",
            s(scratch.path()),
            &format!("--weeks-back={value}"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{value}: {}", stderr(&out));
        assert!(stderr(&out).contains("--weeks-back"), "{}", stderr(&out));
    }
}

/// Row counts of a warehouse's tables as its summary says and as its files hold.
fn warehouse_is_consistent(dir: &Path) -> Option<u64> {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ingest_summary.json")).ok()?)
            .ok()?;
    let accepted = summary["tables"]["conversations"]["rows_accepted"].as_u64()?;
    let out = l2lens(&[
        "query",
        "--data",
        s(dir),
        "--sql",
        "select count(*) as n from conversations",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let n: u64 = text.lines().nth(1)?.trim().parse().ok()?;
    assert_eq!(
        n,
        accepted,
        "summary and tables disagree in {}",
        dir.display()
    );
    Some(n)
}

#[test]
fn a_killed_ingest_leaves_the_old_warehouse_or_the_new_one() {
    let scratch = Scratch::new("killed-ingest");
    let small = scratch.join("small");
    let large = scratch.join("large");
    for (dir, n) in [(&small, "200"), (&large, "60000")] {
        let out = l2lens(&["sample", "--conversations", n, "--out", s(dir)]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let warehouse = scratch.join("warehouse");
    let out = l2lens(&["ingest", "--data", s(&small), "--out", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(warehouse_is_consistent(&warehouse), Some(200));
    let mut outcomes = Vec::new();
    for delay_ms in [100, 400, 800, 1200, 1600, 2400] {
        let mut child = bin()
            .args([
                "--quiet",
                "ingest",
                "--data",
                s(&large),
                "--out",
                s(&warehouse),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let n = warehouse_is_consistent(&warehouse).expect("a whole warehouse");
        assert!(n == 200 || n == 60_000, "mixed: {n}");
        outcomes.push(n);
        // Go back to the small warehouse for the next try.
        let out = l2lens(&["ingest", "--data", s(&small), "--out", s(&warehouse)]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // Temporary folders of killed runs may remain beside it, never inside it.
    assert!(!warehouse.join("conversations.parquet.tmp").exists());
    eprintln!("kill outcomes (200 = old, 60000 = new): {outcomes:?}");
}

#[test]
fn the_warehouse_keeps_the_configuration_it_was_built_with() {
    let scratch = Scratch::new("warehouse-config");
    let raw = scratch.join("raw");
    golden_copy(&raw);
    // Make technical_l2 a plain L1 lane: specialist facts change with it.
    std::fs::write(
        raw.join("l2lens.toml"),
        "[lanes]\ntechnical_l2 = \"L1\"\nbilling_disputes = \"L2\"\n",
    )
    .unwrap();
    let warehouse = scratch.join("warehouse");
    let out = l2lens(&["ingest", "--data", s(&raw), "--out", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(warehouse.join("l2lens.toml").is_file());
    let from_raw = l2lens(&["metrics", "--data", s(&raw), "--as-of", GOLDEN_AS_OF]);
    let from_warehouse = l2lens(&["metrics", "--data", s(&warehouse), "--as-of", GOLDEN_AS_OF]);
    assert_eq!(from_raw.status.code(), Some(0), "{}", stderr(&from_raw));
    assert_eq!(
        String::from_utf8_lossy(&from_raw.stdout),
        String::from_utf8_lossy(&from_warehouse.stdout)
    );
    let defaults = l2lens(&[
        "metrics",
        "--data",
        s(&golden_dir()),
        "--as-of",
        GOLDEN_AS_OF,
    ]);
    assert_ne!(
        String::from_utf8_lossy(&defaults.stdout),
        String::from_utf8_lossy(&from_warehouse.stdout),
        "the configuration must matter for this test to mean anything"
    );
    // --config overrides the stored one, and lanes it does not know are named on stderr.
    let other = scratch.write("other.toml", "[rules]\nwindow_risk_hours = 20\n");
    let out = l2lens(&[
        "metrics",
        "--data",
        s(&warehouse),
        "--config",
        s(&other),
        "--as-of",
        GOLDEN_AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&defaults.stdout)
    );
}

#[test]
fn unknown_lanes_are_named_by_every_command_from_raw_data_and_a_warehouse() {
    let scratch = Scratch::new("unknown-lanes");
    let raw = scratch.join("raw");
    golden_copy(&raw);
    let mut assignments = std::fs::read_to_string(raw.join("assignments.csv")).unwrap();
    let first_id = std::fs::read_to_string(raw.join("conversations.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    assignments.push_str(&format!("{first_id},2026-11-16T09:00:00Z,fraud_review,,\n"));
    std::fs::write(raw.join("assignments.csv"), assignments).unwrap();
    let warehouse = scratch.join("warehouse");
    let out = l2lens(&["ingest", "--data", s(&raw), "--out", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for data in [&raw, &warehouse] {
        for args in [
            vec!["metrics"],
            vec!["facts", "--out", "-"],
            vec!["query", "--sql", "select 1 as one"],
        ] {
            let mut full = args.clone();
            full.extend(["--data", s(data), "--as-of", GOLDEN_AS_OF]);
            let out = l2lens(&full);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("fraud_review (1 rows)"),
                "{args:?} on {}: {}",
                data.display(),
                stderr(&out)
            );
        }
    }
    // Named in the configuration: no warning.
    let config = scratch.write("lanes.toml", "[lanes]\nfraud_review = \"L3\"\n");
    let out = l2lens(&["metrics", "--data", s(&warehouse), "--config", s(&config)]);
    assert!(!stderr(&out).contains("fraud_review"), "{}", stderr(&out));
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_with_exit_0() {
    let mut child = bin()
        .args([
            "query",
            "--data",
            "sample_data",
            "--sql",
            "select * from messages",
            "--format",
            "csv",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn out_dash_is_standard_output_for_every_format() {
    let scratch = Scratch::new("out-dash");
    let data = golden_dir();
    let parquet = bin()
        .args([
            "metrics",
            "--data",
            s(&data),
            "--out",
            "-",
            "--format",
            "parquet",
            "--as-of",
            GOLDEN_AS_OF,
        ])
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert_eq!(parquet.status.code(), Some(0), "{}", stderr(&parquet));
    assert!(
        parquet.stdout.starts_with(b"PAR1"),
        "Parquet bytes on stdout"
    );
    assert!(!scratch.join("-").exists(), "no file named -");
    for args in [
        vec!["facts", "--out", "-", "--format", "parquet"],
        vec![
            "query",
            "--sql",
            "select 1 as one",
            "--out",
            "-",
            "--format",
            "parquet",
        ],
    ] {
        let mut full = args.clone();
        full.extend(["--data", s(&data)]);
        let out = bin()
            .args(&full)
            .current_dir(scratch.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.starts_with(b"PAR1"), "{args:?}");
        assert!(!scratch.join("-").exists(), "{args:?} wrote a file named -");
    }
    let facts = l2lens(&["facts", "--data", s(&data), "--out", "-"]);
    assert_eq!(facts.status.code(), Some(0), "{}", stderr(&facts));
    assert!(String::from_utf8_lossy(&facts.stdout).starts_with("conversation_id,"));
    // Extensions name formats in any case.
    let upper = scratch.join("METRICS.JSON");
    let out = l2lens(&["metrics", "--data", s(&data), "--out", s(&upper)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&upper).unwrap().starts_with('['));
    let upper = scratch.join("RESULT.CSV");
    let out = l2lens(&[
        "query",
        "--data",
        s(&data),
        "--sql",
        "select 1 as one",
        "--out",
        s(&upper),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&upper).unwrap(), "one\n1\n");
    // A folder output refuses -.
    let out = l2lens(&["ingest", "--data", s(&data), "--out", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("standard output"), "{}", stderr(&out));
}

#[test]
fn a_query_with_thousands_of_terms_answers_in_bounded_memory() {
    // c00 … c4999: the 19 golden conversations (c01 … c19) among 5,000 ids.
    let terms: Vec<String> = (0..5_000)
        .map(|i| format!("conversation_id = 'c{i:02}'"))
        .collect();
    let sql = format!(
        "select count(*) as n from conversations where {}",
        terms.join(" OR ")
    );
    // As a file: one argument of that size is past the operating system's limit.
    let scratch = Scratch::new("deep-query");
    let file = scratch.write("deep.sql", &sql);
    // Under an 8 GiB address-space limit, which the unrewritten chain ran past.
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -v 8388608 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_l2lens"),
            "query",
            s(&file),
            "--data",
            s(&golden_dir()),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n19\n");
    // A chain that cannot become a list is refused with how to write it, not run for minutes.
    let terms: Vec<String> = (0..2_000)
        .map(|i| format!("(conversation_id = 'c{i:02}' AND segment = 'free')"))
        .collect();
    let file = scratch.write(
        "mixed.sql",
        format!(
            "select count(*) from conversations where {}",
            terms.join(" OR ")
        ),
    );
    let out = l2lens(&["query", s(&file), "--data", s(&golden_dir())]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("levels deep"), "{}", stderr(&out));
    // Files are not tables.
    let out = l2lens(&[
        "query",
        "--sql",
        "select * from read_csv('/etc/passwd')",
        "--data",
        s(&golden_dir()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("never files"), "{}", stderr(&out));
}

#[test]
fn an_invalid_time_zone_is_refused_where_it_enters() {
    for command in ["metrics", "facts"] {
        let mut args = vec![command, "--data", "sample_data", "--tz", "Mars/Olympus"];
        if command == "facts" {
            args.extend(["--partition", "--out", "never_written"]);
        }
        let out = l2lens(&args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
    }
}

#[test]
fn control_characters_in_names_never_reach_the_report() {
    let scratch = Scratch::new("nul-lane");
    let raw = scratch.join("raw");
    golden_copy(&raw);
    let assignments = std::fs::read_to_string(raw.join("assignments.csv"))
        .unwrap()
        .replace("technical_l2", "techn\u{0}ical\u{1b}[31m");
    std::fs::write(raw.join("assignments.csv"), assignments).unwrap();
    let reports = scratch.join("reports");
    let out = l2lens(&[
        "report",
        "--data",
        s(&raw),
        "--out",
        s(&reports),
        "--as-of",
        GOLDEN_AS_OF,
        "--week",
        "2026-W47",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(reports.join("2026-11-16/index.html")).unwrap();
    assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'));
    assert!(
        html.contains("techn\u{fffd}ical\u{fffd}[31m"),
        "the name is shown, marked"
    );
}

#[test]
fn a_directory_in_place_of_a_table_file_is_an_error_naming_it() {
    let scratch = Scratch::new("dir-as-table");
    let raw = scratch.join("raw");
    golden_copy(&raw);
    // An optional table: before, it read as "no handoffs" and the run went on.
    std::fs::remove_file(raw.join("handoffs.csv")).unwrap();
    std::fs::create_dir_all(raw.join("handoffs.csv")).unwrap();
    for args in [
        vec!["metrics", "--as-of", GOLDEN_AS_OF],
        vec!["ingest", "--out", "unused"],
    ] {
        let mut full = args.clone();
        full.extend(["--data", s(&raw)]);
        let out = bin()
            .args(&full)
            .current_dir(scratch.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("handoffs.csv is not a file"),
            "{}",
            stderr(&out)
        );
    }
    // The same in a warehouse.
    let raw_ok = scratch.join("raw-ok");
    golden_copy(&raw_ok);
    let warehouse = scratch.join("warehouse");
    let out = l2lens(&["ingest", "--data", s(&raw_ok), "--out", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::remove_file(warehouse.join("handoffs.parquet")).unwrap();
    std::fs::create_dir_all(warehouse.join("handoffs.parquet")).unwrap();
    let out = l2lens(&["metrics", "--as-of", GOLDEN_AS_OF, "--data", s(&warehouse)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("handoffs.parquet is not a file"),
        "{}",
        stderr(&out)
    );
}
