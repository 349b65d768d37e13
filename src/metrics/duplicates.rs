//! Duplicate rate, governance check G1 (control 3: duplicate detection at intake).
//!
//! - **Definition:** share of conversations opened while an earlier conversation of the same
//!   customer and channel (and intent, with `duplicate_match = "customer_intent"`) was still
//!   open (`duplicate_of` not null).
//! - **Cohort:** conversations opened in the period; cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** none: every conversation is in the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "duplicate_rate",
        name: "Duplicate conversations",
        definition: "share of conversations opened while the same customer already had one open on the channel",
        cohort: "conversations opened in the period",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.01)), Some(Condition::Above(0.05))),
        sql: Sql::Rows {
            from: "duplicate_checks",
            filter: "TRUE",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("duplicate"),
        },
    }],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn duplicate() -> Expr {
    col("duplicate_of").is_not_null()
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        lit(true),
        col("opened_at"),
        vec![("duplicate_rate", mean(duplicate()))],
    ))
}

/// Behind an alert: the duplicates, longest-open first (the time from opening to the close,
/// or to as_of while open).
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let open_for = col("closed_at").fill_null(lit(ctx.as_of)) - col("opened_at");
    Ok(ctx.drill_rows(q, lit(true), col("opened_at"), duplicate(), open_for, false))
}

/// Each conversation with `duplicate`: it has a `duplicate_of` (the facts' `duplicate_links`).
const SQL_TABLES: &str = r#"duplicate_checks AS (
  SELECT f.*, d.conversation_id IS NOT NULL AS duplicate
  FROM facts f LEFT JOIN duplicate_links d USING (conversation_id)
)"#;
