//! Partitions of the conversations by customer (`--customer-partitions N`): the metrics, the
//! facts table and the board are the ones of a run over all conversations at once, to the
//! byte, whatever the partition count.

use std::path::{Path, PathBuf};
use std::process::Command;

use l2lens::ingest::parts::of_customer;
use l2lens::ingest::schema::Table;
use polars::prelude::*;

use crate::util::{Scratch, fixture, stderr};

const COUNTS: [&str; 4] = ["1", "2", "7", "64"];

/// Runs `args` on `data` with `--out FILE` (and `--customer-partitions` when given), with the
/// text key set; returns the output's bytes and stderr. It must exit 0 (`alerts`: 0 or 1).
fn output(scratch: &Scratch, data: &Path, args: &[&str], parts: Option<&str>) -> (Vec<u8>, String) {
    let name = format!(
        "{}-{}.csv",
        args.join("_").replace(['-', '/', ' '], ""),
        parts.unwrap_or("whole")
    );
    let out = scratch.join(&name);
    let mut command = Command::new(env!("CARGO_BIN_EXE_l2lens"));
    command
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("L2LENS_TEXT_KEY", "partition-test-key-0123456789");
    if let Some(n) = parts {
        command.args(["--customer-partitions", n]);
    }
    let run = command.output().expect("run l2lens");
    // `alerts` exits 1 on critical alerts.
    let ok = match args.first() {
        Some(&"alerts") => matches!(run.status.code(), Some(0 | 1)),
        _ => run.status.code() == Some(0),
    };
    assert!(
        ok,
        "{args:?} --customer-partitions {parts:?} on {}: {}",
        data.display(),
        stderr(&run)
    );
    let bytes = std::fs::read(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    (bytes, stderr(&run))
}

/// Every command of `runs` on `data` gives the same bytes with every partition count as
/// without partitions; the warnings (quiet periods, quarantine) are the same too.
fn assert_partition_free(label: &str, data: &Path, runs: &[&[&str]]) {
    let scratch = Scratch::new(&format!("partitions-{label}"));
    for args in runs {
        let (whole, whole_err) = output(&scratch, data, args, None);
        let lines = whole.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > 1 || args == &["board"], "{label} {args:?}: no rows");
        for n in COUNTS {
            let (parted, parted_err) = output(&scratch, data, args, Some(n));
            assert!(
                parted == whole,
                "{label} {args:?}: {n} partition(s) differ from one run; compare {}",
                scratch.path().display()
            );
            let warnings = |err: &str| -> Vec<String> {
                err.lines()
                    .filter(|l| l.starts_with("warning"))
                    .map(str::to_owned)
                    .collect()
            };
            assert_eq!(
                warnings(&parted_err),
                warnings(&whole_err),
                "{label} {args:?} {n}"
            );
        }
    }
}

const ALL_COMMANDS: [&[&str]; 3] = [&["metrics", "--select", "all"], &["facts"], &["board"]];

#[test]
fn golden_governance_and_business_hours_are_the_same_in_any_partition_count() {
    for name in ["golden", "governance", "business_hours"] {
        assert_partition_free(name, &fixture(name), &ALL_COMMANDS);
    }
}

#[test]
fn the_sample_data_is_the_same_in_any_partition_count() {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    assert_partition_free("sample", &sample, &ALL_COMMANDS);
}

#[test]
fn text_calls_cost_and_sla_are_the_same_in_any_partition_count() {
    // Keyed tokens and repetition; calls, aliases and billing; SLA promises and bot outcomes.
    for name in ["text", "whatsapp2026", "outcomes"] {
        assert_partition_free(name, &fixture(name), &ALL_COMMANDS);
    }
}

#[test]
fn every_dimension_and_period_is_the_same_in_any_partition_count() {
    let runs: [&[&str]; 5] = [
        &["metrics", "--select", "all", "--by", "owner"],
        &["metrics", "--select", "all", "--by", "none"],
        &["metrics", "--select", "all", "--by", "intent"],
        &[
            "metrics",
            "--select",
            "all",
            "--period",
            "day",
            "--tz",
            "Asia/Kolkata",
        ],
        &[
            "metrics",
            "--select",
            "all",
            "--period",
            "month",
            "--tz",
            "America/New_York",
        ],
    ];
    for name in ["outcomes", "governance"] {
        assert_partition_free(name, &fixture(name), &runs);
    }
}

