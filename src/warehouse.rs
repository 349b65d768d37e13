//! The ingested warehouse: one typed Parquet file per table, the quarantine (CSV and Parquet)
//! and `ingest_summary.json`. Every file is written under a temporary name and renamed into
//! place, so a reader never sees half a file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use polars::prelude::*;

use crate::ingest::schema::Table;
use crate::ingest::validate::QuarantineLine;
use crate::ingest::{IngestSummary, Ingested};

pub const SUMMARY_FILE: &str = "ingest_summary.json";
pub const QUARANTINE_CSV: &str = "quarantine.csv";
pub const QUARANTINE_PARQUET: &str = "quarantine.parquet";

/// Whether `dir` holds an ingested warehouse (rather than raw exported tables).
pub fn is_warehouse(dir: &Path) -> bool {
    dir.join(SUMMARY_FILE).is_file() && dir.join("conversations.parquet").is_file()
}

pub fn table_path(dir: &Path, table: Table) -> PathBuf {
    dir.join(format!("{}.parquet", table.name()))
}

pub fn write(dir: &Path, ingested: &mut Ingested) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    for (table, frame) in ingested.tables.iter_mut() {
        write_parquet(&table_path(dir, *table), frame)?;
    }
    // A table that is absent now must not linger from an earlier ingest into the same folder.
    for table in Table::ALL {
        let path = table_path(dir, table);
        if !ingested.tables.contains_key(&table) && path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
    }
    write_quarantine(dir, &ingested.quarantine)?;
    let json = serde_json::to_string_pretty(&ingested.summary)?;
    write_atomic(&dir.join(SUMMARY_FILE), |w| {
        w.write_all(json.as_bytes())?;
        w.write_all(b"\n")?;
        Ok(())
    })
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

/// Lazily scans the tables of a warehouse.
pub fn scan(dir: &Path) -> Result<BTreeMap<Table, LazyFrame>> {
    let mut tables = BTreeMap::new();
    for table in Table::ALL {
        let path = table_path(dir, table);
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

/// Writes through `fill` into a temporary file beside `path`, then renames it into place.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let file = File::create(&tmp)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        fill(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
