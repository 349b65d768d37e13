//! The small rules every consumer of the facts shares, each with one owner: what a tier means
//! as an expression, the lane fallback, the three durations and "hours silent". The facts
//! plan, the metrics, their drill-downs and the SQL view all call these.

use anyhow::Result;
use polars::prelude::*;

use crate::config::{Config, Tier};
use crate::dataset::Dataset;
use crate::ingest::schema::Table;

/// A small frame mapping every lane of the data to its tier rank ([`Tier::rank`]), by the
/// configuration's names, patterns and default tier ([`Config::tier`]).
pub(super) fn lane_tiers(data: &Dataset, config: &Config) -> Result<LazyFrame> {
    let lanes = data
        .table(Table::Assignments)?
        .select([col("lane")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let names: Vec<&str> = lanes.column("lane")?.str()?.iter().flatten().collect();
    let ranks: Vec<i32> = names.iter().map(|l| config.tier(l).rank()).collect();
    Ok(df!("lane" => names, "tier" => ranks)?.lazy())
}

/// Whether a `tier` rank column is a human lane (L1–L3); [`Tier::is_human`] as an expression.
pub(super) fn is_human_tier(tier: Expr) -> Expr {
    tier.gt_eq(lit(Tier::L1.rank()))
}

/// Whether a `tier` rank column is a specialist lane (L2–L3); [`Tier::is_specialist`] as an
/// expression.
pub(super) fn is_specialist_tier(tier: Expr) -> Expr {
    tier.gt_eq(lit(Tier::L2.rank()))
}

/// The lane rule: the lane of the latest assignment, else `automation` when the bot has
/// spoken, else `unassigned`. The facts table applies it at `as_of`, the window snapshots at
/// each snapshot.
pub fn lane_or_fallback(latest_lane: Expr, bot_spoke: Expr) -> Expr {
    latest_lane.fill_null(
        when(bot_spoke.fill_null(lit(false)))
            .then(lit("automation"))
            .otherwise(lit("unassigned")),
    )
}

/// A duration between two Int64-ms columns, in seconds.
pub fn seconds_between(from: &str, to: &str) -> Expr {
    (col(to) - col(from)).cast(DataType::Float64) / lit(1000.0)
}

/// First response time in seconds (metric 1).
pub fn frt_seconds() -> Expr {
    seconds_between("first_customer_at", "first_reply_at")
}

/// Time to specialist in seconds, clamped at 0 when the specialist came before the
/// customer's first message (metric 2).
pub fn tts_seconds() -> Expr {
    seconds_between("first_customer_at", "specialist_at").clip_min(lit(0.0))
}

/// Resolution time in seconds (metric 8).
pub fn art_seconds() -> Expr {
    seconds_between("opened_at", "closed_at")
}

/// Milliseconds from the customer's last message to `at`, as Float64.
pub fn silence_ms(at: Expr) -> Expr {
    (at - col("last_customer_at")).cast(DataType::Float64)
}

/// Hours since the customer's last message at `at`, for a thread still open (null for closed
/// threads and threads the customer never wrote in): every "hours silent" column.
pub fn hours_silent(at: Expr) -> Expr {
    when(
        col("closed_at")
            .is_null()
            .and(col("last_customer_at").is_not_null()),
    )
    .then(silence_ms(at) / lit(crate::time::MS_PER_HOUR as f64))
    .otherwise(lit(NULL).cast(DataType::Float64))
}
