//! The ingested warehouse: one typed Parquet file per table, the quarantine (CSV and Parquet),
//! `ingest_summary.json` and, when the ingest used one, the configuration file it applied
//! (`l2lens.toml`), which later commands read unless `--config` overrides it.
//!
//! The warehouse is written whole into a temporary folder and swapped in
//! ([`crate::atomic::replace_dir`]): a killed ingest leaves the previous warehouse or the new
//! one, never tables from two ingests.

pub mod append;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use polars::prelude::*;

use crate::atomic::write_atomic;
use crate::config::CONFIG_FILE;
use crate::ingest::schema::Table;
use crate::ingest::validate::QuarantineLine;
use crate::ingest::{IngestSummary, Ingested};

pub const SUMMARY_FILE: &str = "ingest_summary.json";
pub const QUARANTINE_CSV: &str = "quarantine.csv";
pub const QUARANTINE_PARQUET: &str = "quarantine.parquet";
/// The findings of the text of the ingested messages and handoffs (text.md section 4).
pub const TEXT_FINDINGS: &str = "text_findings.parquet";

/// Whether `dir` holds an ingested warehouse (rather than raw exported tables).
pub fn is_warehouse(dir: &Path) -> bool {
    dir.join(SUMMARY_FILE).is_file() && dir.join("conversations.parquet").is_file()
}

pub fn table_path(dir: &Path, table: Table) -> PathBuf {
    dir.join(format!("{}.parquet", table.name()))
}

/// Writes the warehouse `out` from `ingested`, replacing an earlier one whole. `config` is the
/// text of the configuration file the ingest applied, kept beside the tables; `data` is the
/// raw directory read, which `out` must not hold.
pub fn write(out: &Path, data: &Path, ingested: &mut Ingested, config: Option<&str>) -> Result<()> {
    crate::atomic::replace_dir(out, "the warehouse", &[data], |dir| {
        write_into(dir, ingested, config)
    })
}

/// Writes the warehouse files into the folder `dir` (the tables not already written while they
/// were validated, the quarantine, the configuration and the summary).
pub fn write_into(dir: &Path, ingested: &mut Ingested, config: Option<&str>) -> Result<()> {
    for (table, frame) in ingested.tables.iter_mut() {
        if !ingested.spilled.contains(table) {
            write_parquet(&table_path(dir, *table), frame)?;
        }
    }
    write_quarantine(dir, &ingested.quarantine)?;
    write_parquet(&dir.join(TEXT_FINDINGS), &mut ingested.text_findings)?;
    if let Some(fingerprint) = &ingested.summary.text.key_fingerprint {
        std::fs::write(
            dir.join(crate::text::FINGERPRINT_FILE),
            format!("{fingerprint}\n"),
        )?;
    }
    if let Some(text) = config {
        std::fs::write(dir.join(CONFIG_FILE), text)?;
    }
    let json = serde_json::to_string_pretty(&ingested.summary)?;
    write_atomic(&dir.join(SUMMARY_FILE), |w| {
        w.write_all(json.as_bytes())?;
        w.write_all(b"\n")?;
        Ok(())
    })
}

/// Rows in a Parquet row group of the tables l2lens writes a block at a time
/// ([`write_row_groups`]): the groups are the same whatever the blocks the rows came in.
pub const ROW_GROUP: usize = 512 * 512;

/// Writes `frame` as row groups of `rows` rows (the last one shorter).
pub fn write_row_groups<W: Write>(
    writer: &mut polars::io::parquet::write::BatchedWriter<W>,
    frame: &DataFrame,
    rows: usize,
) -> Result<()> {
    let mut offset = 0;
    while offset < frame.height() {
        let mut group = frame.slice(offset as i64, rows);
        offset += group.height();
        group.rechunk_mut_par();
        writer.write_batch(&group)?;
    }
    Ok(())
}

/// Reads the summary of a warehouse.
pub fn read_summary(dir: &Path) -> Result<IngestSummary> {
    let path = dir.join(SUMMARY_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an l2lens ingest summary; run `l2lens ingest` again",
            path.display()
        )
    })
}

/// The warehouse's `text_findings`, when it has them (a warehouse written before they existed
/// has none).
pub fn scan_text_findings(dir: &Path) -> Result<Option<LazyFrame>> {
    let path = dir.join(TEXT_FINDINGS);
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(
        LazyFrame::scan_parquet(PlRefPath::try_from_path(&path)?, ScanArgsParquet::default())
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot read {}", path.display()))?,
    ))
}

/// Lazily scans the tables of a warehouse.
pub fn scan(dir: &Path) -> Result<BTreeMap<Table, LazyFrame>> {
    let mut tables = BTreeMap::new();
    for table in Table::ALL {
        let path = table_path(dir, table);
        if path.exists() && !path.is_file() {
            bail!(
                "{} is not a file (a directory?), so the {} table cannot be read from it; move \
                 it out of the warehouse {} and run `l2lens ingest` again",
                path.display(),
                table.name(),
                dir.display()
            );
        }
        if !path.is_file() {
            if table.required() {
                bail!(
                    "{} is missing from the warehouse {}; run `l2lens ingest` again",
                    path.display(),
                    dir.display()
                );
            }
            continue;
        }
        let frame =
            LazyFrame::scan_parquet(PlRefPath::try_from_path(&path)?, ScanArgsParquet::default())
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot read {}", path.display()))?;
        tables.insert(table, frame);
    }
    Ok(tables)
}

pub use crate::ingest::parts::row_count;

pub fn write_parquet(path: &Path, frame: &mut DataFrame) -> Result<()> {
    write_atomic(path, |w| {
        ParquetWriter::new(w).finish(frame)?;
        Ok(())
    })
}

/// The quarantine as CSV: `table,file,row,column,value,reason`.
pub fn quarantine_csv(lines: &[QuarantineLine]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["table", "file", "row", "column", "value", "reason"])?;
    for q in lines {
        csv.write_record([
            q.table.name(),
            &q.file,
            &q.row.to_string(),
            &q.column,
            &q.value,
            q.reason.as_str(),
        ])?;
    }
    csv.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn write_quarantine(dir: &Path, lines: &[QuarantineLine]) -> Result<()> {
    let bytes = quarantine_csv(lines)?;
    write_atomic(&dir.join(QUARANTINE_CSV), |w| Ok(w.write_all(&bytes)?))?;
    let mut frame = quarantine_frame(lines)?;
    write_parquet(&dir.join(QUARANTINE_PARQUET), &mut frame)
}

pub fn quarantine_frame(lines: &[QuarantineLine]) -> PolarsResult<DataFrame> {
    df!(
        "table" => lines.iter().map(|q| q.table.name()).collect::<Vec<_>>(),
        "file" => lines.iter().map(|q| q.file.as_str()).collect::<Vec<_>>(),
        "row" => lines.iter().map(|q| q.row).collect::<Vec<_>>(),
        "column" => lines.iter().map(|q| q.column.as_str()).collect::<Vec<_>>(),
        "value" => lines.iter().map(|q| q.value.as_str()).collect::<Vec<_>>(),
        "reason" => lines.iter().map(|q| q.reason.as_str()).collect::<Vec<_>>(),
    )
}
