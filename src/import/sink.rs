//! Where importers write: one CSV per canonical table, streamed row by row, plus the import's
//! own quarantine. With `--format parquet` each CSV is turned into Parquet at the end.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;

/// The import's quarantine: input that could not become a row (bad JSON, a row the mapping
/// cannot translate, an event with no timestamp).
pub const QUARANTINE_FILE: &str = "import_quarantine.csv";
/// The import summary, as JSON.
pub const SUMMARY_FILE: &str = "import_summary.json";

/// The output format of the canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutFormat {
    #[default]
    Csv,
    Parquet,
}

/// One table's writer: a fixed header (canonical columns, then extras) and rows of optional
/// text.
pub struct TableSink {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    width: usize,
    rows: u64,
    /// The storage rule for the table's text columns, when it has any.
    text: Option<SinkText>,
    header: Vec<String>,
}

/// Where a sink's text columns are, and the rule that decides what is written of them.
struct SinkText {
    pass: std::sync::Arc<crate::ingest::text::TextPass>,
    /// Messages: the `text` column and its `text_chars`.
    message: Option<(usize, usize)>,
    /// Handoffs: the five brief fields.
    fields: Vec<usize>,
}

impl TableSink {
    pub fn create(dir: &Path, table: &str, columns: &[&str]) -> Result<TableSink> {
        let path = dir.join(format!("{table}.csv"));
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer.write_record(columns)?;
        Ok(TableSink {
            path,
            writer,
            width: columns.len(),
            rows: 0,
            text: None,
            header: columns.iter().map(|c| (*c).to_owned()).collect(),
        })
    }

    /// Writes the table's text columns (`messages.text`, the five brief fields) through the
    /// storage rule: markers by default, never the text unless `store = "raw"`; `text_chars`
    /// is filled from the text as given.
    pub fn with_text(mut self, pass: &std::sync::Arc<crate::ingest::text::TextPass>) -> TableSink {
        let at = |name: &str| self.header.iter().position(|c| c == name);
        let message = at("text").zip(at("text_chars"));
        let fields: Vec<usize> = crate::ingest::schema::HANDOFF_FIELDS
            .iter()
            .filter(|_| self.path.file_stem().is_some_and(|s| s == "handoffs"))
            .filter_map(|f| at(f))
            .collect();
        if message.is_some() || !fields.is_empty() {
            self.text = Some(SinkText {
                pass: pass.clone(),
                message,
                fields,
            });
        }
        self
    }

    /// Writes one row; `None` is an empty cell.
    pub fn row(&mut self, cells: &[Option<&str>]) -> Result<()> {
        debug_assert_eq!(cells.len(), self.width);
        let Some(text) = &self.text else {
            self.writer
                .write_record(cells.iter().map(|c| c.unwrap_or("")))
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            self.rows += 1;
            return Ok(());
        };
        let mut owned: Vec<Option<String>> = cells.iter().map(|c| c.map(str::to_owned)).collect();
        if let Some((t, chars)) = text.message
            && let Some(value) = cells[t].filter(|v| !v.trim().is_empty())
        {
            owned[t] = text.pass.import_form(value);
            if owned[chars].is_none() {
                owned[chars] = Some(crate::text::detect::text_chars(value).to_string());
            }
        }
        for &f in &text.fields {
            if let Some(value) = cells[f] {
                owned[f] = Some(text.pass.import_field(value));
            }
        }
        self.writer
            .write_record(owned.iter().map(|c| c.as_deref().unwrap_or("")))
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the file and, for Parquet output, rewrites it as Parquet (all columns text, as
    /// ingest reads them).
    pub fn finish(self, format: OutFormat) -> Result<u64> {
        let rows = self.rows;
        let mut inner = self
            .writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.path.display(), e.error()))?;
        inner.flush()?;
        drop(inner);
        if format == OutFormat::Parquet {
            to_parquet(&self.path)?;
        }
        Ok(rows)
    }
}

fn to_parquet(csv_path: &Path) -> Result<()> {
    let mut frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv_path.to_owned()))?
        .finish()
        .map_err(|e| anyhow::anyhow!("cannot read back {}: {e}", csv_path.display()))?;
    let out = csv_path.with_extension("parquet");
    let file = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    ParquetWriter::new(file).finish(&mut frame)?;
    std::fs::remove_file(csv_path)?;
    Ok(())
}

/// One line of the import quarantine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportProblem {
    pub file: String,
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Writes the import quarantine, header included, even when empty.
pub fn write_problems(dir: &Path, problems: &[ImportProblem]) -> Result<()> {
    let path = dir.join(QUARANTINE_FILE);
    let mut writer = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writer.write_record(["file", "row", "column", "value", "reason"])?;
    for p in problems {
        // Never a text value; card numbers and IBANs masked in any other.
        let text_column = p.column == "text"
            || crate::ingest::schema::HANDOFF_FIELDS.contains(&p.column.as_str());
        let value = crate::text::quarantine_value(text_column, false, &p.value);
        let value: String = value.chars().take(200).collect();
        writer.write_record([
            p.file.as_str(),
            &p.row.to_string(),
            &p.column,
            &value,
            &p.reason,
        ])?;
    }
    writer.flush()?;
    Ok(())
}
