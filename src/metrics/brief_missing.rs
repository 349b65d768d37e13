//! Brief-missing rate, governance check G7 (control 5: the standard handoff brief).
//!
//! - **Definition:** share of specialist entries (each stay in an L2/L3 lane) whose brief is
//!   not complete: the latest handoff within [entry − `brief_before_s`, entry +
//!   `brief_after_s`] is missing, or lacks intent, attempted steps or current status.
//! - **Cohort:** specialist entries (not conversations) in the period, by entry time; an
//!   entry's group is its conversation's.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** none: every entry is complete, incomplete or missing.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, Context, DrillQuery, Family, MetricInfo, MetricSet, Sql, Table, Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "brief_missing_rate",
        name: "Specialist entries without a complete brief",
        definition: "share of specialist-lane entries without a complete handoff brief (10 min before to 1 min after)",
        cohort: "specialist entries in the period",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.05)), Some(Condition::Above(0.20))),
        sql: Sql::NotExported(super::GOVERNANCE_WALK_SQL),
    }],
    needs: &[Table::Handoffs],
    sql_tables: "",
    rows,
    drill,
};

fn not_complete() -> Expr {
    col("brief").neq(lit("complete"))
}

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    // Without a handoffs table there is nothing to measure: no rows, not 0 %.
    if !ctx.has_briefs {
        return Ok(super::empty_rows());
    }
    Ok(ctx.event_rows(
        ctx.entries.clone(),
        vec![("brief_missing_rate", mean(not_complete()))],
    ))
}

/// Behind an alert: entries with a missing brief before those with an incomplete one, with the
/// lane entered.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.event_drill(
        ctx.entries.clone(),
        q,
        not_complete(),
        col("brief").eq(lit("missing")).cast(DataType::Int32),
        concat_str([col("entry_lane"), lit(": brief "), col("brief")], "", true),
    ))
}
