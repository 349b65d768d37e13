//! The CSV reader parses chunks of records on several threads and merges them in file order:
//! any chunk size gives the rows, quarantine and counts of validating row by row.

use super::*;
use crate::config::{Config, Input};
use crate::ingest::schema::Table;
use crate::ingest::validate::{IdMap, Rules};
use polars::prelude::{ParquetReader, SerReader};

const MESSAGES: &str = "message_id,conversation_id,sent_at,sender,kind,wa_type\n\
m1,c1,2026-11-16T09:00:00Z,customer,text,a\n\
m2,c1,soon,bot,text,b\n\
m3,nope,2026-11-16T09:02:00Z,bot,text,c\n\
m1,c1,2026-11-16T09:03:00Z,agent,text,d\n\
m4,c2,2026-11-16T09:04:00Z,agent\n\
m2,c2,2026-11-16T09:05:00Z,agent,text,\"two\nlines\"\n\
m2,c2,2026-11-16T09:06:00Z,agent,text,f\n\
m5,c2,2026-11-16T09:07:00Z,robot,text,g\n\
m5,c2,2026-11-16T09:08:00Z,customer,media,h\n\
,c2,2026-11-16T09:09:00Z,customer,text,i\n\
m6,c2,2026-11-16T09:10:00Z,customer,text,j,extra\n\
m7,c2,2026-11-16T09:11:00Z,customer,text,k\n";

static TEXT: std::sync::LazyLock<crate::ingest::text::TextPass> =
    std::sync::LazyLock::new(crate::ingest::text::TextPass::default);

fn builder<'a>(
    lanes: &'a crate::config::KnownLanes,
    input: &'a Input,
    ids: &'a IdMap,
) -> TableBuilder<'a> {
    let rules = Rules {
        epoch_unit: None,
        conversations: Some(ids),
        known_lanes: lanes,
        input,
        text: &TEXT,
    };
    TableBuilder::new(Table::Messages, "messages.csv", rules, 2)
}

/// The file read in chunks of `chunk_records`.
fn chunked(path: &Path, builder: TableBuilder<'_>, chunk_records: usize) -> ValidatedTable {
    read_in_chunks(path, false, builder, &Progress::silent(), chunk_records).unwrap()
}

/// The same file validated one row at a time, as the reference.
fn row_by_row(path: &Path, mut builder: TableBuilder<'_>) -> ValidatedTable {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    let width = reader.headers().unwrap().len();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let row = i as u64 + 1;
        if record.len() != width {
            let raw: Vec<&str> = record.iter().collect();
            let value = format!(
                "expected {width} fields, found {}: {}",
                record.len(),
                raw.join(",")
            );
            builder.reject_row(row, "", &value, Reason::WrongFieldCount);
            continue;
        }
        let mut cells: Vec<Cell<'_>> = record.iter().take(5).map(cell).collect();
        cells.extend([Cell::Null, Cell::Null, Cell::Null]);
        builder.push(row, &cells, &[cell(&record[5])]);
    }
    builder.finish().unwrap()
}

