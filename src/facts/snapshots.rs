//! Window snapshots: the facts of open WhatsApp threads at each period's snapshot instant
//! (spec metric 3), one row per (conversation, snapshot).
//!
//! The rules owned here, and nowhere else:
//! - a thread is in the cohort at `s` when its channel is `whatsapp`, `opened_at < s`,
//!   `closed_at` is null or after `s`, and the customer touched it (wrote, or made a call
//!   `[calls] window_refresh` counts) at or before `s`;
//! - `last_customer_at` at `s`: the customer's latest touch at or before `s`;
//! - the lane at `s`: the lane rule of the facts table ([`super::lane_or_fallback`]) applied to
//!   the assignments at or before `s`.
//!
//! Which snapshots exist, and the customer's last word at each, are decided in Rust from the
//! facts (binary searches per thread over the sorted snapshot instants and over its customer
//! messages): polars would need range joins for them, and the number of (thread, snapshot)
//! pairs stays small because threads close.

use anyhow::Result;
use polars::prelude::*;

use super::{Facts, lane_or_fallback, walk};
use crate::ingest::schema::CONVERSATION_KEY;
use crate::period::{Period, QuietPeriods, Snapshots, Spans, Zone, snapshots_within};

/// One row per thread open at a snapshot: `key`, `period_start` (Date), `s` (the snapshot,
/// Int64 ms), `last_customer_at` (at `s`), `lane_at_snapshot`, `silence` (ms, as Float64),
/// and the facts' `conversation_id`, `owner`, `opened_at`, `channel`, `segment` and `intent`.
///
/// With `owners` (the configuration, for the lanes' tiers) each pair also has
/// `owner_at_snapshot`: the owner group at `s` (the last person in a human lane at or before
/// it; else `bot` when the bot had written and no person was involved by then; else
/// `unowned`).
///
/// Also the quiet periods: those no snapshot is taken in ([`snapshots_within`]), and the
/// threads' spans merged ([`crate::period::Snapshots::spans`]).
pub fn window(
    facts: &Facts,
    period: Period,
    zone: Zone,
    owners: Option<&crate::config::Config>,
) -> Result<(LazyFrame, QuietPeriods, Spans)> {
    let (mut pairs, rows, quiet, spans) = pairs(facts, period, zone)?;
    if let Some(config) = owners {
        let owner = owners_at(facts, &pairs, &rows, config)?;
        pairs.with_column(owner)?;
    }
    // Each pair takes its conversation's columns by row: no join.
    let conversation = facts
        .frame
        .select([
            "conversation_id",
            "owner",
            "opened_at",
            "channel",
            "segment",
            "intent",
            "first_bot_at",
        ])?
        .take(&IdxCa::from_vec("row".into(), rows))?;
    let mut frame = pairs;
    frame.hstack_mut(conversation.columns())?;
    let frame = frame
        .lazy()
        .with_columns([
            lane_or_fallback(col("lane_then"), col("first_bot_at").lt_eq(col("s")))
                .alias("lane_at_snapshot"),
            (col("s") - col("last_customer_at"))
                .cast(DataType::Float64)
                .alias("silence"),
        ])
        .drop(Selector::ByName {
            names: ["lane_then".into(), "first_bot_at".into()].into(),
            strict: true,
        });
    Ok((frame, quiet, spans))
}

