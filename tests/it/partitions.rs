//! Partitions of the conversations by customer (`--customer-partitions N`): the metrics, the
//! facts table and the board are the ones of a run over all conversations at once, to the
//! byte, whatever the partition count.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, fixture, stderr};

const COUNTS: [&str; 4] = ["1", "2", "7", "64"];

/// Runs `args` on `data` with `--out FILE` (and `--customer-partitions` when given), with the
/// text key set; returns the output's bytes and stderr.
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
    assert_eq!(
        run.status.code(),
        Some(0),
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
