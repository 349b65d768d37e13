//! The files of a table split by customer: which partition a customer is in, and the
//! writer of one partition's file. The analysis splits a warehouse with them; an
//! ingest writes the same files while it validates the rows
//! ([`Router`]), so that the warehouse's split costs no second read of its tables.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use polars::prelude::*;
use polars_parquet::write::{
    CompressionOptions, Encoding, FileWriter, RowGroupIterator, StatisticsOptions, Version,
    WriteOptions, get_dtype_encoding,
};
use rayon::prelude::*;

use super::schema::{CONVERSATION_KEY, Table};

/// The partition of a customer id among `count` (a missing id is one customer, as the rules
/// count it).
///
/// A hash of the (resolved) customer id, the same on every machine and in every version:
/// FNV-1a over the id's bytes, modulo the partition count.
pub fn of_customer(customer: Option<&str>, count: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let bytes = customer.map(str::as_bytes).unwrap_or(&[0xff]);
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % count as u64) as usize
}

/// The number of rows of a table's query, on the streaming engine (for a Parquet scan, read
/// from the file metadata, not the rows).
pub fn row_count(frame: LazyFrame) -> PolarsResult<u64> {
    Ok(frame
        .select([len().cast(DataType::UInt64).alias("n")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single()
        .column("n")?
        .u64()?
        .get(0)
        .unwrap_or(0))
}

/// Calls `f` with each slice of `slice` rows of `frame`'s `columns` (all with `None`), read
/// on the streaming engine.
pub fn each_slice(
    frame: &LazyFrame,
    columns: Option<&[&str]>,
    slice: usize,
    mut f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<()> {
    let rows = row_count(frame.clone())? as usize;
    let mut offset = 0;
    while offset < rows {
        let part = frame.clone().slice(offset as i64, slice as IdxSize);
        let part = match columns {
            Some(columns) => part.select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>()),
            None => part,
        };
        f(part.collect_with_engine(Engine::Streaming)?.unwrap_single())?;
        offset += slice;
    }
    Ok(())
}

/// Rows of the conversations' keys and customer ids read at once by [`key_partitions`].
const KEY_SLICE: usize = 4_000_000;

/// The partition of every conversation key of the conversations `table` among `count`:
/// indexed by key, `u32::MAX` for a key no conversation has.
pub fn key_partitions(table: &LazyFrame, count: usize) -> Result<Vec<u32>> {
    let mut of_key = Vec::new();
    each_slice(
        table,
        Some(&[CONVERSATION_KEY, "customer_id"]),
        KEY_SLICE,
        |slice| {
            let keys = slice.column(CONVERSATION_KEY)?.u32()?;
            let customers = slice.column("customer_id")?.str()?;
            for (key, customer) in keys.iter().zip(customers.iter()) {
                if let Some(key) = key {
                    let key = key as usize;
                    if of_key.len() <= key {
                        of_key.resize(key + 1, u32::MAX);
                    }
                    of_key[key] = of_customer(customer, count) as u32;
                }
            }
            Ok(())
        },
    )?;
    Ok(of_key)
}

/// A child table's column of the conversation's id, which partition files leave out.
const CONVERSATION_ID: &str = "conversation_id";

/// Whether a partition's file of `table` keeps the column `name`: all but a child table's
/// `conversation_id`. The analysis finds a row's conversation by `conversation_key`; the id
/// string, repeated on every message and assignment, was the costliest column to read and
/// write.
pub fn keeps_column(table: Table, name: &str) -> bool {
    table == Table::Conversations || name != CONVERSATION_ID
}

/// The file of `table`'s rows of partition `index` in the folder `dir`.
pub fn part_path(dir: &Path, table: Table, index: usize) -> PathBuf {
    dir.join(format!("{}-{index}.parquet", table.name()))
}

/// Writes the rows of one table into one file per partition, batch after batch, in their
/// order: the rows of each conversation go to its partition ([`key_partitions`]), those of
/// no known conversation nowhere.
pub struct Router {
    dir: PathBuf,
    table: Table,
    of_key: Arc<Vec<u32>>,
    writers: Vec<Option<PartWriter>>,
}

impl Router {
    pub fn new(dir: &Path, table: Table, count: usize, of_key: Arc<Vec<u32>>) -> Router {
        Router {
            dir: dir.to_path_buf(),
            table,
            of_key,
            writers: (0..count).map(|_| None).collect(),
        }
    }

    /// Writes the rows of `batch` (a table's columns; those [`keeps_column`] refuses are left
    /// out) to their partitions' files, each partition's as one row group.
    pub fn write(&mut self, batch: &DataFrame) -> Result<()> {
        let batch = batch.select(
            batch
                .get_column_names()
                .into_iter()
                .filter(|name| keeps_column(self.table, name))
                .cloned(),
        )?;
        let keys = batch.column(CONVERSATION_KEY)?.u32()?;
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); self.writers.len()];
        for (row, key) in keys.iter().enumerate() {
            let part = key.and_then(|k| self.of_key.get(k as usize)).copied();
            if let Some(part) = part.filter(|&p| p != u32::MAX) {
                rows[part as usize].push(row as IdxSize);
            }
        }
        let (dir, table) = (&self.dir, self.table);
        // Each partition's rows are gathered and encoded beside the others'.
        self.writers
            .par_iter_mut()
            .zip(rows)
            .enumerate()
            .filter(|(_, (_, rows))| !rows.is_empty())
            .try_for_each(|(index, (slot, rows))| -> Result<()> {
                let part = batch.take(&IdxCa::from_vec("row".into(), rows))?;
                let writer = match slot {
                    Some(writer) => writer,
                    slot => slot.insert(PartWriter::create(
                        &part_path(dir, table, index),
                        batch.schema(),
                    )?),
                };
                writer.write(part)
            })
            .with_context(|| format!("splitting the {} table by customer", table.name()))
    }

    /// Ends the files; which partitions have one.
    pub fn finish(self) -> Result<Vec<bool>> {
        self.writers
            .into_iter()
            .map(|writer| match writer {
                Some(writer) => writer.finish().map(|()| true),
                None => Ok(false),
            })
            .collect()
    }
}

