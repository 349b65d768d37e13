//! The input of every analysis command: the canonical tables as lazy frames, from either a raw
//! data directory (validated in memory exactly as `l2lens ingest` does) or an ingested
//! warehouse directory (scanned from Parquet).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow};
use polars::prelude::*;

use crate::config::Config;
use crate::ingest::schema::Table;
use crate::ingest::validate::QuarantineLine;
use crate::ingest::{IngestOptions, IngestSummary, ingest_dir};
use crate::progress::Progress;
use crate::warehouse;

/// Lanes with their assignment row counts, most rows first.
pub type LaneCounts = Vec<(String, u64)>;

pub struct Dataset {
    pub tables: BTreeMap<Table, LazyFrame>,
    pub summary: IngestSummary,
    /// The quarantined rows of a raw directory (a warehouse keeps its own quarantine file).
    pub quarantine: Vec<QuarantineLine>,
    /// Whether the tables came from an ingested warehouse.
    pub from_warehouse: bool,
    /// The warehouse folder they came from.
    pub warehouse: Option<std::path::PathBuf>,
    /// Every finding of the text of the messages and handoffs (`text_findings`, text.md).
    pub text_findings: LazyFrame,
}

impl Dataset {
    pub fn load(dir: &Path, options: &IngestOptions, progress: &Progress) -> Result<Dataset> {
        if warehouse::is_warehouse(dir) {
            return Dataset::open_warehouse(dir);
        }
        let ingested = ingest_dir(dir, options, progress)?;
        Ok(Dataset {
            tables: ingested
                .tables
                .into_iter()
                .map(|(t, frame)| (t, frame.lazy()))
                .collect(),
            summary: ingested.summary,
            quarantine: ingested.quarantine,
            from_warehouse: false,
            warehouse: None,
            text_findings: ingested.text_findings.lazy(),
        })
    }

    /// The tables of the warehouse `dir`.
    pub fn open_warehouse(dir: &Path) -> Result<Dataset> {
        Ok(Dataset {
            tables: warehouse::scan(dir)?,
            summary: warehouse::read_summary(dir)?,
            quarantine: Vec::new(),
            from_warehouse: true,
            warehouse: Some(dir.to_path_buf()),
            text_findings: match warehouse::scan_text_findings(dir)? {
                Some(frame) => frame,
                None => empty_findings()?.lazy(),
            },
        })
    }

    /// Lanes of the assignments that `config` does not name, with their row counts, most rows
    /// first: they count as tier L1, and every command warns about them.
    pub fn unknown_lanes(&self, config: &Config) -> Result<LaneCounts> {
        // Streamed: the lane column of every assignment is never in memory at once.
        let counts = stream(
            self.table(Table::Assignments)?
                .group_by([col("lane")])
                .agg([len().cast(DataType::UInt64).alias("n")]),
        )?;
        let lanes = counts.column("lane")?.str()?;
        let ns = counts.column("n")?.u64()?;
        let known = config.known_lanes();
        let mut unknown: Vec<(String, u64)> = lanes
            .iter()
            .zip(ns.iter())
            .filter_map(|(lane, n)| Some((lane?.to_owned(), n?)))
            .filter(|(lane, _)| !known.contains(lane))
            .collect();
        unknown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(unknown)
    }

    /// A table's lazy frame; an optional table the data lacks is an empty table of its
    /// columns (ask [`Dataset::has`] whether it was there).
    pub fn table(&self, table: Table) -> Result<LazyFrame> {
        match self.tables.get(&table) {
            Some(frame) => Ok(frame.clone()),
            None if !table.required() => Ok(table.empty_frame().lazy()),
            None => Err(anyhow!("the data has no {} table", table.name())),
        }
    }

    /// Whether the data has `table` (optional tables may be absent).
    pub fn has(&self, table: Table) -> bool {
        self.tables.contains_key(&table)
    }
}

/// No findings, with the columns of `text_findings`.
fn empty_findings() -> PolarsResult<DataFrame> {
    crate::ingest::text::FindingRows::default().frame()
}

/// Collects a query on polars' streaming engine, which scans Parquet several times faster
/// than the in-memory engine and keeps row order.
pub fn stream(frame: LazyFrame) -> PolarsResult<DataFrame> {
    // One query with one result (several come only from several sinks, never built here).
    Ok(frame
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}
