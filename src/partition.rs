//! Partitions of the conversations by customer: every rule that looks across conversations
//! (repeat contact, duplicates, durable bot resolutions, billing windows) looks only at the
//! same customer's, so the facts of one partition are the facts of its conversations in a run
//! over all of them, and a large history can be computed one partition at a time.
//!
//! A conversation's partition is a hash of its (resolved) customer id, the same on every
//! machine and in every version: FNV-1a over the id's bytes, modulo the partition count.
//!
//! A run splits the tables into one file per table and partition in a temporary folder; an
//! ingest stores the same split in the warehouse ([`Plan::store`]), which runs in as many
//! partitions read instead ([`Split::stored`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use polars::prelude::*;
use polars_parquet::write::{
    CompressionOptions, Encoding, FileWriter, RowGroupIterator, StatisticsOptions, Version,
    WriteOptions, get_dtype_encoding,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, stream};
use crate::ingest::schema::{CONVERSATION_KEY, Table};

/// Conversations per partition when the count is chosen from the data: the facts of 2.5 M
/// conversations (about 16 M messages) and their metric states peak at about 2.5 GiB.
pub const CONVERSATIONS_PER_PARTITION: u64 = 2_500_000;

/// The most partitions a run takes: enough for 600 M conversations at the default size.
pub const MAX_PARTITIONS: usize = 256;

/// The partition of every conversation key.
#[derive(Debug, Clone)]
pub struct Plan {
    count: usize,
    /// Indexed by conversation key; `u32::MAX` for a key no conversation has.
    of_key: Vec<u32>,
}

/// The partition of a customer id among `count` (a missing id is one customer, as the rules
/// count it).
pub fn of_customer(customer: Option<&str>, count: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let bytes = customer.map(str::as_bytes).unwrap_or(&[0xff]);
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % count as u64) as usize
}

/// The partition count for `conversations` rows: one partition up to
/// [`CONVERSATIONS_PER_PARTITION`], then one more per that many.
pub fn count_for(conversations: u64) -> usize {
    (conversations.div_ceil(CONVERSATIONS_PER_PARTITION) as usize).clamp(1, MAX_PARTITIONS)
}

/// Checks a partition count given on the command line.
pub fn check_count(count: usize) -> Result<usize> {
    if count == 0 || count > MAX_PARTITIONS {
        bail!(
            "--customer-partitions {count}: give a number from 1 to {MAX_PARTITIONS} (or leave it \
             out to choose from the data size)"
        );
    }
    Ok(count)
}

/// A child table's column of the conversation's id, which partition files leave out.
const CONVERSATION_ID: &str = "conversation_id";

/// Rows of the conversations' keys and customer ids read at once while the plan is made.
const PLAN_SLICE: usize = 4_000_000;

/// Rows of a table (every column) read at once while it is split.
const SPLIT_SLICE: usize = 1_000_000;

/// Calls `f` with each slice of `slice` rows of `frame`'s `columns` (all with `None`).
fn each_slice(
    frame: &LazyFrame,
    columns: Option<&[&str]>,
    slice: usize,
    mut f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<()> {
    let rows = crate::warehouse::row_count(frame.clone())? as usize;
    let mut offset = 0;
    while offset < rows {
        let part = frame.clone().slice(offset as i64, slice as IdxSize);
        let part = match columns {
            Some(columns) => part.select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>()),
            None => part,
        };
        f(stream(part)?)?;
        offset += slice;
    }
    Ok(())
}

