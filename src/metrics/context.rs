//! Handoff context completeness, spec metric 10.
//!
//! - **Definition:** the brief of a conversation is its latest handoff row written no later
//!   than 60 s after the first specialist assignment (a brief written before the assignment
//!   counts). `context_completeness_rate` is the share of conversations whose brief has the
//!   customer's intent, the attempted steps and the current status; `context_score_mean` is the
//!   mean share of the brief's five fields that are filled in (0 without a brief).
//! - **Cohort:** conversations whose `specialist_at` falls in the period; cohort time
//!   `specialist_at`.
//! - **Unit:** fraction 0–1 for both.
//! - **Nulls:** a blank field counts as missing; no brief scores 0 and is incomplete.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, mean, share,
};

const COHORT: &str = "first specialist assignment in the period";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "context_completeness_rate",
            name: "Handoffs with a complete brief",
            definition: "share of specialist handoffs whose brief states intent, attempted steps and status",
            cohort: COHORT,
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Below(0.95)), Some(Condition::Below(0.80))),
            sql: Sql::Rows {
                from: "facts",
                filter: "specialist_at IS NOT NULL AND EXISTS (SELECT 1 FROM handoffs)",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::Share("context_complete"),
            },
        },
        MetricInfo {
            id: "context_score_mean",
            name: "Brief score (mean)",
            definition: "mean share of the brief's five fields filled in (0 without a brief)",
            cohort: COHORT,
            unit: Unit::Rate,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "specialist_at IS NOT NULL AND EXISTS (SELECT 1 FROM handoffs)",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::Mean("context_score"),
            },
        },
    ],
    needs: &[Table::Handoffs],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    // Without a handoffs table there is nothing to measure: no rows, not 0 %.
    if !ctx.has_briefs {
        return Ok(super::empty_rows());
    }
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![
            ("context_completeness_rate", share("context_complete")),
            ("context_score_mean", mean(col("context_score"))),
        ],
    ))
}

fn cohort() -> Expr {
    col("specialist_at").is_not_null()
}

fn time() -> Expr {
    col("specialist_at")
}

/// Behind an alert: the handoffs without a complete brief, weakest brief first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        col("context_complete").not(),
        col("context_score"),
        true,
    ))
}
