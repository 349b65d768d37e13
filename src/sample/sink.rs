//! Where generated rows go: one writer per table, in CSV, JSON Lines or Parquet. Rows arrive
//! as [`Field`]s in the canonical column order of their table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::ingest::schema::{ColumnSpec, Kind, Table, timestamp_dtype};
use crate::time::write_rfc3339;

/// Rows per Parquet row group: the Parquet sink holds at most this many rows in memory.
const BATCH_ROWS: usize = 262_144;

#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Str(Option<&'a str>),
    Ts(Option<i64>),
    Bool(Option<bool>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl SampleFormat {
    pub fn extension(self) -> &'static str {
        match self {
            SampleFormat::Csv => "csv",
            SampleFormat::Jsonl => "jsonl",
            SampleFormat::Parquet => "parquet",
        }
    }
}

pub enum Sink {
    Text {
        out: BufWriter<File>,
        specs: &'static [ColumnSpec],
        jsonl: bool,
        line: String,
    },
    /// Rows are buffered by column and written as one row group every [`BATCH_ROWS`] rows.
    Parquet {
        writer: Box<polars::io::parquet::write::BatchedWriter<File>>,
        specs: &'static [ColumnSpec],
        strings: Vec<Vec<Option<String>>>,
        times: Vec<Vec<Option<i64>>>,
        bools: Vec<Vec<Option<bool>>>,
        buffered: usize,
    },
}

impl Sink {
    /// A sink for `table`; messages get a `text` column only with `text` (never `text_chars`,
    /// which ingest counts).
    pub fn create(dir: &Path, table: Table, format: SampleFormat, text: bool) -> Result<Sink> {
        let path = dir.join(format!("{}.{}", table.name(), format.extension()));
        let all = table.core_columns();
        let specs = match table {
            Table::Messages => {
                let canonical = all.iter().take_while(|s| s.name != "text").count();
                &all[..canonical + usize::from(text)]
            }
            _ => all,
        };
        if format == SampleFormat::Parquet {
            let file =
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            let schema: Schema = specs.iter().map(Field::of).collect();
            return Ok(Sink::Parquet {
                writer: Box::new(ParquetWriter::new(file).batched(&schema)?),
                specs,
                strings: specs.iter().map(|_| Vec::new()).collect(),
                times: specs.iter().map(|_| Vec::new()).collect(),
                bools: specs.iter().map(|_| Vec::new()).collect(),
                buffered: 0,
            });
        }
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        if format == SampleFormat::Csv {
            let header: Vec<&str> = specs.iter().map(|s| s.name).collect();
            writeln!(out, "{}", header.join(","))?;
        }
        Ok(Sink::Text {
            out,
            specs,
            jsonl: format == SampleFormat::Jsonl,
            line: String::with_capacity(256),
        })
    }

    pub fn row(&mut self, fields: &[Field<'_>]) -> Result<()> {
        match self {
            Sink::Text {
                out,
                specs,
                jsonl,
                line,
            } => {
                line.clear();
                if *jsonl {
                    json_line(line, specs, fields);
                } else {
                    csv_line(line, fields);
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
            Sink::Parquet {
                writer,
                specs,
                strings,
                times,
                bools,
                buffered,
            } => {
                for (i, field) in fields.iter().enumerate() {
                    match field {
                        Field::Str(v) => strings[i].push(v.map(str::to_owned)),
                        Field::Ts(v) => times[i].push(*v),
                        Field::Bool(v) => bools[i].push(*v),
                    }
                }
                *buffered += 1;
                if *buffered == BATCH_ROWS {
                    write_batch(writer, specs, strings, times, bools)?;
                    *buffered = 0;
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Text { mut out, .. } => Ok(out.flush()?),
            Sink::Parquet {
                mut writer,
                specs,
                mut strings,
                mut times,
                mut bools,
                buffered,
            } => {
                if buffered > 0 {
                    write_batch(&mut writer, specs, &mut strings, &mut times, &mut bools)?;
                }
                writer.finish()?;
                Ok(())
            }
        }
    }
}

impl Field<'_> {
    /// The Parquet field of a canonical column.
    fn of(spec: &ColumnSpec) -> polars::prelude::Field {
        let dtype = match spec.kind {
            Kind::Timestamp => timestamp_dtype(),
            Kind::Bool => DataType::Boolean,
            _ => DataType::String,
        };
        polars::prelude::Field::new(spec.name.into(), dtype)
    }
}

/// Writes the buffered rows as one row group and empties the buffers.
fn write_batch(
    writer: &mut polars::io::parquet::write::BatchedWriter<File>,
    specs: &[ColumnSpec],
    strings: &mut [Vec<Option<String>>],
    times: &mut [Vec<Option<i64>>],
    bools: &mut [Vec<Option<bool>>],
) -> Result<()> {
    let mut columns = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let name: PlSmallStr = spec.name.into();
        columns.push(match spec.kind {
            Kind::Timestamp => {
                Int64Chunked::from_iter_options(name, std::mem::take(&mut times[i]).into_iter())
                    .into_column()
                    .cast(&timestamp_dtype())?
            }
            Kind::Bool => {
                BooleanChunked::from_iter_options(name, std::mem::take(&mut bools[i]).into_iter())
                    .into_column()
            }
            _ => {
                StringChunked::from_iter_options(name, std::mem::take(&mut strings[i]).into_iter())
                    .into_column()
            }
        });
    }
    let frame = DataFrame::new_infer_height(columns)?;
    writer.write_batch(&frame)?;
    Ok(())
}

fn csv_line(line: &mut String, fields: &[Field<'_>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        match field {
            Field::Str(Some(s)) if s.contains([',', '"', '\n', '\r']) => {
                line.push('"');
                line.push_str(&s.replace('"', "\"\""));
                line.push('"');
            }
            Field::Str(Some(s)) => line.push_str(s),
            Field::Ts(Some(ms)) => write_rfc3339(line, *ms),
            Field::Bool(Some(b)) => line.push_str(if *b { "true" } else { "false" }),
            _ => {}
        }
    }
}

fn json_line(line: &mut String, specs: &[ColumnSpec], fields: &[Field<'_>]) {
    line.push('{');
    for (i, (spec, field)) in specs.iter().zip(fields).enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(spec.name);
        line.push_str("\":");
        match field {
            Field::Str(Some(s)) => {
                line.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "null".into()))
            }
            Field::Ts(Some(ms)) => {
                line.push('"');
                write_rfc3339(line, *ms);
                line.push('"');
            }
            Field::Bool(Some(b)) => line.push_str(if *b { "true" } else { "false" }),
            _ => line.push_str("null"),
        }
    }
    line.push('}');
}