/// One table's file of one partition: Parquet that is quick to write and read once. Its
/// strings are written plain (building a dictionary of every string column cost a fifth of a
/// whole run), compressed with LZ4, without statistics (the file is read whole, never
/// filtered).
struct PartWriter {
    file: FileWriter<File>,
    schema: ArrowSchema,
    encodings: polars_buffer::Buffer<Vec<Encoding>>,
}

const PART_OPTIONS: WriteOptions = WriteOptions {
    statistics: StatisticsOptions {
        min_value: false,
        max_value: false,
        distinct_count: false,
        null_count: false,
        binary_statistics_truncate_length: None,
    },
    version: Version::V1,
    compression: CompressionOptions::Lz4Raw,
    data_page_size: None,
};

impl PartWriter {
    fn create(path: &Path, schema: &Schema) -> Result<PartWriter> {
        let schema = schema.to_arrow(CompatLevel::newest());
        let encodings: Vec<Vec<Encoding>> = schema
            .iter_values()
            .map(|field| vec![Encoding::Plain; get_dtype_encoding(&field.dtype).len()])
            .collect();
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(PartWriter {
            file: FileWriter::try_new(file, schema.clone(), PART_OPTIONS)?,
            schema,
            encodings: encodings.into(),
        })
    }

    /// Writes `rows` as one row group.
    fn write(&mut self, mut rows: DataFrame) -> Result<()> {
        rows.rechunk_mut_par();
        let height = rows.height() as u64;
        let batches = rows.iter_chunks(CompatLevel::newest(), false).map(Ok);
        let groups =
            RowGroupIterator::try_new(batches, &self.schema, PART_OPTIONS, self.encodings.clone())?;
        for group in groups {
            self.file.write(height, group?)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.file.end(None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_is_always_in_the_same_partition() {
        // FNV-1a of "abc" is 0xe71fa2190541574b.
        assert_eq!(
            of_customer(Some("abc"), 1 << 20),
            0xe71fa2190541574b % (1 << 20)
        );
        assert_eq!(of_customer(Some("abc"), 7), of_customer(Some("abc"), 7));
        assert_eq!(of_customer(Some("x"), 1), 0);
        assert!(of_customer(None, 64) < 64);
        // Ids spread over the partitions.
        let mut seen = [0u32; 7];
        for i in 0..7_000 {
            seen[of_customer(Some(&format!("+4917{i:07}")), 7)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
