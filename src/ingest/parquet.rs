//! Parquet reader. Column types are checked before any row is read: a timestamp column must be
//! a timestamp (any unit, with or without a zone), text, or integers with a named unit; a
//! wrong type is a fatal error that names the column and what it should be.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use polars::prelude::*;

use super::columns::ColumnMap;
use super::schema::{ColumnSpec, Kind, SOURCE_ROW};
use super::validate::{Cell, MAX_COLUMNS, TableBuilder, ValidatedTable};
use crate::progress::Progress;
use crate::time::EpochUnit;

/// One canonical column, ready to be walked row by row.
enum Source<'a> {
    Absent,
    Text(&'a StringChunked),
    Int(&'a Int64Chunked),
    Bool(&'a BooleanChunked),
    /// Physical epoch values and how many of them make a millisecond (or how many ms one is).
    Timestamp(&'a Int64Chunked, TimeUnit),
}

pub fn read(
    path: &Path,
    builder: TableBuilder<'_>,
    epoch_unit: Option<EpochUnit>,
    progress: &Progress,
) -> Result<ValidatedTable> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let frame = ParquetReader::new(file)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "{} is not a readable Parquet file; re-export it or use CSV/JSON Lines",
                path.display()
            )
        })?;
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let specs = builder.specs();
    let map = ColumnMap::from_header(path, specs, &names)?;

    // Bring every canonical column to one of the physical forms `Source` walks.
    let mut prepared: Vec<Option<Column>> = Vec::with_capacity(specs.len());
    for (spec, pos) in specs.iter().zip(&map.canonical) {
        prepared.push(match pos {
            Some(p) => Some(prepare(path, spec, &frame.columns()[*p], epoch_unit)?),
            None => None,
        });
    }
    let sources = prepared
        .iter()
        .map(|c| match c {
            None => Ok(Source::Absent),
            Some(c) => source(c),
        })
        .collect::<PolarsResult<Vec<Source<'_>>>>()?;

    let height = frame.height();
    let bar = progress.items(height as u64, &format!("reading {}", path.display()));
    let mut walkers: Vec<Box<dyn Iterator<Item = Cell<'_>> + '_>> =
        sources.iter().map(walk).collect();
    let mut builder = builder;
    for index in 0..height {
        let cells: [Cell<'_>; MAX_COLUMNS] = std::array::from_fn(|i| {
            walkers
                .get_mut(i)
                .and_then(|w| w.next())
                .unwrap_or(Cell::Null)
        });
        builder.push(index as u64 + 1, &cells[..specs.len()], &[]);
        if index.is_multiple_of(65_536) {
            bar.set_position(index as u64);
        }
    }
    bar.finish_and_clear();

    // Extra columns keep their Parquet types: take the accepted rows of each.
    let mut table = builder.finish()?;
    if !map.extras.is_empty() {
        let accepted: Vec<IdxSize> = table
            .frame
            .column(SOURCE_ROW)?
            .u32()?
            .into_no_null_iter()
            .map(|r| (r - 1) as IdxSize)
            .collect();
        let accepted = IdxCa::from_vec("".into(), accepted);
        for (pos, name) in &map.extras {
            let column = frame.columns()[*pos]
                .take(&accepted)?
                .with_name(name.into());
            table.frame.with_column(column)?;
        }
    }
    Ok(table)
}

fn prepare(
    path: &Path,
    spec: &ColumnSpec,
    column: &Column,
    epoch_unit: Option<EpochUnit>,
) -> Result<Column> {
    let dtype = column.dtype();
    let ok = match (spec.kind, dtype) {
        (_, DataType::String) => true,
        (_, DataType::Null) => true,
        (_, DataType::Categorical(..) | DataType::Enum(..)) => true,
        (Kind::Timestamp, DataType::Datetime(..)) => true,
        (Kind::Timestamp, d) if d.is_integer() => {
            if epoch_unit.is_none() {
                bail!(
                    "{}: column `{}` holds integers ({dtype}); say what they count with \
                     --epoch-unit s|ms|us|ns, or store it as a Parquet timestamp",
                    path.display(),
                    spec.name
                );
            }
            true
        }
        (Kind::Timestamp, _) => false,
        (Kind::Bool, DataType::Boolean) => true,
        (Kind::Bool, d) => d.is_integer(),
        (_, d) => d.is_integer(),
    };
    if !ok {
        let expected = match spec.kind {
            Kind::Timestamp => "a timestamp (any unit, with or without a time zone) or text",
            Kind::Bool => "a boolean or text",
            _ => "text",
        };
        bail!(
            "{}: column `{}` has type {dtype}, expected {expected}; cast it in the export",
            path.display(),
            spec.name
        );
    }
    let target = match dtype {
        DataType::Datetime(..) => return Ok(column.clone()),
        DataType::Boolean if spec.kind == Kind::Bool => return Ok(column.clone()),
        DataType::Null | DataType::Categorical(..) | DataType::Enum(..) => DataType::String,
        d if d.is_integer() => DataType::Int64,
        _ => DataType::String,
    };
    Ok(column.cast(&target)?)
}

fn source(column: &Column) -> PolarsResult<Source<'_>> {
    Ok(match column.dtype() {
        DataType::String => Source::Text(column.str()?),
        DataType::Int64 => Source::Int(column.i64()?),
        DataType::Boolean => Source::Bool(column.bool()?),
        DataType::Datetime(unit, _) => Source::Timestamp(column.datetime()?.physical(), *unit),
        other => polars_bail!(ComputeError: "unexpected prepared type {other}"),
    })
}

fn walk<'a>(source: &'a Source<'a>) -> Box<dyn Iterator<Item = Cell<'a>> + 'a> {
    match source {
        Source::Absent => Box::new(std::iter::repeat(Cell::Null)),
        Source::Text(ca) => Box::new(ca.iter().map(|v| v.map_or(Cell::Null, Cell::Text))),
        Source::Int(ca) => Box::new(ca.iter().map(|v| v.map_or(Cell::Null, Cell::Int))),
        Source::Bool(ca) => Box::new(ca.iter().map(|v| v.map_or(Cell::Null, Cell::Bool))),
        Source::Timestamp(ca, unit) => {
            let unit = *unit;
            Box::new(ca.iter().map(move |v| {
                v.map_or(Cell::Null, |t| {
                    Cell::Timestamp(match unit {
                        TimeUnit::Milliseconds => t,
                        TimeUnit::Microseconds => t.div_euclid(1_000),
                        TimeUnit::Nanoseconds => t.div_euclid(1_000_000),
                    })
                })
            }))
        }
    }
}
