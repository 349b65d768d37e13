//! `l2lens query`: run SQL over the tables and print or write the result.

use std::io::Write;

use anyhow::{Context, Result};
use polars::prelude::SerWriter;

use super::analyse;
use crate::Status;
use crate::cli::{QueryArgs, QueryFormat};
use crate::progress::Progress;
use crate::query;
use crate::warehouse::{write_atomic, write_parquet};

pub(crate) fn run(args: &QueryArgs, progress: &Progress) -> Result<Status> {
    let (sql, source) = match (&args.file, &args.sql) {
        (Some(file), _) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the query file {}", file.display()))?,
            file.display().to_string(),
        ),
        (None, Some(sql)) => (sql.clone(), "--sql".to_owned()),
        (None, None) => anyhow::bail!("give a query file or --sql \"SELECT …\""),
    };
    let analysis = analyse(&args.data, &args.analysis, progress)?;
    let mut result = query::run(&analysis, &sql, &source)?;
    let format = args.format.unwrap_or_else(|| {
        match args
            .out
            .as_deref()
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
        {
            Some("csv") => QueryFormat::Csv,
            Some("json") => QueryFormat::Json,
            Some("parquet") => QueryFormat::Parquet,
            _ => QueryFormat::Table,
        }
    });
    let bytes: Vec<u8> = match format {
        QueryFormat::Parquet => {
            let path = args
                .out
                .as_deref()
                .context("Parquet output needs a file: pass --out FILE.parquet")?;
            write_parquet(path, &mut result)?;
            return Ok(Status::Ok);
        }
        QueryFormat::Table => query::to_table(&result)?.into_bytes(),
        QueryFormat::Csv => {
            let mut buf = Vec::new();
            polars::prelude::CsvWriter::new(&mut buf)
                .include_header(true)
                .finish(&mut result)?;
            buf
        }
        QueryFormat::Json => {
            let mut buf = Vec::new();
            polars::prelude::JsonWriter::new(&mut buf)
                .with_json_format(polars::prelude::JsonFormat::Json)
                .finish(&mut result)?;
            buf.push(b'\n');
            buf
        }
    };
    match args.out.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => write_atomic(path, |w| Ok(w.write_all(&bytes)?))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(Status::Ok)
}
