//! What a run over partitions of the conversations decides once, from all the data, before
//! any partition's facts: the default `as_of`, the days in which a conversation opened or
//! closed (which periods have a window snapshot), and whether any message is billable (whether
//! the facts have the cost columns). Each is the value the unpartitioned facts find for
//! themselves; [`super::compute_scoped`] takes them instead of looking.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use polars::prelude::*;

use super::ms;
use crate::dataset::{Dataset, stream};
use crate::ingest::schema::Table;
use crate::period::{Period, Zone};

/// The decisions of [`globals`].
#[derive(Debug, Clone, PartialEq)]
pub struct Globals {
    pub as_of: i64,
    /// The first and the last instant, in each local day, at which a conversation opened at or
    /// before `as_of` opened or closed (a close after `as_of` does not count), sorted: the window
    /// snapshots' active periods ([`crate::period::snapshots_within`]) are the periods holding
    /// one of them.
    pub active: Arc<Vec<i64>>,
    /// Whether some message has a `billable` value ([`super::whatsapp::cost`]).
    pub billable: bool,
}

/// The decisions for `data`, at `as_of` (else at the latest instant of the data), with days
/// in `zone`.
pub fn globals(data: &Dataset, as_of: Option<i64>, zone: Zone) -> Result<Globals> {
    let as_of = match as_of {
        Some(t) => t,
        None => latest(data)?
            .context("the data has no timestamps at all, so there is no as_of; pass --as-of")?,
    };
    Ok(Globals {
        as_of,
        active: Arc::new(active(data, as_of, zone)?),
        billable: billable(data)?,
    })
}

/// The latest instant the facts read: the conversations' openings and closes, the messages,
/// assignments, handoffs and calls (as [`super::latest_instant`] finds it over all rows).
fn latest(data: &Dataset) -> Result<Option<i64>> {
    let mut reads = vec![
        (Table::Conversations, "opened_at"),
        (Table::Conversations, "closed_at"),
        (Table::Messages, "sent_at"),
        (Table::Assignments, "assigned_at"),
    ];
    if data.has(Table::Handoffs) {
        reads.push((Table::Handoffs, "handoff_at"));
    }
    if data.has(Table::Calls) {
        reads.push((Table::Calls, "placed_at"));
    }
    let mut latest = None;
    for (table, column) in reads {
        let frame = stream(data.table(table)?.select([ms(column).max().alias("max")]))
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading the latest {} {column}", table.name()))?;
        let max = frame.column("max")?.i64()?.get(0);
        latest = latest.max(max);
    }
    Ok(latest)
}

/// See [`Globals::active`].
fn active(data: &Dataset, as_of: i64, zone: Zone) -> Result<Vec<i64>> {
    let opened = ms("opened_at");
    let closed = ms("closed_at");
    let conversations = data
        .table(Table::Conversations)?
        .filter(opened.clone().lt_eq(lit(as_of)));
    let instants = concat(
        [
            conversations.clone().select([opened.alias("at")]),
            conversations
                .select([closed.alias("at")])
                .filter(col("at").lt_eq(lit(as_of))),
        ],
        UnionArgs::default(),
    )?
    .filter(col("at").is_not_null())
    .group_by([Period::Day.start_expr(col("at"), zone).alias("day")])
    .agg([
        col("at").min().alias("first"),
        col("at").max().alias("last"),
    ]);
    let frame = stream(instants)
        .map_err(anyhow::Error::from)
        .context("reading when conversations opened and closed")?;
    let mut out: Vec<i64> = frame
        .column("first")?
        .i64()?
        .into_no_null_iter()
        .chain(frame.column("last")?.i64()?.into_no_null_iter())
        .collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// See [`Globals::billable`].
pub(super) fn billable(data: &Dataset) -> Result<bool> {
    let any = stream(
        data.table(Table::Messages)?
            .select([col("billable").is_not_null().any(true).alias("any")]),
    )?;
    Ok(any.column("any")?.bool()?.get(0) == Some(true))
}
