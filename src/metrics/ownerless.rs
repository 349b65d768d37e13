//! Ownerless rate, governance check G2 (controls 1–2: one active owner, claim rules).
//!
//! - **Definition:** share of conversations with an ownerless spell (consecutive human-lane
//!   queue rows with no assignee) longer than the limit of the lane the spell started in
//!   (`ownerless_max_s`, per lane in `[governance.lanes]`).
//! - **Cohort:** conversations whose first human-lane assignment (`first_human_at`) is in the
//!   period; cohort time `first_human_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** a conversation that reached a human lane with no spell is in the cohort, not
//!   in breach.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, Context, DrillQuery, Family, MetricInfo, MetricSet, Sql, Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "ownerless_rate",
        name: "Left unclaimed in a queue",
        definition: "share of conversations left unclaimed in a human-lane queue longer than the lane's limit (30 min)",
        cohort: "conversations whose first human-lane assignment is in the period",
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
    col("first_human_at").is_not_null()
}

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("first_human_at"),
        vec![("ownerless_rate", share("ownerless_breach"))],
    ))
}

/// Behind an alert: the breaching conversations, longest spell first.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("first_human_at"),
        col("ownerless_breach"),
        col("ownerless_max_s"),
        false,
    ))
}