/// The owner group at each pair's snapshot (see [`window`]).
fn owners_at(
    facts: &Facts,
    pairs: &DataFrame,
    rows: &[IdxSize],
    config: &crate::config::Config,
) -> Result<Column> {
    let assignments = &facts.assignments;
    let a_key = walk::slice(assignments.column(CONVERSATION_KEY)?.u32()?)?;
    let a_at = walk::slice(assignments.column("assigned_at")?.i64()?)?;
    let lanes = assignments.column("lane")?.str()?;
    let who = assignments.column("assignee_id")?.str()?;
    let mut tiers: PlHashMap<&str, bool> = PlHashMap::new();
    let human: Vec<bool> = lanes
        .iter()
        .map(|l| {
            let l = l.unwrap_or_default();
            *tiers.entry(l).or_insert_with(|| config.tier(l).is_human())
        })
        .collect();
    let first_bot = facts.frame.column("first_bot_at")?.i64()?;
    let first_agent = facts.frame.column("first_agent_at")?.i64()?;
    let keys = pairs.column("key")?.u32()?;
    let at = pairs.column("s")?.i64()?;
    let mut out = StringChunkedBuilder::new("owner_at_snapshot".into(), pairs.height());
    for ((key, s), &row) in keys.iter().zip(at.iter()).zip(rows) {
        let (Some(key), Some(s)) = (key, s) else {
            out.append_null();
            continue;
        };
        let start = a_key.partition_point(|&k| k < key);
        let end = a_key.partition_point(|&k| k <= key);
        let upto = start + a_at[start..end].partition_point(|&t| t <= s);
        let held = (start..upto)
            .rev()
            .find(|&j| human[j] && who.get(j).is_some())
            .and_then(|j| who.get(j));
        let row = row as usize;
        let person =
            (start..upto).any(|j| human[j]) || first_agent.get(row).is_some_and(|a| a <= s);
        let bot = first_bot.get(row).is_some_and(|b| b <= s);
        let group = super::outcomes::owner_group(held, bot, person);
        out.append_value(group);
    }
    Ok(out.finish().into_column())
}

/// The columns of [`pairs`], and the facts row of each pair.
#[derive(Default)]
struct Pairs {
    key: Vec<u32>,
    s: Vec<i64>,
    period: Vec<i32>,
    last: Vec<i64>,
    then: Vec<Option<IdxSize>>,
    row: Vec<IdxSize>,
}

impl Pairs {
    fn append(&mut self, other: Pairs) {
        self.key.extend(other.key);
        self.s.extend(other.s);
        self.period.extend(other.period);
        self.last.extend(other.last);
        self.then.extend(other.then);
        self.row.extend(other.row);
    }

    /// The frame of the pairs, each taking `lane_then` from `lanes` by assignment row (views
    /// taken, no text copied), and the facts row of each pair.
    fn into_frame(self, lanes: &Column) -> Result<(DataFrame, Vec<IdxSize>)> {
        let then = IdxCa::from_iter_options("then".into(), self.then.into_iter());
        let columns = vec![
            Column::new("key".into(), self.key),
            Column::new("s".into(), self.s),
            Int32Chunked::from_vec("period_start".into(), self.period)
                .into_date()
                .into_column(),
            Column::new("last_customer_at".into(), self.last),
            lanes.take(&then)?.with_name("lane_then".into()),
        ];
        Ok((DataFrame::new_infer_height(columns)?, self.row))
    }
}

