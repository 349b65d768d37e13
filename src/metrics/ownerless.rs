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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
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
        sql: Sql::Rows {
            from: "ownerless_checks",
            filter: "first_human_at IS NOT NULL",
            time: SqlTime::Instant("first_human_at"),
            value: SqlValue::Share("ownerless_breach"),
        },
    }],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("first_human_at").is_not_null()
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("first_human_at"),
        vec![("ownerless_rate", share("ownerless_breach"))],
    ))
}

/// Behind an alert: the breaching conversations, longest spell first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("first_human_at"),
        col("ownerless_breach"),
        col("ownerless_max_s"),
        false,
    ))
}

/// The length of each ownerless spell (the facts' `spells`) against its first lane's limit.
const SQL_TABLES: &str = r#"spell_lengths AS (
  SELECT conversation_id, spell_lane,
         greatest(CASE WHEN next_ts IS NULL OR next_ts > end_ts THEN end_ts ELSE next_ts END - start_ts, 0) AS length
  FROM spells
),
ownerless_facts AS (
  SELECT conversation_id, max(length) AS ownerless_max,
         max(CASE WHEN length > {OWNERLESS_LIMIT} THEN 1 ELSE 0 END) = 1 AS breach
  FROM spell_lengths GROUP BY conversation_id
),
ownerless_checks AS (
  SELECT f.*, o.ownerless_max, COALESCE(o.breach, FALSE) AS ownerless_breach
  FROM facts f LEFT JOIN ownerless_facts o USING (conversation_id)
)"#;
