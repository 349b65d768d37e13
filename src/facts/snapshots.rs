//! Window snapshots: the facts of open WhatsApp threads at each period's snapshot instant
//! (spec metric 3), one row per (conversation, snapshot).
//!
//! The rules owned here, and nowhere else:
//! - a thread is in the cohort at `s` when its channel is `whatsapp`, `opened_at < s`,
//!   `closed_at` is null or after `s`, and the customer wrote at or before `s`;
//! - `last_customer_at` at `s`: the customer's latest message at or before `s`;
//! - the lane at `s`: the lane rule of the facts table ([`super::lane_or_fallback`]) applied to
//!   the assignments at or before `s`.
//!
//! Which snapshots exist, and the customer's last word at each, are decided in Rust from the
//! facts (binary searches per thread over the sorted snapshot instants and over its customer
//! messages): polars would need range joins for them, and the number of (thread, snapshot)
//! pairs stays small because threads close.

use anyhow::{Context as _, Result};
use polars::prelude::*;

use super::{Facts, lane_or_fallback};
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};
use crate::period::{Period, Zone, snapshots_within};

/// One row per thread open at a snapshot: `key`, `period_start` (Date), `s` (the snapshot,
/// Int64 ms), `last_customer_at` (at `s`), `lane_at_snapshot`, `silence` (ms, as Float64),
/// and the facts' `conversation_id`, `owner`, `opened_at`, `channel`, `segment` and `intent`.
pub fn window(data: &Dataset, facts: &Facts, period: Period, zone: Zone) -> Result<LazyFrame> {
    let pairs = pairs(facts, period, zone)?.lazy().cache();
    let pair_keys = pairs.clone().select([col("key"), col("s")]);
    let on = || [col("key"), col("s")];

    let lane_then = data
        .table(Table::Assignments)?
        .select([
            col(CONVERSATION_KEY).alias("key"),
            col("assigned_at").cast(DataType::Int64).alias("at"),
            col("lane"),
            col(SOURCE_ROW),
        ])
        .join(
            pair_keys,
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("at").lt_eq(col("s")))
        .group_by(on())
        .agg([col("lane")
            .sort_by([col("at"), col(SOURCE_ROW)], SortMultipleOptions::default())
            .last()
            .alias("lane_then")]);

    let conversation = facts.frame.clone().lazy().select([
        col("key"),
        col("conversation_id"),
        col("owner"),
        col("opened_at"),
        col("channel"),
        col("segment"),
        col("intent"),
        col("first_bot_at"),
    ]);
    Ok(pairs
        .join(
            conversation,
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(lane_then, on(), on(), JoinArgs::new(JoinType::Left))
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
        }))
}

/// The (thread, snapshot) pairs of the cohort: `key` (UInt32), `s` (Int64 ms), `period_start`
/// (Date) and `last_customer_at` (Int64 ms), built from typed vectors so that every column has one type whatever
/// the dates (a literal per snapshot would type 1970's small instants as Int32).
fn pairs(facts: &Facts, period: Period, zone: Zone) -> Result<DataFrame> {
    let frame = &facts.frame;
    let keys = frame.column("key")?.u32()?;
    let channels = frame.column("channel")?.str()?;
    let opened = frame.column("opened_at")?.i64()?;
    let closed = frame.column("closed_at")?.i64()?;
    let first_customer = frame.column("first_customer_at")?.i64()?;

    // Each thread's span [from, to): snapshots s with s > opened_at, s >= its first customer
    // message, and s < closed_at (open threads: up to as_of).
    let mut threads: Vec<(u32, i64, i64)> = Vec::new();
    let rows = keys
        .iter()
        .zip(channels.iter())
        .zip(opened.iter())
        .zip(first_customer.iter())
        .zip(closed.iter());
    for ((((key, channel), opened), first), closed) in rows {
        let (Some(key), Some("whatsapp"), Some(opened), Some(first)) =
            (key, channel, opened, first)
        else {
            continue;
        };
        let from = opened.saturating_add(1).max(first);
        let to = closed.unwrap_or(i64::MAX);
        if from < to {
            threads.push((key, from, to));
        }
    }
    let mut spans: Vec<(i64, i64)> = threads.iter().map(|&(_, f, t)| (f, t)).collect();
    let snapshots = snapshots_within(&mut spans, facts.as_of, period, zone)
        .context("choosing the window-risk snapshots")?;
    let instants: Vec<i64> = snapshots.iter().map(|s| s.at).collect();
    let epoch = crate::time::epoch_date();

    let mut key_col: Vec<u32> = Vec::new();
    let mut s_col: Vec<i64> = Vec::new();
    let mut period_col: Vec<i32> = Vec::new();
    let mut last_col: Vec<i64> = Vec::new();
    // Threads are in key order, as the customer messages: one pass pairs them.
    let customers = &facts.customer_messages;
    let mut from_row = 0;
    for (key, from, to) in threads {
        let wrote = &customers.at[super::walk::take(&customers.key, &mut from_row, key)];
        let first = instants.partition_point(|&at| at < from);
        let end = instants.partition_point(|&at| at < to);
        for snapshot in &snapshots[first..end] {
            // The customer's last word at the snapshot (none yet: not in the cohort).
            let Some(last) = wrote[..wrote.partition_point(|&at| at <= snapshot.at)].last() else {
                continue;
            };
            key_col.push(key);
            s_col.push(snapshot.at);
            period_col.push((snapshot.period_start - epoch).num_days() as i32);
            last_col.push(*last);
        }
    }
    Ok(df!(
        "key" => key_col,
        "s" => s_col,
        "period_start" => period_col,
        "last_customer_at" => last_col,
    )?
    .lazy()
    .with_column(col("period_start").cast(DataType::Date))
    .collect()?)
}
