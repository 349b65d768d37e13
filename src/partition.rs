//! Partitions of the conversations by customer: every rule that looks across conversations
//! (repeat contact, duplicates, durable bot resolutions, billing windows) looks only at the
//! same customer's, so the facts of one partition are the facts of its conversations in a run
//! over all of them, and a large history can be computed one partition at a time.
//!
//! A conversation's partition is a hash of its (resolved) customer id
//! ([`crate::ingest::parts::of_customer`]).
//!
//! A run splits the tables into one file per table and partition in a temporary folder; an
//! ingest stores the same split in the warehouse ([`Plan::store`]), which runs in as many
//! partitions read instead ([`Split::stored`]). The ingest writes the files of the tables that
//! reference a conversation as it validates their rows ([`crate::ingest::SplitOnWrite`]) and
//! splits only the conversations after; an append, or customer aliases, split after.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::ingest::parts::{Router, each_slice, keeps_column, key_partitions, part_path};
use crate::ingest::schema::Table;

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
    of_key: Arc<Vec<u32>>,
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

/// Rows of a table (every column) read at once while it is split.
const SPLIT_SLICE: usize = 1_000_000;

impl Plan {
    /// The partitions of the conversations of `data` among `count`.
    pub fn of(data: &Dataset, count: usize) -> Result<Plan> {
        let of_key = key_partitions(&data.table(Table::Conversations)?, count)?;
        Ok(Plan {
            count,
            of_key: Arc::new(of_key),
        })
    }

    /// The partitions `of_key` (indexed by conversation key) among `count`, as an ingest found
    /// them ([`crate::ingest::WrittenSplit`]).
    pub fn known(count: usize, of_key: Arc<Vec<u32>>) -> Plan {
        Plan { count, of_key }
    }

    /// The number of partitions.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes the rows of every table that has conversations into one Parquet file per
    /// partition under `scratch`, in their order, reading each table once.
    pub fn split(&self, data: &Dataset, scratch: &Scratch) -> Result<Split> {
        self.split_into(data, &scratch.path, &[])
    }

    /// [`Plan::split`] into the warehouse folder `warehouse` itself ([`STORED_DIR`]), with a
    /// manifest of the partition count and the size and time of each table it was split from:
    /// later runs in as many partitions read it instead of splitting again ([`Split::stored`]).
    pub fn store(&self, data: &Dataset, warehouse: &Path) -> Result<()> {
        self.store_with(data, warehouse, Vec::new())
    }

    /// [`Plan::store`], where the tables of `written` (and which partitions have a file of
    /// each) were split already, as the ingest wrote them ([`crate::ingest::SplitOnWrite`]).
    pub fn store_with(
        &self,
        data: &Dataset,
        warehouse: &Path,
        written: Vec<(Table, Vec<bool>)>,
    ) -> Result<()> {
        let dir = warehouse.join(STORED_DIR);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut split = self.split_into(data, &dir, &written)?;
        split.tables.extend(written);
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

    /// Splits the tables into `dir`, but those of `done`.
    fn split_into(&self, data: &Dataset, dir: &Path, done: &[(Table, Vec<bool>)]) -> Result<Split> {
        let mut tables = Vec::new();
        for (&table, frame) in &data.tables {
            if table != Table::Conversations && !table.references_conversation()
                || done.iter().any(|(t, _)| *t == table)
            {
                continue;
            }
            let mut router = Router::new(dir, table, self.count, self.of_key.clone());
            let columns = split_columns(table, frame)?;
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            each_slice(frame, Some(&columns), SPLIT_SLICE, |slice| {
                router.write(&slice)
            })?;
            tables.push((table, router.finish()?));
        }
        Ok(Split {
            dir: dir.to_path_buf(),
            stored: false,
            tables,
        })
    }
}

/// The columns of `table` a partition's file keeps ([`keeps_column`]).
fn split_columns(table: Table, frame: &LazyFrame) -> Result<Vec<String>> {
    let schema = frame.clone().collect_schema()?;
    Ok(schema
        .iter_names()
        .filter(|name| keeps_column(table, name))
        .map(|name| name.to_string())
        .collect())
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

impl Manifest {
    /// The manifest of the stored split in `dir`, when there is a readable one.
    fn of(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }
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
        let Some(manifest) = Manifest::of(&dir) else {
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

    /// The partition count of the split the warehouse of `data` stores, when it was made from
    /// the tables the warehouse holds now.
    pub fn stored_count(data: &Dataset) -> Result<Option<usize>> {
        let Some(warehouse) = &data.warehouse else {
            return Ok(None);
        };
        let Some(manifest) = Manifest::of(&warehouse.join(STORED_DIR)) else {
            return Ok(None);
        };
        Ok(Split::stored(data, manifest.count)?.map(|_| manifest.count))
    }

    /// The data of partition `index`: its conversations and their rows of every table that
    /// references a conversation; the other tables whole.
    pub fn part(&self, data: &Dataset, index: usize) -> Result<Dataset> {
        let mut tables = data.tables.clone();
        for (table, written) in &self.tables {
            let frame = if written[index] {
                let path = part_path(&self.dir, *table, index);
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

/// Writes a table that lives only for the run (in a [`Scratch`] folder): LZ4, quicker to write
/// and read back than the warehouse's compression, in row groups of `group_rows` rows.
pub fn write_temporary(path: &Path, frame: &DataFrame, group_rows: usize) -> Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot write the temporary file {}", path.display()))?;
    let mut writer = ParquetWriter::new(std::io::BufWriter::new(file))
        .with_compression(ParquetCompression::Lz4Raw)
        .batched(frame.schema())?;
    crate::warehouse::write_row_groups(&mut writer, frame, group_rows)?;
    writer.finish()?;
    Ok(())
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