#[test]
fn a_thread_dated_year_0_is_counted_the_same_in_partitions() {
    let scratch = Scratch::new("partitions-year-0");
    let raw = scratch.join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    for table in ["conversations", "messages", "assignments", "handoffs"] {
        let mut text = std::fs::read_to_string(fixture("golden").join(format!("{table}.csv")))
            .expect("a golden table");
        match table {
            "conversations" => {
                text.push_str("h0,cus_h,whatsapp,free,order_status,0000-01-05T10:00:00Z,\n")
            }
            "messages" => {
                text.push_str("mh0,h0,0000-01-05T10:00:00Z,customer,text,,order_status,\n")
            }
            _ => {}
        }
        std::fs::write(raw.join(format!("{table}.csv")), text).unwrap();
    }
    assert_partition_free("year-0", &raw, &[&["metrics", "--select", "all"]]);
    let (_, err) = output(&scratch, &raw, &["metrics"], Some("7"));
    assert!(err.contains("window risk has no snapshot in"), "{err}");
}

#[test]
fn a_partition_count_out_of_range_is_an_argument_error() {
    for n in ["0", "257"] {
        let out = crate::util::l2lens(&[
            "metrics",
            "--data",
            "tests/fixtures/golden",
            "--customer-partitions",
            n,
        ]);
        assert_eq!(out.status.code(), Some(2), "{n}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--customer-partitions"),
            "{}",
            stderr(&out)
        );
    }
}

/// Every file of a report folder, with the line that says when it was generated left out.
fn report_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a report folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("a report file");
            let bytes = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter(|l| !l.contains(" · generated "))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes(),
                _ => bytes,
            };
            out.push((path.strip_prefix(dir).expect("inside").to_path_buf(), bytes));
        }
    }
    out.sort();
    out
}

/// The weekly report (every page, CSV, chart and the alerts with their drill-downs) is the
/// same whatever the partition count.
fn assert_report_partition_free(label: &str, data: &Path, extra: &[&str]) {
    let scratch = Scratch::new(&format!("partitions-report-{label}"));
    let report = |parts: Option<&str>| {
        let out = scratch.join(&format!("reports-{}", parts.unwrap_or("whole")));
        let mut command = Command::new(env!("CARGO_BIN_EXE_l2lens"));
        command
            .arg("report")
            .arg("--data")
            .arg(data)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("L2LENS_TEXT_KEY", "partition-test-key-0123456789");
        if let Some(n) = parts {
            command.args(["--customer-partitions", n]);
        }
        let run = command.output().expect("run l2lens");
        assert_eq!(
            run.status.code(),
            Some(0),
            "{label} {parts:?}: {}",
            stderr(&run)
        );
        report_files(&out)
    };
    let whole = report(None);
    assert!(
        whole.iter().any(|(p, _)| p.ends_with("alerts.json")),
        "{label}: {whole:?}"
    );
    for n in ["2", "7", "64"] {
        let parted = report(Some(n));
        let names =
            |files: &[(PathBuf, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&parted), names(&whole), "{label} {n}");
        for ((path, got), (_, want)) in parted.iter().zip(&whole) {
            assert!(
                got == want,
                "{label}: {} differs with {n} partitions",
                path.display()
            );
        }
    }
}

#[test]
fn the_report_is_the_same_in_any_partition_count() {
    for name in [
        "golden",
        "governance",
        "business_hours",
        "outcomes",
        "text",
        "whatsapp2026",
    ] {
        assert_report_partition_free(name, &fixture(name), &[]);
    }
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    assert_report_partition_free("sample", &sample, &[]);
    // A period asked for: gathered with the metrics (49 alerts).
    assert_report_partition_free("sample-week", &sample, &["--week", "2026-W46"]);
    // The last week before as_of has no data, so the report shows the latest week with data:
    // its pieces, 4 alerts among them, come from a second pass once the alerts are known.
    assert_report_partition_free(
        "sample-fallback",
        &sample,
        &["--as-of", "2027-06-01T00:00:00Z"],
    );
    assert_report_partition_free(
        "outcomes-by-owner",
        &fixture("outcomes"),
        &["--by", "owner", "--period", "day", "--tz", "Asia/Kolkata"],
    );
}

