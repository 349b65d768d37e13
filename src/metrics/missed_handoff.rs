//! Missed-handoff rate, governance check G4 (controls 6 and 10: the strike-3 rule, clear
//! escalation paths).
//!
//! - **Definition:** share of bot conversations that were due a human (`handoff_due_at`: the
//!   `strikes`-th trap signal, or the first customer message asking for a person) and were not
//!   escalated within `handoff_grace_s` of it (`missed_handoff`).
//! - **Cohort:** conversations with `handoff_due_at` in the period and a determined outcome;
//!   cohort time `handoff_due_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** a conversation never escalated whose grace is still running at `as_of` is
//!   undetermined and outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, Context, DrillQuery, Family, MetricInfo, MetricSet, Sql, Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "missed_handoff_rate",
        name: "Missed bot handoffs (strike 3)",
        definition: "share of bot conversations due a human (strike 3 or a request for a person) not escalated within the grace (120 s)",
        cohort: "conversations due a handoff in the period, with a determined outcome",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.0)), Some(Condition::Above(0.10))),
        sql: Sql::NotExported(super::GOVERNANCE_WALK_SQL),
    }],
    needs: &[],
    sql_tables: "",
    rows,
    drill,
};

fn cohort() -> Expr {
    col("handoff_due_at")
        .is_not_null()
        .and(col("missed_handoff").is_not_null())
}

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("handoff_due_at"),
        vec![("missed_handoff_rate", share("missed_handoff"))],
    ))
}

/// Behind an alert: the missed handoffs, never-escalated first, then by the delay past due.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let delay = col("escalated_at").fill_null(lit(i64::MAX)) - col("handoff_due_at");
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("handoff_due_at"),
        col("missed_handoff"),
        delay,
        false,
    ))
}
