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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, mean,
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
        sql: Sql::Rows {
            from: "brief_checks",
            filter: "EXISTS (SELECT 1 FROM handoffs)",
            time: SqlTime::Instant("entry_at"),
            value: SqlValue::Share("NOT brief_complete"),
        },
    }],
    needs: &[Table::Handoffs],
    sql_tables: &[ENTRY_TABLES, SQL_TABLES],
    rows,
    drill,
};

fn not_complete() -> Expr {
    col("brief").neq(lit("complete"))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
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
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.event_drill(
        ctx.entries.clone(),
        q,
        not_complete(),
        col("brief").eq(lit("missing")).cast(DataType::Int32),
        concat_str([col("entry_lane"), lit(": brief "), col("brief")], "", true),
    ))
}

/// Specialist entries (stays in a specialist lane, from the facts' `stays`) and their brief:
/// the latest handoff (time, then input order) within [entry − before, entry + after], with
/// its input row (`brief_row`). Read by the text metrics too.
pub const ENTRY_TABLES: &str = r#"entry_handoffs AS (
  SELECT h.conversation_id, {HANDOFF} AS at, h.source_row,
         {BRIEF_COMPLETE} AS complete
  FROM handoffs h
  WHERE {HANDOFF} <= (SELECT t FROM params)
),
entry_briefs AS (
  SELECT entry_row, complete, brief_row FROM (
    SELECT s.source_row AS entry_row, h.complete, h.source_row AS brief_row,
           ROW_NUMBER() OVER (PARTITION BY s.conversation_id, s.source_row ORDER BY h.at DESC, h.source_row DESC) AS from_last
    FROM stays s JOIN entry_handoffs h
      ON h.conversation_id = s.conversation_id
     AND h.at >= s.ts - {ENTRY_BRIEF_BEFORE_MS} AND h.at <= s.ts + {ENTRY_BRIEF_AFTER_MS}
    WHERE s.tier >= 2) x
  WHERE from_last = 1
)"#;

/// The entries with their brief's state.
const SQL_TABLES: &str = r#"brief_checks AS (
  SELECT f.*, s.ts AS entry_at, s.lane AS entry_lane, COALESCE(b.complete, FALSE) AS brief_complete
  FROM stays s
  JOIN facts f ON f.conversation_id = s.conversation_id
  LEFT JOIN entry_briefs b ON b.entry_row = s.source_row
  WHERE s.tier >= 2
)"#;