#[test]
fn alerts_are_the_same_in_any_partition_count() {
    // The alerts of the sample data: hundreds of conversations behind them, in order.
    let scratch = Scratch::new("partitions-alerts");
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let (whole, _) = output(&scratch, &data, &["alerts"], None);
    let listed = String::from_utf8_lossy(&whole)
        .matches("conversation_id")
        .count();
    assert!(listed > 100, "{listed}");
    for n in COUNTS {
        let (parted, _) = output(&scratch, &data, &["alerts"], Some(n));
        assert!(parted == whole, "{n} partitions");
    }
}

/// `ingest` stores the warehouse split by customer; a run in as many partitions reads it, the
/// same bytes as one run over all conversations, and a table rewritten since, another count
/// or an append never read a stale split.
#[test]
fn a_warehouse_keeps_its_split_for_later_runs() {
    let scratch = Scratch::new("partitions-stored");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let warehouse = scratch.join("warehouse");
    let ingest = |extra: &[&str]| {
        let run = Command::new(env!("CARGO_BIN_EXE_l2lens"))
            .args(["ingest", "-q", "--data"])
            .arg(&sample)
            .arg("--out")
            .arg(&warehouse)
            .args(["--customer-partitions", "3"])
            .args(extra)
            .output()
            .expect("run l2lens");
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    };
    ingest(&[]);
    assert_split_is_the_warehouse(&warehouse, 3);
    let stored = warehouse.join("partitions");
    for name in [
        "manifest.json",
        "conversations-0.parquet",
        "messages-2.parquet",
    ] {
        assert!(stored.join(name).is_file(), "{name}");
    }
    let runs: [&[&str]; 2] = [&["metrics", "--select", "all"], &["board"]];
    let whole: Vec<Vec<u8>> = runs
        .iter()
        .map(|args| output(&scratch, &warehouse, args, Some("1")).0)
        .collect();
    for (args, whole) in runs.iter().zip(&whole) {
        assert!(
            output(&scratch, &warehouse, args, Some("3")).0 == *whole,
            "{args:?}"
        );
    }
    assert_report_partition_free("stored", &warehouse, &[]);

    // A run in three partitions reads the stored files: one spoiled, it stops and says what to
    // do; in two partitions it splits the warehouse itself.
    std::fs::write(stored.join("messages-0.parquet"), "not parquet").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["metrics", "-q", "--customer-partitions", "3", "--data"])
        .arg(&warehouse)
        .output()
        .expect("run l2lens");
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("delete that folder"),
        "{}",
        stderr(&run)
    );
    assert!(output(&scratch, &warehouse, runs[0], Some("2")).0 == whole[0]);

    // The same file with another modification time (written again, or copied without its
    // times): the stored split is not read.
    let path = warehouse.join("messages.parquet");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000))
        .unwrap();
    assert!(output(&scratch, &warehouse, runs[0], Some("3")).0 == whole[0]);

    // The same rows written again with other bytes: the stored split no longer describes the
    // table and is not read.
    let mut frame = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .with_compression(ParquetCompression::Uncompressed)
        .finish(&mut frame)
        .unwrap();
    assert!(output(&scratch, &warehouse, runs[0], Some("3")).0 == whole[0]);

    // An append stores the split of the new tables.
    ingest(&[]);
    std::fs::write(stored.join("messages-0.parquet"), "not parquet").unwrap();
    ingest(&["--append"]);
    assert!(stored.join("manifest.json").is_file());
    assert_split_is_the_warehouse(&warehouse, 3);
    for (args, whole) in runs.iter().zip(&whole) {
        assert!(
            output(&scratch, &warehouse, args, Some("3")).0 == *whole,
            "{args:?}"
        );
    }
}

