//! CSV (and gzip-compressed CSV) reader: streams the file record by record, so memory grows
//! with the accepted rows only, and quoted fields may hold commas and line breaks.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;

use super::columns::ColumnMap;
use super::ids::Repeats;
use polars::prelude::PolarsResult;

use super::validate::{Cell, MAX_COLUMNS, Parsed, Parser, Reason, TableBuilder, ValidatedTable};
use crate::progress::Progress;

/// Records parsed per chunk; each chunk's accepted rows become one batch (one row group of
/// the warehouse).
const CHUNK_RECORDS: usize = 3 << 14;

/// Reads and validates a CSV file. The file is split into records on this thread and parsed
/// in chunks on every core; the chunks are merged in file order.
pub fn read(
    path: &Path,
    gzip: bool,
    builder: TableBuilder<'_>,
    progress: &Progress,
) -> Result<ValidatedTable> {
    read_in_chunks(path, gzip, builder, progress, CHUNK_RECORDS)
}

fn read_in_chunks(
    path: &Path,
    gzip: bool,
    mut builder: TableBuilder<'_>,
    progress: &Progress,
    chunk_records: usize,
) -> Result<ValidatedTable> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        bail!(empty_message(path, &builder));
    }
    let bar = progress.bytes(len, &format!("reading {}", super::file_name(path)));
    let mut reader = csv_reader(bar.wrap_read(BufReader::with_capacity(1 << 20, file)), gzip);
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
    let mut map = ColumnMap::from_header(path, builder.specs(), &names)?;
    // Every CSV column holds strings: the storage rule decides which extras are read at all.
    map.extras
        .retain(|(_, name)| !builder.withholds(name, true));
    for (_, name) in &map.extras {
        builder.extra_index(name);
    }
    // About 64 bytes a row, and five times as many rows once decompressed.
    let rows = (if gzip { len.saturating_mul(5) } else { len } / 64) as usize;
    if let Some(key) = builder.repeats_key(rows)
        && let Some(position) = map.canonical[key]
    {
        let message = format!("checking the ids of {}", super::file_name(path));
        let repeats = key_repeats(
            path,
            gzip,
            position,
            builder.parser(),
            rows,
            progress.bytes(len, &message),
        )?;
        builder.only_repeats(repeats);
    }
    builder.batches_by_reader();
    let file = Source {
        path,
        gzip,
        len,
        fields: header.len(),
        chunk_records,
        parser: builder.parser().clone(),
        extra_names: map.extras.iter().map(|(_, n)| n.clone()).collect(),
        map,
        spare: Mutex::default(),
    };

    // A bounded queue: a few chunks in flight at most.
    let (order, in_order) = sync_channel::<Pending>(1);
    // The chunks are parsed on rayon's threads, shared by every table read at the same time;
    // this thread merges them.
    rayon::in_place_scope(|pool| {
        std::thread::scope(|scope| -> Result<()> {
            let file = &file;
            let reading = scope.spawn(move || file.split(reader, pool, &order));
            // Chunks come in file order; each is merged once parsed.
            for pending in in_order {
                if let Some(rows) = pending.expected_rows {
                    builder.expect_rows(rows);
                }
                let parsed = pending
                    .parsed
                    .recv()
                    .ok()
                    .context("validating a chunk of rows failed")??;
                builder.add(parsed)?;
            }
            reading
                .join()
                .unwrap_or_else(|_| bail!("reading {} panicked", path.display()))
        })
    })?;
    bar.finish_and_clear();
    Ok(builder.finish()?)
}

/// A CSV reader of `source`, decompressed when `gzip`; the header is the first record.
fn csv_reader<R: Read + Send + 'static>(
    source: R,
    gzip: bool,
) -> csv::Reader<Box<dyn Read + Send>> {
    let source: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(source))
    } else {
        Box::new(source)
    };
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(source)
}

fn read_failed(path: &Path, gzip: bool, row: u64) -> String {
    format!(
        "{}: read failed after data row {row} (is the file truncated or not {}?)",
        path.display(),
        if gzip { "gzip" } else { "CSV" }
    )
}

/// The first pass over a large file: the field at `position` of every record, through the
/// rule of the main pass, into the filter of ids that may repeat (about `rows` of them).
/// Records with another number of fields are read too: the filter may keep more ids than
/// needed, never fewer.
fn key_repeats(
    path: &Path,
    gzip: bool,
    position: usize,
    parser: &Parser<'_>,
    rows: usize,
    bar: indicatif::ProgressBar,
) -> Result<Repeats> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = csv_reader(bar.wrap_read(BufReader::with_capacity(1 << 20, file)), gzip);
    let mut repeats = Repeats::new(rows);
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    while reader
        .read_byte_record(&mut record)
        .with_context(|| read_failed(path, gzip, row))?
    {
        row += 1;
        if let Some(fingerprint) = record
            .get(position)
            .and_then(|f| parser.key_fingerprint(&decode(f)))
        {
            repeats.add(fingerprint);
        }
    }
    bar.finish_and_clear();
    Ok(repeats)
}

/// A chunk sent to be parsed: where its result will come, in file order.
struct Pending {
    parsed: Receiver<PolarsResult<Parsed>>,
    /// After the first chunk: about how many rows the file has.
    expected_rows: Option<usize>,
}

/// The file being read, and how.
struct Source<'p, 'r> {
    path: &'p Path,
    gzip: bool,
    len: u64,
    fields: usize,
    chunk_records: usize,
    parser: Parser<'r>,
    map: ColumnMap,
    /// The names of the columns beyond the schema's, kept as they are.
    extra_names: Vec<String>,
    /// Buffers of parsed chunks, for the next ones.
    spare: Mutex<Vec<Records>>,
}

