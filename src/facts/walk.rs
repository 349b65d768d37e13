//! Merge walks: per-conversation passes over event tables sorted by conversation key, beside
//! the facts table (also sorted by key). Used where a rule needs a conversation's events in
//! order with state (governance, business time).

use std::ops::Range;

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW};

/// The rows of `frame` at or before `as_of` on `time`, with `conversation_key`, `time` (as Int64
/// ms) and `columns`, sorted by conversation, time and input order, in one chunk. Exports
/// usually come in that order already: it is checked before anything is sorted.
pub(super) fn by_conversation(
    frame: LazyFrame,
    time: &str,
    as_of: i64,
    columns: &[&str],
) -> Result<DataFrame> {
    let mut select = vec![
        col(CONVERSATION_KEY),
        col(time).cast(DataType::Int64),
        col(SOURCE_ROW),
    ];
    select.extend(
        columns
            .iter()
            .filter(|c| **c != SOURCE_ROW)
            .map(|c| col(*c)),
    );
    let mut frame = crate::dataset::stream(
        frame
            .filter(col(time).cast(DataType::Int64).lt_eq(lit(as_of)))
            .select(select),
    )?;
    let sorted = {
        let keys = frame.column(CONVERSATION_KEY)?.u32()?;
        let times = frame.column(time)?.i64()?;
        let rows = frame.column(SOURCE_ROW)?.u32()?;
        keys.iter().zip(times.iter()).zip(rows.iter()).is_sorted()
    };
    if !sorted {
        frame.sort_in_place(
            [CONVERSATION_KEY, time, SOURCE_ROW],
            SortMultipleOptions::default(),
        )?;
    }
    if !columns.contains(&SOURCE_ROW) {
        frame.drop_in_place(SOURCE_ROW)?;
    }
    frame.rechunk_mut_par();
    Ok(frame)
}

/// A column in one chunk without nulls, as a slice.
pub(super) fn slice<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Result<&[T::Native]> {
    if ca.is_empty() {
        return Ok(&[]);
    }
    ca.cont_slice()
        .map_err(|e| anyhow::anyhow!("{}: expected one chunk without nulls ({e})", ca.name()))
}

/// The rows of `keys` (sorted) holding `key`, searching from `*from`, which moves past them.
/// Called with ascending keys, a whole walk is one pass over `keys`.
pub(super) fn take(keys: &[u32], from: &mut usize, key: u32) -> Range<usize> {
    take_by(keys.len(), from, key, |i| keys[i])
}

/// [`take`] over `len` rows whose keys `key_of` gives.
pub(super) fn take_by(
    len: usize,
    from: &mut usize,
    key: u32,
    key_of: impl Fn(usize) -> u32,
) -> Range<usize> {
    while *from < len && key_of(*from) < key {
        *from += 1;
    }
    let start = *from;
    while *from < len && key_of(*from) == key {
        *from += 1;
    }
    start..*from
}

/// The latest of `times` at or before `at` among the rows of `key`, in columns sorted by key
/// then time.
pub(super) fn last_at_or_before(keys: &[u32], times: &[i64], key: u32, at: i64) -> Option<i64> {
    let start = keys.partition_point(|&k| k < key);
    let end = keys.partition_point(|&k| k <= key);
    let times = &times[start..end];
    times[..times.partition_point(|&t| t <= at)].last().copied()
}

/// Rows per chunk of a per-conversation pass.
const CHUNK: usize = 1 << 16;

/// Runs `pass` over the rows `0..n` in chunks, in parallel, and returns its results in row
/// order (one `pass(0..0)` when there are no rows, so that the result has a shape).
pub(super) fn in_chunks<T: Send>(
    n: usize,
    pass: impl Fn(Range<usize>) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    if n == 0 {
        return Ok(vec![pass(0..0)?]);
    }
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| pass(c * CHUNK..((c + 1) * CHUNK).min(n)))
        .collect()
}

/// The Int64 column `name` of `frame` in one chunk, for [`at`].
pub(super) fn one_chunk(frame: &DataFrame, name: &str) -> Result<Int64Chunked> {
    Ok(frame.column(name)?.i64()?.rechunk().into_owned())
}

/// The value at `row` of a one-chunk column ([`one_chunk`]), without looking the chunk up.
pub(super) fn at(column: &Int64Chunked, row: usize) -> Option<i64> {
    column.downcast_get(0)?.get(row)
}

/// A nullable numeric column from a pass's values: the values and their validity copied once
/// each (a column built value by value costs several times more).
pub(super) fn nullable<T: PolarsNumericType>(
    name: &str,
    values: &[Option<T::Native>],
) -> ChunkedArray<T> {
    let plain: Vec<T::Native> = values.iter().map(|v| v.unwrap_or_default()).collect();
    let validity = match values.iter().all(Option::is_some) {
        true => None,
        false => {
            BooleanChunked::from_iter_values(PlSmallStr::EMPTY, values.iter().map(Option::is_some))
                .downcast_get(0)
                .map(|a| a.values().clone())
        }
    };
    ChunkedArray::from_vec_validity(name.into(), plain, validity)
}

/// The frames of [`in_chunks`], stacked (their chunks are kept, not copied).
pub(super) fn stack(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut frames = frames.into_iter();
    let mut out = frames.next().unwrap_or_default();
    for frame in frames {
        out.vstack_mut_owned(frame)?;
    }
    Ok(out)
}

/// The assignments at or before `as_of` by conversation, time and input order, with the
/// columns the per-conversation passes read: `conversation_key`, `assigned_at` (Int64 ms),
/// `lane`, `assignee_id`, `reason`. Collected once for every pass.
pub(super) fn assignments(data: &crate::dataset::Dataset, as_of: i64) -> Result<DataFrame> {
    by_conversation(
        data.table(crate::ingest::schema::Table::Assignments)?,
        "assigned_at",
        as_of,
        &["lane", "assignee_id", "reason"],
    )
}
