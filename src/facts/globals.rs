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

#[cfg(test)]
mod tests {
    use crate::facts::tests::conv;
    use crate::testing::{Case, at};

    /// A partitioned run's decisions from all the data equal what one run finds: the latest
    /// instant, and window snapshots in the same periods whether they read every opening and close
    /// or one instant per day of them (here with a close at a local midnight and threads over
    /// quiet weeks).
    #[test]
    fn the_global_decisions_are_the_ones_of_one_run() {
        use crate::period::{Period, Zone, snapshots_within};
        let case = Case::new()
            .conv(&conv("c1", "2026-10-01T08:00:00Z", "2026-10-20T22:00:00Z"))
            .msg("c1,2026-10-01T08:00:00Z,customer,text,,billing")
            .conv(&conv("c2", "2026-11-16T07:30:00Z", ""))
            .msg("c2,2026-11-16T07:40:00Z,customer,text,,billing")
            .msg("c2,2026-11-18T09:00:00Z,agent,text,,")
            .asg("c2,2026-11-16T07:45:00Z,general,agent-1,initial")
            .conv(&conv("c3", "2026-11-17T23:30:00Z", "2026-11-18T00:00:00Z"));
        let data = case.dataset();
        let whole = crate::facts::compute(&data, &case.config, None).unwrap();
        for zone in [Zone::UTC, Zone::parse("Asia/Kolkata").unwrap()] {
            let globals = crate::facts::globals(&data, None, zone).unwrap();
            assert_eq!(globals.as_of, whole.as_of);
            assert_eq!(globals.as_of, at("2026-11-18T09:00:00Z"));
            assert!(!globals.billable);
            let opened = whole.frame.column("opened_at").unwrap().i64().unwrap();
            let closed = whole.frame.column("closed_at").unwrap().i64().unwrap();
            let mut every: Vec<i64> = opened.iter().chain(closed.iter()).flatten().collect();
            every.sort_unstable();
            assert!(globals.active.len() <= every.len());
            for period in [Period::Day, Period::Week, Period::Month] {
                let spans = vec![(at("2026-09-01T00:00:00Z"), i64::MAX)];
                let one = snapshots_within(&mut spans.clone(), &every, globals.as_of, period, zone);
                let parted = snapshots_within(
                    &mut spans.clone(),
                    &globals.active,
                    globals.as_of,
                    period,
                    zone,
                );
                assert_eq!(one, parted, "{period:?} {zone:?}");
            }
        }
    }
}