/// The (thread, snapshot) pairs of the cohort: `key` (UInt32), `s` (Int64 ms), `period_start`
/// (Date), `last_customer_at` (Int64 ms) and `lane_then` (the lane of the latest assignment at
/// or before `s`; ties: the later row), built from typed vectors so that every column has one
/// type whatever the dates (a literal per snapshot would type 1970's small instants as Int32);
/// and the facts row of each pair.
fn pairs(
    facts: &Facts,
    period: Period,
    zone: Zone,
) -> Result<(DataFrame, Vec<IdxSize>, QuietPeriods, Spans)> {
    let frame = &facts.frame;
    let keys = frame.column("key")?.u32()?;
    let channels = frame.column("channel")?.str()?;
    let opened = frame.column("opened_at")?.i64()?;
    let closed = frame.column("closed_at")?.i64()?;
    // The customer's first touch (a message, or a counted user call): before it there is no
    // window to lose.
    let first_customer = {
        let touches = &facts.customer_messages;
        let mut from = 0usize;
        let firsts: Vec<Option<i64>> = keys
            .iter()
            .map(|k| {
                let rows = walk::take(&touches.key, &mut from, k.unwrap_or(u32::MAX));
                touches
                    .at
                    .get(rows.start)
                    .copied()
                    .filter(|_| !rows.is_empty())
            })
            .collect();
        Int64Chunked::from_iter_options("first_touch".into(), firsts.into_iter())
    };
    let first_customer = &first_customer;

    // Each thread's span [from, to): snapshots s with s > opened_at, s >= its first customer
    // message, and s < closed_at (open threads: up to as_of).
    let parts = walk::in_chunks(frame.height(), |range| {
        let (start, len) = (range.start as i64, range.len());
        let (k, c) = (keys.slice(start, len), channels.slice(start, len));
        let (o, f, cl) = (
            opened.slice(start, len),
            first_customer.slice(start, len),
            closed.slice(start, len),
        );
        let rows = k
            .iter()
            .zip(c.iter())
            .zip(o.iter())
            .zip(f.iter())
            .zip(cl.iter());
        let mut threads: Vec<(u32, i64, i64, IdxSize)> = Vec::new();
        for (row, ((((key, channel), opened), first), closed)) in range.zip(rows) {
            let (Some(key), Some("whatsapp"), Some(opened), Some(first)) =
                (key, channel, opened, first)
            else {
                continue;
            };
            let from = opened.saturating_add(1).max(first);
            let to = closed.unwrap_or(i64::MAX);
            if from < to {
                threads.push((key, from, to, row as IdxSize));
            }
        }
        Ok(threads)
    })?;
    let threads: Vec<(u32, i64, i64, IdxSize)> = parts.into_iter().flatten().collect();
    let mut spans: Vec<(i64, i64)> = threads.iter().map(|&(_, f, t, _)| (f, t)).collect();
    // A partition of the conversations takes the active periods of all of them.
    let own;
    let active: &[i64] = match &facts.active {
        Some(all) => all.as_slice(),
        None => {
            own = active_instants(opened, closed);
            &own
        }
    };
    let Snapshots {
        snapshots,
        quiet,
        spans,
    } = snapshots_within(&mut spans, active, facts.as_of, period, zone);
    let instants: Vec<i64> = snapshots.iter().map(|s| s.at).collect();
    let epoch = crate::time::epoch_date();

    let assignments = &facts.assignments;
    let a_key = walk::slice(assignments.column(CONVERSATION_KEY)?.u32()?)?;
    let a_at = walk::slice(assignments.column("assigned_at")?.i64()?)?;
    let customers = &facts.customer_messages;
    // Threads are in key order, as the customer messages and the assignments: one pass per
    // chunk of threads pairs them.
    let parts = walk::in_chunks(threads.len(), |range| {
        let mut out = Pairs::default();
        let Some(&(first_key, ..)) = threads.get(range.start) else {
            return Ok(out);
        };
        let mut from_row = customers.key.partition_point(|&k| k < first_key);
        let mut from_assignment = a_key.partition_point(|&k| k < first_key);
        for &(key, from, to, row) in &threads[range] {
            let wrote = &customers.at[walk::take(&customers.key, &mut from_row, key)];
            let assigned = walk::take(a_key, &mut from_assignment, key);
            let first = instants.partition_point(|&at| at < from);
            let end = instants.partition_point(|&at| at < to);
            for snapshot in &snapshots[first..end] {
                // The customer's last word at the snapshot (none yet: not in the cohort).
                let Some(last) = wrote[..wrote.partition_point(|&at| at <= snapshot.at)].last()
                else {
                    continue;
                };
                let then = assigned.start
                    + a_at[assigned.clone()].partition_point(|&at| at <= snapshot.at);
                out.key.push(key);
                out.s.push(snapshot.at);
                out.period
                    .push((snapshot.period_start - epoch).num_days() as i32);
                out.last.push(*last);
                out.then
                    .push((then > assigned.start).then(|| (then - 1) as IdxSize));
                out.row.push(row);
            }
        }
        Ok(out)
    })?;
    let mut all = Pairs::default();
    for part in parts {
        all.append(part);
    }
    let (frame, rows) = all.into_frame(assignments.column("lane")?)?;
    Ok((frame, rows, quiet, spans))
}

/// Every instant at which a conversation opened or closed, sorted, once each: the periods
/// holding one are those the window snapshots are taken in ([`snapshots_within`]).
fn active_instants(opened: &Int64Chunked, closed: &Int64Chunked) -> Vec<i64> {
    let mut active: Vec<i64> = opened.iter().chain(closed.iter()).flatten().collect();
    rayon::slice::ParallelSliceMut::par_sort_unstable(active.as_mut_slice());
    active.dedup();
    active
}
