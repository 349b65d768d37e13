//! Where generated rows go: one writer per table, in CSV, JSON Lines or Parquet. Rows arrive
//! as [`Field`]s in the canonical column order of their table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::ingest::schema::{ColumnSpec, Kind, Table, timestamp_dtype};
use crate::time::write_rfc3339;
use crate::warehouse::write_parquet;

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
    Parquet {
        path: std::path::PathBuf,
        specs: &'static [ColumnSpec],
        strings: Vec<Vec<Option<String>>>,
        times: Vec<Vec<Option<i64>>>,
        bools: Vec<Vec<Option<bool>>>,
    },
}

impl Sink {
    pub fn create(dir: &Path, table: Table, format: SampleFormat) -> Result<Sink> {
        let path = dir.join(format!("{}.{}", table.name(), format.extension()));
        let specs = table.columns();
        if format == SampleFormat::Parquet {
            return Ok(Sink::Parquet {
                path,
                specs,
                strings: specs.iter().map(|_| Vec::new()).collect(),
                times: specs.iter().map(|_| Vec::new()).collect(),
                bools: specs.iter().map(|_| Vec::new()).collect(),
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
                strings,
                times,
                bools,
                ..
            } => {
                for (i, field) in fields.iter().enumerate() {
                    match field {
                        Field::Str(v) => strings[i].push(v.map(str::to_owned)),
                        Field::Ts(v) => times[i].push(*v),
                        Field::Bool(v) => bools[i].push(*v),
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Text { mut out, .. } => Ok(out.flush()?),
            Sink::Parquet {
                path,
                specs,
                strings,
                times,
                bools,
            } => {
                let mut columns = Vec::with_capacity(specs.len());
                for (((spec, s), t), b) in specs.iter().zip(strings).zip(times).zip(bools) {
                    let name: PlSmallStr = spec.name.into();
                    columns.push(match spec.kind {
                        Kind::Timestamp => Int64Chunked::from_iter_options(name, t.into_iter())
                            .into_column()
                            .cast(&timestamp_dtype())?,
                        Kind::Bool => {
                            BooleanChunked::from_iter_options(name, b.into_iter()).into_column()
                        }
                        _ => StringChunked::from_iter_options(name, s.into_iter()).into_column(),
                    });
                }
                let mut frame = DataFrame::new_infer_height(columns)?;
                write_parquet(&path, &mut frame)
            }
        }
    }
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
