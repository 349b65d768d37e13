//! Parquet reader. Column types are checked before any row is read: a timestamp column must be
//! a timestamp (any unit, with or without a zone), text, or integers with a named unit; a
//! wrong type is a fatal error that names the column and what it should be.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use polars::prelude::*;

use super::columns::ColumnMap;
use super::ids::Repeats;
use super::schema::{ColumnSpec, Kind, SOURCE_ROW};
use super::validate::{Cell, MAX_COLUMNS, Parser, TableBuilder, ValidatedTable};
use crate::progress::Progress;
use crate::time::EpochUnit;
use indicatif::ProgressBar;

/// One canonical column, ready to be walked row by row.
enum Source<'a> {
    Absent,
    Text(&'a StringChunked),
    Int(&'a Int64Chunked),
    Bool(&'a BooleanChunked),
    /// Physical epoch values and how many of them make a millisecond (or how many ms one is).
    Timestamp(&'a Int64Chunked, TimeUnit),
}

/// Rows read from the file at a time: the reader holds one slice, and with a spill file each
/// slice's accepted rows become one row group.
const SLICE_ROWS: usize = super::SPILL_BATCH_ROWS;

pub fn read(
    path: &Path,
    builder: TableBuilder<'_>,
    epoch_unit: Option<EpochUnit>,
    progress: &Progress,
) -> Result<ValidatedTable> {
    read_in_slices(path, builder, epoch_unit, progress, SLICE_ROWS)
}

fn read_in_slices(
    path: &Path,
    mut builder: TableBuilder<'_>,
    epoch_unit: Option<EpochUnit>,
    progress: &Progress,
    slice_rows: usize,
) -> Result<ValidatedTable> {
    let unreadable = || {
        format!(
            "{} is not a readable Parquet file; re-export it or use CSV/JSON Lines",
            path.display()
        )
    };
    // The footer only: the schema and the row count, before any row is read.
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = ParquetReader::new(&mut file);
    let schema = reader
        .schema()
        .map_err(anyhow::Error::from)
        .with_context(unreadable)?;
    let height = reader
        .num_rows()
        .map_err(anyhow::Error::from)
        .with_context(unreadable)?;
    let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    let specs = builder.specs();
    let mut map = ColumnMap::from_header(path, specs, &names)?;
    // Extras the storage rule withholds are never read; a typed number or flag cannot hold text.
    map.extras.retain(|(pos, name)| {
        let (_, field) = schema.get_at_index(*pos).expect("a column of the schema");
        let dtype = DataType::from_arrow_field(field);
        let may_hold_strings =
            !(dtype.is_primitive_numeric() || dtype.is_bool() || dtype.is_temporal());
        !builder.withholds(name, may_hold_strings)
    });
    // Every column's type is checked before any row is read.
    for (spec, pos) in specs.iter().zip(&map.canonical) {
        if let Some(p) = pos {
            let (_, field) = schema.get_at_index(*p).expect("a column of the schema");
            check_type(path, spec, &DataType::from_arrow_field(field), epoch_unit)?;
        }
    }
    let scan = LazyFrame::scan_parquet(PlRefPath::try_from_path(path)?, ScanArgsParquet::default())
        .map_err(anyhow::Error::from)
        .with_context(unreadable)?;

    if let Some(key) = builder.repeats_key(height)
        && let Some(pos) = map.canonical[key]
    {
        let bar = progress.items(
            height as u64,
            &format!("checking the ids of {}", path.display()),
        );
        let name = &names[pos];
        let repeats = key_repeats(&scan, name, &specs[key], builder.parser(), height, &bar)
            .with_context(unreadable)?;
        bar.finish_and_clear();
        builder.only_repeats(repeats);
    }
    let bar = progress.items(height as u64, &format!("reading {}", path.display()));
    builder.batches_by_reader();
    let mut offset = 0;
    loop {
        let frame = scan
            .clone()
            .slice(offset as i64, slice_rows as IdxSize)
            .collect()
            .map_err(anyhow::Error::from)
            .with_context(unreadable)?;
        read_slice(&frame, offset, &map, &mut builder, specs)?;
        offset += frame.height();
        bar.set_position(offset as u64);
        if frame.height() < slice_rows || offset >= height {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(builder.finish()?)
}

/// The first pass over a large table: the key column `name` alone, read a few slices at a
/// time and through the rule of the main pass, into the filter of ids that may repeat.
fn key_repeats(
    scan: &LazyFrame,
    name: &str,
    spec: &ColumnSpec,
    parser: &Parser<'_>,
    height: usize,
    bar: &ProgressBar,
) -> Result<Repeats> {
    let mut repeats = Repeats::new(height);
    let column = scan.clone().select([col(name)]);
    let mut offset = 0;
    while offset < height {
        let frame = column
            .clone()
            .slice(offset as i64, KEY_SLICE_ROWS as IdxSize)
            .collect()?;
        if frame.height() == 0 {
            break;
        }
        let prepared = prepare(spec, &frame.columns()[0])?;
        let source = source(&prepared)?;
        for cell in walk(&source) {
            if let Some(fingerprint) = parser.key_fingerprint(&cell) {
                repeats.add(fingerprint);
            }
        }
        offset += frame.height();
        bar.set_position(offset as u64);
    }
    Ok(repeats)
}

/// Rows of the key column the first pass reads at a time.
const KEY_SLICE_ROWS: usize = 8 * SLICE_ROWS;

/// Validates one slice of the file, rows `offset + 1 ..`, and ends its batch.
fn read_slice(
    frame: &DataFrame,
    offset: usize,
    map: &ColumnMap,
    builder: &mut TableBuilder<'_>,
    specs: &[ColumnSpec],
) -> Result<()> {
    // Bring every canonical column to one of the physical forms `Source` walks.
    let mut prepared: Vec<Option<Column>> = Vec::with_capacity(specs.len());
    for (spec, pos) in specs.iter().zip(&map.canonical) {
        prepared.push(match pos {
            Some(p) => Some(prepare(spec, &frame.columns()[*p])?),
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
    let mut walkers: Vec<Box<dyn Iterator<Item = Cell<'_>> + '_>> =
        sources.iter().map(walk).collect();
    for index in 0..frame.height() {
        let cells: [Cell<'_>; MAX_COLUMNS] = std::array::from_fn(|i| {
            walkers
                .get_mut(i)
                .and_then(|w| w.next())
                .unwrap_or(Cell::Null)
        });
        builder.push((offset + index) as u64 + 1, &cells[..specs.len()], &[]);
    }
    // Extra columns keep their Parquet types: the accepted rows of the slice are taken.
    builder.end_batch(|batch| {
        if map.extras.is_empty() {
            return Ok(());
        }
        let accepted: Vec<IdxSize> = batch
            .column(SOURCE_ROW)?
            .u32()?
            .into_no_null_iter()
            .map(|r| (r as usize - 1 - offset) as IdxSize)
            .collect();
        let accepted = IdxCa::from_vec("".into(), accepted);
        for (pos, name) in &map.extras {
            let column = frame.columns()[*pos]
                .take(&accepted)?
                .with_name(name.into());
            batch.with_column(column)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Whether a column of type `dtype` can hold `spec`'s values; an error that names the column
/// and what it should be if not.
fn check_type(
    path: &Path,
    spec: &ColumnSpec,
    dtype: &DataType,
    epoch_unit: Option<EpochUnit>,
) -> Result<()> {
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
            Kind::Count => "an integer or text",
            _ => "text",
        };
        bail!(
            "{}: column `{}` has type {dtype}, expected {expected}; cast it in the export",
            path.display(),
            spec.name
        );
    }
    Ok(())
}

/// A column of a checked type ([`check_type`]) in one of the physical forms `Source` walks.
fn prepare(spec: &ColumnSpec, column: &Column) -> Result<Column> {
    let target = match column.dtype() {
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

#[cfg(test)]
#[path = "parquet_tests.rs"]
mod tests;
