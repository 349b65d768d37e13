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
use super::{Context, Dimension, Family, MetricInfo, Unit, aggregate, empty_rows};
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
};

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    let first = ctx
        .facts
        .clone()
        .select([col("opened_at").min()])
        .collect()?
        .column("opened_at")?
        .i64()?
        .get(0);
    let Some(first) = first else {
        return Ok(empty_rows());
    };
    let snaps = snapshots(first, ctx.as_of, ctx.options.period, ctx.options.tz);
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let open_at = |s: i64| {
        col("channel")
            .eq(lit("whatsapp"))
            .and(col("opened_at").lt(lit(s)))
            .and(col("closed_at").is_null().or(col("closed_at").gt(lit(s))))
    };
    let cohorts: Vec<LazyFrame> = snaps
        .iter()
        .map(|snap| {
            let days = (snap.period_start - epoch).num_days() as i32;
            ctx.facts.clone().filter(open_at(snap.at)).select([
                col("key"),
                col("group"),
                col("first_bot_at"),
                lit(snap.at).alias("s"),
                lit(days).cast(DataType::Date).alias("period_start"),
            ])
        })
        .collect();
    if cohorts.is_empty() {
        return Ok(empty_rows());
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

    let base = pairs
        .join(last_customer, on(), on(), JoinArgs::new(JoinType::Inner))
        .join(lane_then, on(), on(), JoinArgs::new(JoinType::Left));
    let base = if ctx.options.by == Dimension::Lane {
        base.with_column(
            col("lane_then")
                .fill_null(
                    when(col("first_bot_at").lt_eq(col("s")))
                        .then(lit("automation"))
                        .otherwise(lit("unassigned")),
                )
                .alias("group"),
        )
    } else {
        base
    };
    let silence = (col("s") - col("last_customer_at")).cast(DataType::Float64);
    let risk_line = hours_ms(ctx.config.window_risk_hours);
    Ok(aggregate(
        base,
        ctx.options.by,
        vec![
            (
                "window_risk_rate",
                silence
                    .clone()
                    .gt(lit(risk_line))
                    .cast(DataType::Float64)
                    .mean(),
            ),
            (
                "window_expired",
                silence
                    .gt(lit((24 * MS_PER_HOUR) as f64))
                    .cast(DataType::Float64)
                    .sum(),
            ),
        ],
    ))
}
