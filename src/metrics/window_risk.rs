//! 24-hour window risk, spec metric 3 and 3b.
//!
//! WhatsApp allows free-form replies only within 24 hours of the customer's last message, so
//! a thread the customer is waiting on is at risk long before the window closes.
//!
//! - **Snapshots:** one per period, at `s = min(period end, as_of)`, for every period from the
//!   one holding the earliest `opened_at` to the one holding `as_of`.
//! - **Cohort:** WhatsApp conversations open at `s` (`opened_at < s`, `closed_at` null or after
//!   `s`) with a customer message at or before `s`. The lane is the lane rule applied to the
//!   assignments at or before `s`.
//! - **Definition:** `window_risk_rate` is the share whose silence `s − last customer message`
//!   is over `window_risk_hours` (config, default 20 h; strictly greater);
//!   `window_expired` is the count (not a share) whose silence is over 24 h.
//! - **Nulls:** an open thread with no customer message yet (outbound, unanswered) is outside
//!   the cohort: there is no window to lose.

use anyhow::Result;
use polars::prelude::*;

use super::period::{hours_ms, snapshots};
use super::{
    ALL, Context, DRILL_COLUMNS, Dimension, DrillQuery, Family, MetricInfo, Unit, aggregate,
    empty_rows, epoch,
};
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};
use crate::time::MS_PER_HOUR;

const COHORT: &str = "open WhatsApp threads with a customer message, at each period's snapshot";

pub const FAMILY: Family = Family {
    metrics: &[
        MetricInfo {
            id: "window_risk_rate",
            definition: "share of open WhatsApp threads whose customer has waited more than the risk line (20 h) at the snapshot",
            cohort: COHORT,
            unit: Unit::Rate,
        },
        MetricInfo {
            id: "window_expired",
            definition: "number of open WhatsApp threads whose customer has waited more than 24 h at the snapshot",
            cohort: COHORT,
            unit: Unit::Count,
        },
    ],
    rows,
    drill,
};

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    let Some(threads) = open_threads(ctx, None)? else {
        return Ok(empty_rows());
    };
    let risk_line = hours_ms(ctx.config.window_risk_hours);
    Ok(aggregate(
        threads,
        ctx.options.by,
        vec![
            (
                "window_risk_rate",
                col("silence")
                    .gt(lit(risk_line))
                    .cast(DataType::Float64)
                    .mean(),
            ),
            (
                "window_expired",
                col("silence")
                    .gt(lit(EXPIRED_MS))
                    .cast(DataType::Float64)
                    .sum(),
            ),
        ],
    ))
}

/// Behind an alert: the threads silent over the line at the period's snapshot, longest
/// silence first; the lane is the lane at the snapshot and hours are counted to it.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(threads) = open_threads(ctx, Some(q.period_start))? else {
        return Ok(empty_drill());
    };
    let line = if q.metric == "window_expired" {
        EXPIRED_MS
    } else {
        hours_ms(ctx.config.window_risk_hours)
    };
    let mut threads = threads.filter(col("silence").gt(lit(line)));
    if q.group != ALL {
        threads = threads.filter(col("group").eq(lit(q.group.clone())));
    }
    Ok(threads
        .sort_by_exprs(
            [col("silence"), col("key")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .with_columns([
            col("lane_at_snapshot").alias("lane"),
            (col("silence") / lit(3_600_000.0)).alias("hours_silent"),
        ])
        .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>()))
}

const EXPIRED_MS: f64 = (24 * MS_PER_HOUR) as f64;

fn empty_drill() -> LazyFrame {
    df!(
        "conversation_id" => Vec::<String>::new(),
        "lane" => Vec::<String>::new(),
        "owner" => Vec::<String>::new(),
        "hours_silent" => Vec::<f64>::new(),
        "opened_at" => Vec::<i64>::new(),
    )
    .expect("a fixed schema")
    .lazy()
}

/// The cohort of every snapshot (or of the one of `only` period): one row per (thread,
/// snapshot) with `period_start`, `group`, `lane_at_snapshot` and `silence` (ms since the
/// customer's last message). `None` when there is no snapshot.
fn open_threads(ctx: &Context<'_>, only: Option<chrono::NaiveDate>) -> Result<Option<LazyFrame>> {
    let first = ctx
        .facts
        .clone()
        .select([col("opened_at").min()])
        .collect()?
        .column("opened_at")?
        .i64()?
        .get(0);
    let Some(first) = first else {
        return Ok(None);
    };
    let snaps: Vec<_> = snapshots(first, ctx.as_of, ctx.options.period, ctx.options.tz)
        .into_iter()
        .filter(|s| only.is_none_or(|p| p == s.period_start))
        .collect();
    let open_at = |s: i64| {
        col("channel")
            .eq(lit("whatsapp"))
            .and(col("opened_at").lt(lit(s)))
            .and(col("closed_at").is_null().or(col("closed_at").gt(lit(s))))
    };
    let cohorts: Vec<LazyFrame> = snaps
        .iter()
        .map(|snap| {
            let days = (snap.period_start - epoch()).num_days() as i32;
            ctx.facts.clone().filter(open_at(snap.at)).select([
                col("key"),
                col("conversation_id"),
                col("owner"),
                col("opened_at"),
                col("group"),
                col("first_bot_at"),
                lit(snap.at).alias("s"),
                lit(days).cast(DataType::Date).alias("period_start"),
            ])
        })
        .collect();
    if cohorts.is_empty() {
        return Ok(None);
    }
    let pairs = concat(cohorts, UnionArgs::default())?.cache();
    let pair_keys = pairs.clone().select([col("key"), col("s")]);
    let on = || [col("key"), col("s")];

    let last_customer = ctx
        .data
        .table(Table::Messages)?
        .filter(col("sender").eq(lit("customer")))
        .select([
            col(CONVERSATION_KEY).alias("key"),
            col("sent_at").cast(DataType::Int64).alias("at"),
        ])
        .join(
            pair_keys.clone(),
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("at").lt_eq(col("s")))
        .group_by(on())
        .agg([col("at").max().alias("last_customer_at")]);

    let lane_then = ctx
        .data
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

    let threads = pairs
        .join(last_customer, on(), on(), JoinArgs::new(JoinType::Inner))
        .join(lane_then, on(), on(), JoinArgs::new(JoinType::Left))
        .with_columns([
            col("lane_then")
                .fill_null(
                    when(col("first_bot_at").lt_eq(col("s")))
                        .then(lit("automation"))
                        .otherwise(lit("unassigned")),
                )
                .alias("lane_at_snapshot"),
            (col("s") - col("last_customer_at"))
                .cast(DataType::Float64)
                .alias("silence"),
        ]);
    let threads = if ctx.options.by == Dimension::Lane {
        threads.with_column(col("lane_at_snapshot").alias("group"))
    } else {
        threads
    };
    Ok(Some(threads))
}
