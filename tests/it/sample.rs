//! The sample generator: deterministic, valid, and identical across formats once ingested.

use std::collections::BTreeMap;
use std::path::Path;

use l2lens::ingest::ingest_dir;
use l2lens::ingest::schema::Table;
use l2lens::progress::Progress;
use polars::prelude::*;

use crate::util::{Scratch, ingest_options as options, l2lens, stderr};

fn sample(out: &Path, conversations: u32, seed: u32, format: &str) {
    let output = l2lens(&[
        "sample",
        "--conversations",
        &conversations.to_string(),
        "--seed",
        &seed.to_string(),
        "--weeks",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--format",
        format,
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_arguments_give_byte_identical_files() {
    let (a, b, c) = (
        Scratch::new("s-a"),
        Scratch::new("s-b"),
        Scratch::new("s-c"),
    );
    sample(a.path(), 800, 7, "csv");
    sample(b.path(), 800, 7, "csv");
    sample(c.path(), 800, 8, "csv");
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        vec![
            "assignments.csv",
            "conversations.csv",
            "handoffs.csv",
            "messages.csv",
            "send_failures.csv",
            "templates.csv"
        ]
    );
    assert!(fa == fb, "same seed, same bytes");
    assert!(
        fa["messages.csv"] != fc["messages.csv"],
        "another seed, other data"
    );
}

#[test]
fn generated_data_ingests_with_zero_quarantined_rows_and_has_what_metrics_need() {
    let dir = Scratch::new("s-valid");
    sample(dir.path(), 3_000, 11, "csv");
    let ingested = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    assert!(
        ingested.quarantine.is_empty(),
        "first problems: {:?}",
        &ingested.quarantine[..ingested.quarantine.len().min(5)]
    );
    let conversations = &ingested.tables[&Table::Conversations];
    assert_eq!(conversations.height(), 3_000);
    assert!(ingested.tables.contains_key(&Table::Templates));

    let count = |table: Table, predicate: Expr| -> u32 {
        ingested.tables[&table]
            .clone()
            .lazy()
            .filter(predicate)
            .collect()
            .unwrap()
            .height() as u32
    };
    // The behaviours the metrics measure are all present.
    let reason = |r: &str| col("reason").eq(lit(r.to_owned()));
    assert!(
        count(Table::Assignments, reason("wrong_queue")) > 0,
        "explicit misroutes"
    );
    assert!(
        count(Table::Assignments, reason("reassign")) > 0,
        "reassignments"
    );
    assert!(
        count(Table::Assignments, reason("transfer")) > 0,
        "transfers"
    );
    assert!(
        count(Table::Assignments, col("reason").is_null()) > 0,
        "lateral moves"
    );
    assert!(
        count(Table::Assignments, col("assignee_id").is_null()) > 0,
        "queued items"
    );
    assert!(
        count(Table::Messages, col("is_fallback")) > 0,
        "bot fallbacks"
    );
    assert!(
        count(Table::Messages, col("kind").eq(lit("internal_note"))) > 0,
        "internal notes"
    );
    assert!(
        count(Table::Messages, col("kind").eq(lit("template"))) > 0,
        "outbound"
    );
    assert!(
        count(Table::Handoffs, col("attempted_steps").is_null()) > 0,
        "partial briefs"
    );
    assert!(
        count(Table::Conversations, col("closed_at").is_null()) > 0,
        "open threads"
    );
    assert!(
        !ingested.summary.unknown_lanes.is_empty(),
        "a few unknown lanes"
    );
    let channels = conversations.column("channel").unwrap().n_unique().unwrap();
    assert!(channels >= 4, "several channels");
    let segments = conversations.column("segment").unwrap().null_count();
    assert!(segments > 0, "some conversations have no segment");
}

#[test]
fn csv_jsonl_and_parquet_give_identical_ingested_tables() {
    let dirs: Vec<(Scratch, &str)> = ["csv", "jsonl", "parquet"]
        .into_iter()
        .map(|f| (Scratch::new(&format!("s-{f}")), f))
        .collect();
    for (dir, format) in &dirs {
        sample(dir.path(), 600, 5, format);
    }
    let tables: Vec<_> = dirs
        .iter()
        .map(|(dir, _)| ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap())
        .collect();
    for table in Table::ALL {
        let Some(reference) = tables[0].tables.get(&table) else {
            continue;
        };
        assert!(reference.height() > 0, "{table:?}");
        for (other, (_, format)) in tables.iter().zip(&dirs).skip(1) {
            assert!(
                other.tables[&table].equals_missing(reference),
                "{table:?} from {format} differs from CSV"
            );
        }
    }
}
