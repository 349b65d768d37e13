//! Merge walks: per-conversation passes over event tables sorted by conversation key, beside
//! the facts table (also sorted by key). Used where a rule needs a conversation's events in
//! order with state (governance, business time).

use anyhow::Result;
use polars::prelude::*;

use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW};

/// `frame` at or before `as_of` on `time`, sorted by conversation, time and input order.
pub(super) fn by_conversation(frame: LazyFrame, time: &str, as_of: i64) -> LazyFrame {
    frame
        .filter(col(time).cast(DataType::Int64).lt_eq(lit(as_of)))
        .sort(
            [CONVERSATION_KEY, time, SOURCE_ROW],
            SortMultipleOptions::default(),
        )
}

/// The conversation keys of a collected frame, as a plain vector.
pub(super) fn keys(frame: &DataFrame) -> Result<Vec<u32>> {
    Ok(frame
        .column(CONVERSATION_KEY)?
        .u32()?
        .iter()
        .map(|v| v.unwrap_or(u32::MAX))
        .collect())
}

/// An Int64 column as a plain vector (nulls as `i64::MIN`).
pub(super) fn instants(frame: &DataFrame, name: &str) -> Result<Vec<i64>> {
    Ok(frame
        .column(name)?
        .i64()?
        .iter()
        .map(|v| v.unwrap_or(i64::MIN))
        .collect())
}

/// A String column as a plain vector (indexing a chunked array costs a chunk search per call).
pub(super) fn strings<'a>(frame: &'a DataFrame, name: &str) -> Result<Vec<Option<&'a str>>> {
    Ok(frame.column(name)?.str()?.iter().collect())
}

/// A Boolean column as a plain vector (nulls as `false`).
pub(super) fn flags(frame: &DataFrame, name: &str) -> Result<Vec<bool>> {
    Ok(frame
        .column(name)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// The rows of `keys` (sorted) holding `key`, searching from `*from`, which moves past them.
/// Called with ascending keys, a whole walk is one pass over `keys`.
pub(super) fn take(keys: &[u32], from: &mut usize, key: u32) -> std::ops::Range<usize> {
    while *from < keys.len() && keys[*from] < key {
        *from += 1;
    }
    let start = *from;
    while *from < keys.len() && keys[*from] == key {
        *from += 1;
    }
    start..*from
}

/// The assignments at or before `as_of` by conversation, time and input order, with the
/// columns the per-conversation passes read: `conversation_key`, `assigned_at` (Int64 ms),
/// `lane`, `assignee_id`, `reason`. Collected once for every pass.
pub(super) fn assignments(data: &crate::dataset::Dataset, as_of: i64) -> Result<DataFrame> {
    Ok(by_conversation(
        data.table(crate::ingest::schema::Table::Assignments)?,
        "assigned_at",
        as_of,
    )
    .select([
        col(CONVERSATION_KEY),
        col("assigned_at").cast(DataType::Int64),
        col("lane"),
        col("assignee_id"),
        col("reason"),
    ])
    .collect()?)
}
