//! 48-hour repeat contact, spec metric 9.
//!
//! - **Definition:** share of closed conversations after which the customer came back within
//!   48 hours: a customer message in the same conversation in `(closed_at, closed_at + 48 h]`,
//!   or another conversation of the same customer with the same entry intent (two missing
//!   intents count as the same) opened in that window.
//! - **Cohort:** conversations closed in the period whose 48 hours have fully passed by
//!   `as_of` (`closed_at + 48 h <= as_of`); cohort time `closed_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** conversations closed less than 48 h before `as_of` are left out until they can
//!   be judged, rather than counted as not repeated.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "reopen_48h_rate",
        name: "Back within 48 hours",
        definition: "share of closed conversations with a repeat contact (same thread, or same customer and intent) within 48 h",
        cohort: "conversations closed in the period, at least 48 h before as_of",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.10)), Some(Condition::Above(0.20))),
        sql: Sql::Rows {
            from: "facts",
            filter: "repeat_48h IS NOT NULL",
            time: SqlTime::Instant("closed_at"),
            value: SqlValue::Share("repeat_48h"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![("reopen_48h_rate", share("repeat_48h"))],
    ))
}

fn cohort() -> Expr {
    col("repeat_48h").is_not_null()
}

fn time() -> Expr {
    col("closed_at")
}

/// Behind an alert: the conversations with a repeat contact.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        col("repeat_48h"),
        col("closed_at"),
        false,
    ))
}