/// Consecutive records of a file, split into fields but not decoded.
#[derive(Default)]
struct Records {
    /// The fields' bytes, one after the other.
    bytes: Vec<u8>,
    /// Where each field ends in `bytes`; every record has the header's number of fields.
    ends: Vec<u32>,
    /// The row number of each record.
    rows: Vec<u64>,
    /// Rows with another number of fields, as read.
    bad: Vec<(u64, String)>,
    /// Fields per record.
    fields: usize,
}

/// A chunk stops at this many bytes of fields, however few records it has.
const CHUNK_BYTES: usize = 64 << 20;

impl<'r> Source<'_, 'r> {
    /// Splits the file into chunks of records, sends each to be parsed and tells the merge
    /// where its result will come. Stops early, without error, when the merge stopped.
    fn split<'s, R: Read>(
        &'s self,
        mut reader: csv::Reader<R>,
        pool: &rayon::Scope<'s>,
        order: &SyncSender<Pending>,
    ) -> Result<()> {
        let mut row: u64 = 0;
        loop {
            let first = row == 0;
            let records = self.read_records(&mut reader, &mut row)?;
            if records.is_empty() {
                return Ok(());
            }
            // The first chunk tells the length of a row: room for every id at once.
            let expected_rows = (first && !self.gzip).then(|| {
                let read = reader.position().byte().max(1);
                (self.len.saturating_mul(row) / read) as usize * 9 / 8
            });
            let (reply, parsed) = sync_channel(1);
            let pending = Pending {
                parsed,
                expected_rows,
            };
            pool.spawn(move |_| {
                // The reader may have stopped on an error: then nobody waits for the result.
                let _ = reply.send(self.parse(&records));
                if let Ok(mut spare) = self.spare.lock() {
                    spare.push(records);
                }
            });
            if order.send(pending).is_err() {
                return Ok(());
            }
        }
    }

    /// Parses a chunk of records in row order, rows with a wrong field count included.
    fn parse(&self, records: &Records) -> PolarsResult<Parsed> {
        let (parser, map) = (&self.parser, &self.map);
        let mut chunk = parser.chunk(records.rows.len(), &self.extra_names);
        let mut bad = records.bad.iter().peekable();
        let mut extras: Vec<Cell<'_>> = Vec::with_capacity(map.extras.len());
        // One check of the whole chunk instead of one per field; a chunk with invalid UTF-8 is
        // checked field by field, to name the fields.
        let text = std::str::from_utf8(&records.bytes).ok();
        let mut cells: [Cell<'_>; MAX_COLUMNS] = std::array::from_fn(|_| Cell::Null);
        for (i, &row) in records.rows.iter().enumerate() {
            while let Some((r, value)) = bad.next_if(|(r, _)| *r < row) {
                parser.reject(&mut chunk, *r, "", value, Reason::WrongFieldCount);
            }
            let base = i * records.fields;
            for (cell, position) in cells.iter_mut().zip(&map.canonical) {
                *cell = match position {
                    Some(p) => cell_at(text, records, base + p),
                    None => Cell::Null,
                };
            }
            extras.clear();
            extras.extend(
                map.extras
                    .iter()
                    .map(|(p, _)| cell_at(text, records, base + p)),
            );
            parser.parse(&mut chunk, row, &cells[..map.canonical.len()], &extras);
        }
        for (r, value) in bad {
            parser.reject(&mut chunk, *r, "", value, Reason::WrongFieldCount);
        }
        chunk.into_parsed(parser.specs())
    }

    /// Reads up to `chunk_records` records after row `row`.
    fn read_records<R: Read>(&self, reader: &mut csv::Reader<R>, row: &mut u64) -> Result<Records> {
        // The buffers of a chunk already parsed, when there is one: allocating fresh ones for
        // every chunk costs more than filling them.
        let spare = self.spare.lock().ok().and_then(|mut spare| spare.pop());
        let mut records = spare.unwrap_or_default();
        records.clear();
        records.fields = self.fields;
        let mut record = csv::ByteRecord::new();
        while records.rows.len() + records.bad.len() < self.chunk_records
            && records.bytes.len() < CHUNK_BYTES
        {
            let more = reader
                .read_byte_record(&mut record)
                .with_context(|| read_failed(self.path, self.gzip, *row))?;
            if !more {
                break;
            }
            *row += 1;
            if record.len() != self.fields {
                // Show the record as read, so it can be found in the file.
                let raw: Vec<String> = record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                let value = format!(
                    "expected {} fields, found {}: {}",
                    self.fields,
                    record.len(),
                    raw.join(",")
                );
                records.bad.push((*row, value));
                continue;
            }
            let start = records.bytes.len();
            records.bytes.extend_from_slice(record.as_slice());
            records.ends.extend(
                (0..record.len())
                    .filter_map(|i| record.range(i))
                    .map(|r| (start + r.end) as u32),
            );
            records.rows.push(*row);
        }
        Ok(records)
    }
}

impl Records {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.rows.clear();
        self.bad.clear();
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.bad.is_empty()
    }

    fn range(&self, index: usize) -> std::ops::Range<usize> {
        let start = match index {
            0 => 0,
            i => self.ends[i - 1] as usize,
        };
        start..self.ends[index] as usize
    }

    fn field(&self, index: usize) -> &[u8] {
        &self.bytes[self.range(index)]
    }
}

/// The field `index` of `records`, from the chunk's text when it is valid UTF-8.
#[inline(always)]
fn cell_at<'a>(text: Option<&'a str>, records: &'a Records, index: usize) -> Cell<'a> {
    match text.and_then(|t| t.get(records.range(index))) {
        Some("") => Cell::Null,
        Some(field) => Cell::Text(field),
        None => decode(records.field(index)),
    }
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

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