impl Plan {
    /// The partitions of the conversations of `data` among `count`.
    pub fn of(data: &Dataset, count: usize) -> Result<Plan> {
        let mut of_key = Vec::new();
        let table = data.table(Table::Conversations)?;
        each_slice(
            &table,
            Some(&[CONVERSATION_KEY, "customer_id"]),
            PLAN_SLICE,
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
        Ok(Plan { count, of_key })
    }

    /// The number of partitions.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes the rows of every table that has conversations into one Parquet file per
    /// partition under `scratch`, in their order, reading each table once.
    pub fn split(&self, data: &Dataset, scratch: &Scratch) -> Result<Split> {
        self.split_into(data, &scratch.path)
    }

    /// [`Plan::split`] into the warehouse folder `warehouse` itself ([`STORED_DIR`]), with a
    /// manifest of the partition count and the size and time of each table it was split from:
    /// later runs in as many partitions read it instead of splitting again ([`Split::stored`]).
    pub fn store(&self, data: &Dataset, warehouse: &Path) -> Result<()> {
        let dir = warehouse.join(STORED_DIR);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let split = self.split_into(data, &dir)?;
        let manifest = Manifest {
            count: self.count,
            tables: split
                .tables
                .iter()
                .map(|(table, written)| {
                    Ok(StoredTable {
                        table: table.name().to_owned(),
                        source: source_of(warehouse, *table)?,
                        written: written.clone(),
                    })
                })
                .collect::<Result<_>>()?,
        };
        std::fs::write(
            dir.join(MANIFEST),
            serde_json::to_string_pretty(&manifest)? + "\n",
        )
        .with_context(|| format!("cannot write {}", dir.join(MANIFEST).display()))?;
        Ok(())
    }

    fn split_into(&self, data: &Dataset, dir: &Path) -> Result<Split> {
        let mut tables = Vec::new();
        for (&table, frame) in &data.tables {
            if table != Table::Conversations && !table.references_conversation() {
                continue;
            }
            let mut writers: Vec<Option<PartWriter>> = (0..self.count).map(|_| None).collect();
            let path = |index: usize| dir.join(format!("{}-{index}.parquet", table.name()));
            let columns = split_columns(table, frame)?;
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            each_slice(frame, Some(&columns), SPLIT_SLICE, |slice| {
                let keys = slice.column(CONVERSATION_KEY)?.u32()?;
                let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); self.count];
                for (row, key) in keys.iter().enumerate() {
                    let part = key.and_then(|k| self.of_key.get(k as usize)).copied();
                    if let Some(part) = part.filter(|&p| p != u32::MAX) {
                        rows[part as usize].push(row as IdxSize);
                    }
                }
                // Each partition's rows are gathered and encoded beside the others'.
                writers
                    .par_iter_mut()
                    .zip(rows)
                    .enumerate()
                    .filter(|(_, (_, rows))| !rows.is_empty())
                    .try_for_each(|(index, (slot, rows))| -> Result<()> {
                        let part = slice.take(&IdxCa::from_vec("row".into(), rows))?;
                        let writer = match slot {
                            Some(writer) => writer,
                            slot => slot.insert(PartWriter::create(&path(index), slice.schema())?),
                        };
                        writer.write(part)
                    })
            })
            .with_context(|| format!("splitting the {} table by customer", table.name()))?;
            let mut written = Vec::with_capacity(self.count);
            for writer in writers {
                written.push(match writer {
                    Some(writer) => {
                        writer.finish()?;
                        true
                    }
                    None => false,
                });
            }
            tables.push((table, written));
        }
        Ok(Split {
            dir: dir.to_path_buf(),
            stored: false,
            tables,
        })
    }
}

