//! Input rows of a mapping: CSV (plain or gzip), JSON Lines or Parquet, addressed by column
//! name or dotted JSON path.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use polars::prelude::*;

/// One input row.
#[derive(Debug, Clone)]
pub enum Row {
    Flat {
        index: Arc<HashMap<String, usize>>,
        values: Vec<String>,
    },
    Json(serde_json::Value),
}

impl Row {
    /// The value at a column name or dotted path, as text; `None` when absent or JSON null.
    pub fn get(&self, path: &str) -> Option<String> {
        match self {
            Row::Flat { index, values } => index.get(path).map(|&i| values[i].clone()),
            Row::Json(value) => {
                let mut current = value;
                if let Some(v) = value.get(path) {
                    current = v;
                } else {
                    for part in path.split('.') {
                        current = match current {
                            serde_json::Value::Object(map) => map.get(part)?,
                            serde_json::Value::Array(items) => {
                                items.get(part.parse::<usize>().ok()?)?
                            }
                            _ => return None,
                        };
                    }
                }
                match current {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                }
            }
        }
    }

    /// One row per element of the array at `path` (the element replaces the array, so
    /// `path.x` addresses its fields). A missing or empty array gives no rows.
    pub fn explode(self, path: &str) -> Vec<Row> {
        let mut object = match self {
            Row::Json(serde_json::Value::Object(map)) => map,
            Row::Json(_) => return Vec::new(),
            Row::Flat { index, values } => {
                let mut map = serde_json::Map::new();
                for (name, &i) in index.iter() {
                    let text = &values[i];
                    let value = if name == path {
                        serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
                    } else {
                        serde_json::Value::String(text.clone())
                    };
                    map.insert(name.clone(), value);
                }
                map
            }
        };
        let Some(serde_json::Value::Array(items)) = object.remove(path) else {
            return Vec::new();
        };
        items
            .into_iter()
            .map(|item| {
                let mut row = object.clone();
                row.insert(path.to_owned(), item);
                Row::Json(serde_json::Value::Object(row))
            })
            .collect()
    }
}

/// A row the reader could not split: (column, value, reason).
pub type BadRow = (String, String, String);

/// Calls `each(row_number, row)` for every row of `path` (CSV rows are numbered from 2, after
/// the header; JSON Lines and Parquet rows from 1).
pub fn read(
    path: &Path,
    mut each: impl FnMut(u64, Result<Row, BadRow>) -> Result<()>,
) -> Result<()> {
    let name = crate::ingest::file_name(path).to_lowercase();
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let reader = super::super::open_input(path)?;
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers: Vec<String> = csv
            .headers()
            .with_context(|| format!("cannot read the header of {}", path.display()))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let index: Arc<HashMap<String, usize>> = Arc::new(
            headers
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i))
                .collect(),
        );
        let mut record = csv::StringRecord::new();
        let mut number = 1u64;
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    number += 1;
                    if record.len() != headers.len() {
                        each(
                            number,
                            Err((
                                String::new(),
                                record.iter().collect::<Vec<_>>().join(","),
                                format!(
                                    "wrong_field_count: {} fields, the header has {}",
                                    record.len(),
                                    headers.len()
                                ),
                            )),
                        )?;
                        continue;
                    }
                    let values = record.iter().map(str::to_owned).collect();
                    each(
                        number,
                        Ok(Row::Flat {
                            index: index.clone(),
                            values,
                        }),
                    )?;
                }
                Err(e) => {
                    number += 1;
                    each(
                        number,
                        Err((String::new(), String::new(), format!("bad_csv: {e}"))),
                    )?;
                }
            }
        }
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".jsonl.gz") {
        super::super::for_each_line(path, |number, line| {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v @ serde_json::Value::Object(_)) => each(number, Ok(Row::Json(v))),
                Ok(_) => each(
                    number,
                    Err((String::new(), line.to_owned(), "not_an_object".to_owned())),
                ),
                Err(e) => each(
                    number,
                    Err((String::new(), line.to_owned(), format!("bad_json: {e}"))),
                ),
            }
        })
    } else if name.ends_with(".parquet") {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let index: Arc<HashMap<String, usize>> = Arc::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
        );
        let columns: Vec<StringChunked> = frame
            .columns()
            .iter()
            .map(|c| Ok(c.cast(&DataType::String)?.str()?.clone()))
            .collect::<PolarsResult<_>>()?;
        for row in 0..frame.height() {
            let values = columns
                .iter()
                .map(|c| c.get(row).unwrap_or("").to_owned())
                .collect();
            each(
                row as u64 + 1,
                Ok(Row::Flat {
                    index: index.clone(),
                    values,
                }),
            )?;
        }
        Ok(())
    } else {
        bail!(
            "{}: unknown file type; a mapping reads .csv, .csv.gz, .jsonl, .jsonl.gz, .ndjson or .parquet",
            path.display()
        )
    }
}
