//! Specialist rate, spec metric 11.
//!
//! - **Definition:** share of conversations that reached a specialist lane (L2/L3) at all
//!   (`specialist_at` not null): how much work needs specialists. On an incident log this is
//!   the L1 → L2/L3 escalation rate that `escalation_rate` (bot → human only) cannot show.
//! - **Cohort:** conversations opened in the period; cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** none; no default thresholds.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "specialist_rate",
        name: "Conversations that reached a specialist",
        definition: "share of conversations that reached a specialist lane (L2/L3)",
        cohort: "conversations opened in the period",
        unit: Unit::Rate,
        alert: Alert::NONE,
        sql: Sql::Rows {
            from: "facts",
            filter: "TRUE",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("specialist_at IS NOT NULL"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn reached() -> Expr {
    col("specialist_at").is_not_null()
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        lit(true),
        col("opened_at"),
        vec![("specialist_rate", mean(reached()))],
    ))
}

/// Behind an alert: the conversations that reached a specialist, latest first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        lit(true),
        col("opened_at"),
        reached(),
        col("specialist_at"),
        false,
    ))
}
