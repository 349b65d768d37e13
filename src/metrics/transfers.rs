//! Transfers per resolution, spec metric 7.
//!
//! - **Definition:** mean number of owner changes per resolved conversation: the non-null
//!   assignees in order, consecutive repeats collapsed, minus one (a claim by the same agent
//!   again is not a change; a queue step with no assignee is not an owner).
//! - **Cohort:** conversations closed in the period; cohort time `closed_at`.
//! - **Unit:** owner changes per conversation.
//! - **Nulls:** a conversation with no assignee has 0 owner changes.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "transfers_per_resolution",
        name: "Transfers per resolution",
        definition: "mean owner changes of the conversations closed in the period",
        cohort: "conversations closed in the period",
        unit: Unit::PerConversation,
        alert: Alert::new(Some(Condition::Above(1.5)), Some(Condition::Above(3.0))),
        sql: Sql::Rows {
            from: "facts",
            filter: "closed_at IS NOT NULL",
            time: SqlTime::Instant("closed_at"),
            value: SqlValue::Mean("CAST(owner_changes AS DOUBLE)"),
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
        vec![("transfers_per_resolution", mean(col("owner_changes")))],
    ))
}

fn cohort() -> Expr {
    col("closed_at").is_not_null()
}

fn time() -> Expr {
    col("closed_at")
}

/// Behind an alert: the conversations that changed hands most.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        col("owner_changes").gt(lit(0u32)),
        col("owner_changes"),
        false,
    ))
}
