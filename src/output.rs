//! Writing tables: the metrics' long format (CSV with round-trip floats, JSON, Parquet) and
//! any frame as Parquet or CSV. Files are written atomically; `-` or no path means stdout.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::cli::TableFormat;
use crate::metrics::{MetricRow, read_rows};
use crate::warehouse::{write_atomic, write_parquet};

/// Parses an IANA time-zone name.
pub fn parse_tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        anyhow::anyhow!(
            "--tz `{name}` is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Kolkata)"
        )
    })
}

/// The format named by `explicit`, else by the file extension, else CSV.
pub fn resolve_format(path: Option<&Path>, explicit: Option<TableFormat>) -> TableFormat {
    explicit.unwrap_or_else(|| {
        match path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet") => TableFormat::Parquet,
            Some("json") => TableFormat::Json,
            _ => TableFormat::Csv,
        }
    })
}

fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

/// Writes metric rows (`period_start` as a Date, a group column, `metric`, `value`, `n`).
pub fn write_metrics(
    rows: &mut DataFrame,
    path: Option<&Path>,
    format: Option<TableFormat>,
) -> Result<()> {
    let format = resolve_format(path, format);
    let bytes = match format {
        TableFormat::Parquet => {
            let Some(path) = path.filter(|_| !is_stdout(path)) else {
                bail!("Parquet output needs a file: pass --out FILE.parquet");
            };
            return write_parquet(path, rows);
        }
        TableFormat::Csv | TableFormat::Json => {
            let group = rows
                .get_column_names()
                .get(1)
                .map(|s| s.to_string())
                .context("metric rows need a group column")?;
            let parsed = read_rows(rows)?;
            if format == TableFormat::Csv {
                metrics_csv(&group, &parsed)?
            } else {
                metrics_json(&group, &parsed)?
            }
        }
    };
    match path.filter(|_| !is_stdout(path)) {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
        Some(path) => write_atomic(path, |w| Ok(w.write_all(&bytes)?)),
    }
}

/// A float with enough digits to read back the same value (`1.0`, `0.1`, `1350.0000000000016`).
pub fn round_trip(value: f64) -> String {
    format!("{value:?}")
}

/// Metric rows as CSV bytes, in the output contract; `group` names the group column.
pub fn metrics_csv(group: &str, rows: &[MetricRow]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["period_start", group, "metric", "value", "n"])?;
    for r in rows {
        writer.write_record([
            r.period_start.to_string(),
            r.group.clone(),
            r.metric.clone(),
            round_trip(r.value),
            r.n.to_string(),
        ])?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn metrics_json(group: &str, rows: &[MetricRow]) -> Result<Vec<u8>> {
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut object = serde_json::Map::new();
            object.insert("period_start".into(), r.period_start.to_string().into());
            object.insert(group.to_owned(), r.group.clone().into());
            object.insert("metric".into(), r.metric.clone().into());
            object.insert("value".into(), r.value.into());
            object.insert("n".into(), r.n.into());
            serde_json::Value::Object(object)
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&list)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes a frame as Parquet or CSV, by `format` or the file extension.
pub fn write_frame(frame: &mut DataFrame, path: &Path, format: Option<TableFormat>) -> Result<()> {
    match resolve_format(Some(path), format) {
        TableFormat::Parquet => write_parquet(path, frame),
        TableFormat::Csv => write_atomic(path, |w| {
            CsvWriter::new(w).include_header(true).finish(frame)?;
            Ok(())
        }),
        TableFormat::Json => write_atomic(path, |w| {
            JsonWriter::new(w)
                .with_json_format(JsonFormat::JsonLines)
                .finish(frame)?;
            Ok(())
        }),
    }
}