#[test]
fn chunks_give_the_rows_quarantine_and_counts_of_one_row_at_a_time() {
    let dir = std::env::temp_dir().join(format!("l2lens-csv-chunks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("messages.csv");
    std::fs::write(&path, MESSAGES).unwrap();
    let lanes = Config::default().known_lanes();
    let input = Input::default();
    let mut ids = IdMap::default();
    ids.insert("c1", 0);
    ids.insert("c2", 1);

    let mut reference = builder(&lanes, &input, &ids);
    assert_eq!(reference.extra_index("wa_type"), 0);
    let reference = row_by_row(&path, reference);
    let got: Vec<(u64, Reason)> = reference
        .quarantine
        .iter()
        .map(|q| (q.row, q.reason))
        .collect();
    assert_eq!(
        got,
        [
            (2, Reason::BadTimestamp),
            (3, Reason::UnknownConversation),
            (4, Reason::DuplicateId),
            (5, Reason::WrongFieldCount),
            // m2 was quarantined at row 2: its first accepted row is row 6.
            (7, Reason::DuplicateId),
            (8, Reason::UnknownValue),
            (10, Reason::MissingValue),
            (11, Reason::WrongFieldCount),
        ]
    );
    assert_eq!(reference.frame.height(), 4);

    // Each chunk size, with every id kept and with the first pass of a large file (the
    // duplicate check then keeps only the ids that may repeat).
    for (chunk_records, first_pass) in [1, 2, 3, 7, 1000]
        .into_iter()
        .flat_map(|c| [(c, false), (c, true)])
    {
        let read = |spill: Option<std::path::PathBuf>| {
            let mut b = builder(&lanes, &input, &ids);
            if first_pass {
                b.repeats_from(0);
            }
            if let Some(spill) = spill {
                b.spill_to(spill, 2);
            }
            chunked(&path, b, chunk_records)
        };
        let chunked = read(None);
        assert!(
            chunked.frame.equals_missing(&reference.frame),
            "{chunk_records}: {}",
            chunked.frame
        );
        assert_eq!(
            chunked.quarantine, reference.quarantine,
            "{chunk_records} {first_pass}"
        );
        assert_eq!(chunked.counts, reference.counts);
        let spill = dir.join(format!("spilled-{chunk_records}-{first_pass}.parquet"));
        let spilled = read(Some(spill.clone()));
        assert!(spilled.spilled && spilled.frame.height() == 0);
        assert_eq!(spilled.quarantine, reference.quarantine);
        let back = ParquetReader::new(File::open(&spill).unwrap())
            .finish()
            .unwrap();
        assert!(
            back.equals_missing(&reference.frame),
            "{chunk_records}: {back}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn cell(text: &str) -> Cell<'_> {
    if text.is_empty() {
        Cell::Null
    } else {
        Cell::Text(text)
    }
}

#[test]
fn invalid_utf8_is_found_per_field_even_when_the_chunk_as_a_whole_decodes() {
    // The bytes of "é" split across two fields: the chunk's bytes, put end to end, are valid
    // UTF-8, but neither field is.
    let dir = std::env::temp_dir().join(format!("l2lens-csv-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("messages.csv");
    let mut file = b"message_id,conversation_id,sent_at,sender,kind,wa_type\n".to_vec();
    file.extend_from_slice(b"m1,c1,2026-11-16T09:00:00Z,customer,text,a\xc3");
    file.extend_from_slice(b"\nm2\xa9,c1,2026-11-16T09:01:00Z,bot,text,b\n");
    file.extend_from_slice(b"m3,c1,2026-11-16T09:02:00Z,bot,text,caf\xc3\xa9\n");
    std::fs::write(&path, file).unwrap();
    let lanes = Config::default().known_lanes();
    let input = Input::default();
    let mut ids = IdMap::default();
    ids.insert("c1", 0);
    let table = chunked(&path, builder(&lanes, &input, &ids), 1000);
    let got = table.problems();
    assert_eq!(
        got,
        [
            (1, "wa_type", Reason::InvalidUtf8),
            (2, "message_id", Reason::InvalidUtf8)
        ]
    );
    let extra = table.frame.column("wa_type").unwrap().str().unwrap();
    assert_eq!(extra.get(0), Some("café"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_gzip_file_is_an_error_naming_the_last_row_read() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("l2lens-csv-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("messages.csv.gz");
    let mut text = String::from("message_id,conversation_id,sent_at,sender,kind,wa_type\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "m{i},c1,2026-11-16T09:00:00Z,customer,text,x{i}\n"
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let lanes = Config::default().known_lanes();
    let input = Input::default();
    let mut ids = IdMap::default();
    ids.insert("c1", 0);
    let b = builder(&lanes, &input, &ids);
    let result = read_in_chunks(&path, true, b, &Progress::silent(), 1000);
    let message = format!("{:#}", result.err().expect("a truncated file is an error"));
    assert!(
        message.contains("read failed after data row") && message.contains("truncated or not gzip"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
