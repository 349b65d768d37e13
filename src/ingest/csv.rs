//! CSV (and gzip-compressed CSV) reader: streams the file record by record, so memory grows
//! with the accepted rows only, and quoted fields may hold commas and line breaks.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;

use super::columns::ColumnMap;
use super::validate::{Cell, MAX_COLUMNS, Reason, TableBuilder, ValidatedTable};
use crate::progress::Progress;

pub fn read(
    path: &Path,
    gzip: bool,
    mut builder: TableBuilder<'_>,
    progress: &Progress,
) -> Result<ValidatedTable> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        bail!(empty_message(path, &builder));
    }
    let bar = progress.bytes(len, &format!("reading {}", file_name(path)));
    let counted = bar.wrap_read(BufReader::with_capacity(1 << 20, file));
    let source: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(counted))
    } else {
        Box::new(counted)
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(source);
    let header = reader
        .byte_headers()
        .with_context(|| format!("cannot read the header of {}", path.display()))?
        .clone();
    if header.is_empty() {
        bail!(empty_message(path, &builder));
    }
    let names = header
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            std::str::from_utf8(raw)
                .map(str::to_owned)
                .with_context(|| {
                    format!(
                        "{}: header field {} is not valid UTF-8; save the file as UTF-8",
                        path.display(),
                        i + 1
                    )
                })
        })
        .collect::<Result<Vec<String>>>()?;
    let map = ColumnMap::from_header(path, builder.specs(), &names)?;
    for (_, name) in &map.extras {
        builder.extra_index(name);
    }

    let mut record = csv::ByteRecord::new();
    let mut row: u64 = 0;
    loop {
        let more = reader.read_byte_record(&mut record).with_context(|| {
            format!(
                "{}: read failed after data row {row} (is the file truncated or not {}?)",
                path.display(),
                if gzip { "gzip" } else { "CSV" }
            )
        })?;
        if !more {
            break;
        }
        row += 1;
        if record.len() != header.len() {
            // Show the record as read, so it can be found in the file.
            let raw: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let value = format!(
                "expected {} fields, found {}: {}",
                header.len(),
                record.len(),
                raw.join(",")
            );
            builder.reject_row(row, "", &value, Reason::WrongFieldCount);
            continue;
        }
        let cells: [Cell<'_>; MAX_COLUMNS] =
            std::array::from_fn(|i| match map.canonical.get(i).copied().flatten() {
                Some(p) => decode(&record[p]),
                None => Cell::Null,
            });
        let extras: Vec<Cell<'_>> = map
            .extras
            .iter()
            .map(|(p, _)| decode(&record[*p]))
            .collect();
        builder.push(row, &cells[..map.canonical.len()], &extras);
    }
    bar.finish_and_clear();
    Ok(builder.finish()?)
}

fn decode(bytes: &[u8]) -> Cell<'_> {
    match std::str::from_utf8(bytes) {
        Ok("") => Cell::Null,
        Ok(text) => Cell::Text(text),
        Err(_) => Cell::Bad {
            value: String::from_utf8_lossy(bytes).into_owned(),
            reason: Reason::InvalidUtf8,
        },
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn empty_message(path: &Path, builder: &TableBuilder<'_>) -> String {
    let header: Vec<&str> = builder.specs().iter().map(|s| s.name).collect();
    format!(
        "{} is empty: a CSV file needs at least its header row, even with no data \
         (for {}: `{}`)",
        path.display(),
        builder.table().name(),
        header.join(",")
    )
}
