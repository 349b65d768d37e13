//! `l2lens ingest` writes CSV and Parquet tables into the warehouse as it validates them: the
//! result must be what validating in memory gives.

use std::path::Path;

use l2lens::ingest::ingest_dir;
use l2lens::progress::Progress;

use crate::util::{Scratch, ingest_options as options, l2lens, stderr};

#[test]
fn the_streamed_warehouse_equals_the_tables_validated_in_memory() {
    // `l2lens ingest` writes CSV tables as it validates them; every command reading a raw
    // directory keeps them in memory: both must give the same rows and the same quarantine, on
    // the sample data and on a file with bad rows.
    let bad = Scratch::new("streamed-bad");
    bad.write(
        "conversations.csv",
        "conversation_id,customer_id,opened_at\nc1,u1,2026-11-16T09:00:00Z\nc1,u2,2026-11-16T09:00:00Z\n",
    );
    bad.write(
        "messages.csv",
        "message_id,conversation_id,sent_at,sender,kind\n\
         m1,c1,2026-11-16T09:00:00Z,customer,text\n\
         m2,c1,soon,bot,text\n\
         m3,nope,2026-11-16T09:02:00Z,bot,text\n\
         m1,c1,2026-11-16T09:03:00Z,agent,text\n",
    );
    bad.write(
        "assignments.csv",
        "conversation_id,assigned_at,lane\nc1,2026-11-16T09:05:00Z,general\nc1,,general\n",
    );
    for dir in [Path::new("sample_data"), bad.path()] {
        let out = Scratch::new("streamed");
        let output = l2lens(&[
            "ingest",
            "--quiet",
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let direct = ingest_dir(dir, &options(), &Progress::silent()).unwrap();
        let loaded =
            l2lens::dataset::Dataset::load(out.path(), &options(), &Progress::silent()).unwrap();
        for (table, frame) in &direct.tables {
            let back = loaded.table(*table).unwrap().collect().unwrap();
            assert!(back.equals_missing(frame), "{table:?} of {}", dir.display());
        }
        let expected = l2lens::warehouse::quarantine_csv(&direct.quarantine).unwrap();
        assert_eq!(std::fs::read(out.join("quarantine.csv")).unwrap(), expected);
    }
}

/// The sample data as Parquet files of text columns (the conversations with an integer extra
/// column): what a warehouse export gives.
fn sample_as_parquet(dir: &Path) {
    use polars::prelude::*;
    for entry in std::fs::read_dir("sample_data").unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".csv")
        else {
            continue;
        };
        let mut frame = CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.clone()))
            .unwrap()
            .finish()
            .unwrap();
        if stem == "conversations" {
            let priority: Vec<i64> = (0..frame.height() as i64).map(|i| i % 5).collect();
            frame
                .with_column(Column::new("priority".into(), priority))
                .unwrap();
        }
        let file = std::fs::File::create(dir.join(format!("{stem}.parquet"))).unwrap();
        ParquetWriter::new(file).finish(&mut frame).unwrap();
    }
}

#[test]
fn parquet_input_is_streamed_into_the_same_warehouse() {
    let input = Scratch::new("parquet-in");
    sample_as_parquet(input.path());
    let out = Scratch::new("parquet-streamed");
    let output = l2lens(&[
        "ingest",
        "--quiet",
        "--data",
        input.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let direct = ingest_dir(input.path(), &options(), &Progress::silent()).unwrap();
    let loaded =
        l2lens::dataset::Dataset::load(out.path(), &options(), &Progress::silent()).unwrap();
    assert_eq!(direct.tables.len(), 6);
    for (table, frame) in &direct.tables {
        let back = loaded.table(*table).unwrap().collect().unwrap();
        assert!(back.equals_missing(frame), "{table:?}");
    }
    let conversations = loaded
        .table(l2lens::ingest::schema::Table::Conversations)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(
        conversations.column("priority").unwrap().dtype(),
        &polars::prelude::DataType::Int64
    );
    let expected = l2lens::warehouse::quarantine_csv(&direct.quarantine).unwrap();
    assert_eq!(std::fs::read(out.join("quarantine.csv")).unwrap(), expected);
    // The same rows as from the CSV files.
    let csv = ingest_dir(Path::new("sample_data"), &options(), &Progress::silent()).unwrap();
    let messages = l2lens::ingest::schema::Table::Messages;
    assert!(direct.tables[&messages].equals_missing(&csv.tables[&messages]));
}
