//! Silent-stall rate, governance check G6 (controls 7–8: ageing alerts, no silent stalls).
//!
//! - **Definition:** share of agent-owned conversations that sat with their owner longer than
//!   the lane's `stall_after_s` (4 h) with no visible agent message and no assignment row
//!   (`stalled`; internal notes and bot messages do not reset the clock).
//! - **Cohort:** conversations opened in the period that were ever agent-owned
//!   (`stall_max_s` not null); cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** conversations never owned by an agent are outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, Context, DrillQuery, Family, MetricInfo, MetricSet, Sql, Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "silent_stall_rate",
        name: "Silent stalls",
        definition: "share of agent-owned conversations left longer than the lane's stall limit (4 h) with no agent message or routing",
        cohort: "conversations opened in the period that an agent owned",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.05)), Some(Condition::Above(0.15))),
        sql: Sql::NotExported(super::GOVERNANCE_WALK_SQL),
    }],
    needs: &[],
    sql_tables: "",
    rows,
    drill,
};

fn cohort() -> Expr {
    col("stall_max_s").is_not_null()
}

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("opened_at"),
        vec![("silent_stall_rate", share("stalled"))],
    ))
}

/// Behind an alert: the stalled conversations, longest stall first.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("opened_at"),
        col("stalled"),
        col("stall_max_s"),
        false,
    ))
}