/// The columns of `table` a partition's file keeps: all but a child table's
/// `conversation_id`. The analysis finds a row's conversation by `conversation_key`; the id
/// string, repeated on every message and assignment, was the costliest column to read and
/// write.
fn split_columns(table: Table, frame: &LazyFrame) -> Result<Vec<String>> {
    let schema = frame.clone().collect_schema()?;
    Ok(schema
        .iter_names()
        .filter(|name| table == Table::Conversations || name.as_str() != CONVERSATION_ID)
        .map(|name| name.to_string())
        .collect())
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

/// The tables split by partition ([`Plan::split`]).
pub struct Split {
    pub dir: PathBuf,
    /// Whether this is the split a warehouse stores ([`Split::stored`]), not a run's own.
    pub stored: bool,
    /// Each table that has conversations, and which partitions have a file of it.
    tables: Vec<(Table, Vec<bool>)>,
}

/// The folder of a warehouse that holds its tables split by customer ([`Plan::store`]).
pub const STORED_DIR: &str = "partitions";

const MANIFEST: &str = "manifest.json";

/// What a stored split was made of.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    count: usize,
    tables: Vec<StoredTable>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredTable {
    table: String,
    /// The warehouse's table file split, by size and modification time: a file rewritten
    /// since is not this one.
    source: Source,
    /// Which partitions have a file of it.
    written: Vec<bool>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Source {
    bytes: u64,
    /// Nanoseconds since 1970 (0 where the file system keeps no time).
    modified_ns: u128,
}

fn source_of(warehouse: &Path, table: Table) -> Result<Source> {
    let path = crate::warehouse::table_path(warehouse, table);
    let meta =
        std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(Source {
        bytes: meta.len(),
        modified_ns,
    })
}

impl Split {
    /// The split the warehouse of `data` stores ([`Plan::store`]), when it was made in
    /// `count` partitions from the tables the warehouse holds now; `None` otherwise.
    pub fn stored(data: &Dataset, count: usize) -> Result<Option<Split>> {
        let Some(warehouse) = &data.warehouse else {
            return Ok(None);
        };
        let dir = warehouse.join(STORED_DIR);
        let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
            return Ok(None);
        };
        let Ok(manifest) = serde_json::from_str::<Manifest>(&text) else {
            return Ok(None);
        };
        if manifest.count != count {
            return Ok(None);
        }
        let split: Vec<Table> = data
            .tables
            .keys()
            .copied()
            .filter(|t| *t == Table::Conversations || t.references_conversation())
            .collect();
        let mut tables = Vec::with_capacity(split.len());
        for table in split {
            let Some(stored) = manifest.tables.iter().find(|s| s.table == table.name()) else {
                return Ok(None);
            };
            if stored.written.len() != count || stored.source != source_of(warehouse, table)? {
                return Ok(None);
            }
            tables.push((table, stored.written.clone()));
        }
        if tables.len() != manifest.tables.len() {
            return Ok(None);
        }
        Ok(Some(Split {
            dir,
            stored: true,
            tables,
        }))
    }

    /// The data of partition `index`: its conversations and their rows of every table that
    /// references a conversation; the other tables whole.
    pub fn part(&self, data: &Dataset, index: usize) -> Result<Dataset> {
        let mut tables = data.tables.clone();
        for (table, written) in &self.tables {
            let frame = if written[index] {
                let path = self.dir.join(format!("{}-{index}.parquet", table.name()));
                LazyFrame::scan_parquet(
                    PlRefPath::try_from_path(&path)?,
                    ScanArgsParquet::default(),
                )?
            } else {
                let frame = data.table(*table)?;
                let columns = split_columns(*table, &frame)?;
                frame
                    .filter(lit(false))
                    .select(columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
            };
            tables.insert(*table, frame);
        }
        Ok(Dataset {
            tables,
            summary: data.summary.clone(),
            quarantine: Vec::new(),
            from_warehouse: data.from_warehouse,
            warehouse: data.warehouse.clone(),
            text_findings: data.text_findings.clone(),
        })
    }
}

/// A folder of a run's own under the system's temporary folder (`TMPDIR`), removed with
/// everything in it when the run ends.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("l2lens-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| {
            format!(
                "cannot create the temporary folder {}; set TMPDIR to a folder with room for a \
                 copy of the data",
                path.display()
            )
        })?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
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

    #[test]
    fn the_count_grows_with_the_data() {
        assert_eq!(count_for(0), 1);
        assert_eq!(count_for(1_000_000), 1);
        assert_eq!(count_for(CONVERSATIONS_PER_PARTITION), 1);
        assert_eq!(count_for(CONVERSATIONS_PER_PARTITION + 1), 2);
        assert_eq!(count_for(100_000_000), 40);
        assert_eq!(count_for(u64::MAX), MAX_PARTITIONS);
        assert!(check_count(0).is_err());
        assert!(check_count(MAX_PARTITIONS + 1).is_err());
        assert_eq!(check_count(7).unwrap(), 7);
    }
}
