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

use super::period::hours_ms;
use super::{
    ALL, Context, DRILL_COLUMNS, DrillQuery, Family, MetricInfo, MetricSet, Unit, aggregate, epoch,
    mean, sum,
};
use crate::time::MS_PER_HOUR;

const COHORT: &str = "open WhatsApp threads with a customer message, at each period's snapshot";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
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
    let risk_line = hours_ms(ctx.config.window_risk_hours);
    // The lane at each snapshot, not the conversation's: groups by name.
    Ok(aggregate(
        ctx.window.clone(),
        ctx.options.by,
        None,
        vec![
            ("window_risk_rate", mean(col("silence").gt(lit(risk_line)))),
            ("window_expired", sum(col("silence").gt(lit(EXPIRED_MS)))),
        ],
    ))
}

/// Behind an alert: the threads silent over the line at the period's snapshot, longest
/// silence first; the lane is the lane at the snapshot and hours are counted to it.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let line = if q.metric == "window_expired" {
        EXPIRED_MS
    } else {
        hours_ms(ctx.config.window_risk_hours)
    };
    let days = (q.period_start - epoch()).num_days() as i32;
    let mut threads = ctx.window.clone().filter(
        col("period_start")
            .cast(DataType::Int32)
            .eq(lit(days))
            .and(col("silence").gt(lit(line))),
    );
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
            (col("silence") / lit(MS_PER_HOUR as f64)).alias("hours_silent"),
            lit(NULL).cast(DataType::String).alias("detail"),
        ])
        .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>()))
}

const EXPIRED_MS: f64 = (24 * MS_PER_HOUR) as f64;