/// The split a warehouse stores holds, in each partition's file of each table, exactly the
/// rows of that partition's customers, in the warehouse's order, with the warehouse's columns
/// and types (but a child table's `conversation_id`); a partition with no rows has no file.
fn assert_split_is_the_warehouse(warehouse: &Path, count: usize) {
    let read = |path: &Path| {
        ParquetReader::new(std::fs::File::open(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
            .finish()
            .unwrap()
    };
    let conversations = read(&warehouse.join("conversations.parquet"));
    let part_of: std::collections::HashMap<u32, usize> = conversations
        .column("conversation_key")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .zip(
            conversations
                .column("customer_id")
                .unwrap()
                .str()
                .unwrap()
                .iter(),
        )
        .map(|(key, customer)| (key.unwrap(), of_customer(customer, count)))
        .collect();
    let mut files = 0;
    for table in Table::ALL {
        let path = warehouse.join(format!("{}.parquet", table.name()));
        if !(table == Table::Conversations || table.references_conversation()) || !path.is_file() {
            continue;
        }
        let mut whole = read(&path);
        if table != Table::Conversations {
            whole = whole.drop("conversation_id").unwrap();
        }
        let parts: Vec<Option<usize>> = whole
            .column("conversation_key")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .map(|key| key.and_then(|k| part_of.get(&k).copied()))
            .collect();
        for index in 0..count {
            let mask: BooleanChunked = parts.iter().map(|p| *p == Some(index)).collect();
            let expected = whole.filter(&mask).unwrap();
            let file = warehouse
                .join("partitions")
                .join(format!("{}-{index}.parquet", table.name()));
            if expected.height() == 0 {
                assert!(!file.exists(), "{file:?} should not exist");
                continue;
            }
            let got = read(&file);
            assert_eq!(got.schema(), expected.schema(), "{file:?}");
            assert!(got.equals_missing(&expected), "{file:?}");
            files += 1;
        }
    }
    assert!(files > count, "{files} files");
}

/// Ingests `data` into `warehouse` storing `count` partitions, and checks the stored split.
fn ingest_in_partitions(data: &Path, warehouse: &Path, count: usize) {
    let run = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["ingest", "-q", "--customer-partitions"])
        .arg(count.to_string())
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(warehouse)
        .output()
        .expect("run l2lens");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_split_is_the_warehouse(warehouse, count);
}

/// A Parquet export is split as it is validated too, to the same files.
#[test]
fn an_ingest_of_parquet_splits_as_it_writes() {
    let scratch = Scratch::new("partitions-parquet");
    let data = scratch.join("parquet");
    let run = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["sample", "-q", "--conversations", "4000", "--seed", "3"])
        .args(["--weeks", "4", "--format", "parquet", "--out"])
        .arg(&data)
        .output()
        .expect("run l2lens");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let warehouse = scratch.join("warehouse");
    ingest_in_partitions(&data, &warehouse, 5);
    let whole = output(
        &scratch,
        &warehouse,
        &["metrics", "--select", "all"],
        Some("1"),
    )
    .0;
    assert!(
        output(
            &scratch,
            &warehouse,
            &["metrics", "--select", "all"],
            Some("5")
        )
        .0 == whole
    );
    let all = ["metrics", "--select", "all"];
    assert!(output(&scratch, &warehouse, &all, None).0 == whole);

    // Without --customer-partitions a run takes the stored split's count (here 5, where the
    // data size alone would give one partition): a spoiled stored file stops it.
    std::fs::write(
        warehouse.join("partitions").join("messages-0.parquet"),
        "not parquet",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(["metrics", "-q", "--data"])
        .arg(&warehouse)
        .output()
        .expect("run l2lens");
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
}

/// A table read as JSON Lines stays in memory until the warehouse is written: it is split
/// after, beside the conversations, to the same files.
#[test]
fn a_json_lines_table_is_split_after_it_is_written() {
    let scratch = Scratch::new("partitions-jsonl");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for entry in std::fs::read_dir(&sample).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "messages.csv" {
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let headers = reader.headers().unwrap().clone();
            let mut lines = String::new();
            for record in reader.records() {
                let record = record.unwrap();
                let row: serde_json::Map<String, serde_json::Value> = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| {
                        let v = match v {
                            "" => serde_json::Value::Null,
                            v => serde_json::Value::String(v.to_owned()),
                        };
                        (h.to_owned(), v)
                    })
                    .collect();
                lines.push_str(&serde_json::Value::Object(row).to_string());
                lines.push('\n');
            }
            std::fs::write(data.join("messages.jsonl"), lines).unwrap();
        } else {
            std::fs::copy(&path, data.join(&name)).unwrap();
        }
    }
    let warehouse = scratch.join("warehouse");
    ingest_in_partitions(&data, &warehouse, 3);
    let all = ["metrics", "--select", "all"];
    let whole = output(&scratch, &warehouse, &all, Some("1")).0;
    assert!(output(&scratch, &warehouse, &all, None).0 == whole);
}
