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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
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
        sql: Sql::Rows {
            from: "missed_handoffs",
            filter: "TRUE",
            time: SqlTime::Instant("handoff_due_at"),
            value: SqlValue::Share("missed"),
        },
    }],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("handoff_due_at")
        .is_not_null()
        .and(col("missed_handoff").is_not_null())
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("handoff_due_at"),
        vec![("missed_handoff_rate", share("missed_handoff"))],
    ))
}

/// Behind an alert: the missed handoffs, never-escalated first, then by the delay past due.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
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

/// When the bot owed a handoff: the strikes-th trap signal or the first request for a person
/// before the escalation, whichever came first; then whether the escalation came within the
/// grace (undetermined rows, still within it at as_of, are left out).
const SQL_TABLES: &str = r#"strike_facts AS (
  SELECT conversation_id, ts AS strike_at FROM (
    SELECT s.conversation_id, s.ts,
           ROW_NUMBER() OVER (PARTITION BY s.conversation_id ORDER BY s.ts) AS k
    FROM signals s LEFT JOIN routing_facts r USING (conversation_id)
    WHERE r.escalated_at IS NULL OR s.ts < r.escalated_at) x
  WHERE k = {STRIKES}
),
ask_facts AS (
  SELECT m.conversation_id, min(m.ts) AS asked_at
  FROM msg m LEFT JOIN routing_facts r USING (conversation_id)
  WHERE m.sender = 'customer' AND {ASKS_PERSON} AND (r.escalated_at IS NULL OR m.ts < r.escalated_at)
  GROUP BY m.conversation_id
),
handoff_dues AS (
  SELECT f.*,
         CASE WHEN s.strike_at IS NULL THEN a.asked_at
              WHEN a.asked_at IS NULL THEN s.strike_at
              WHEN s.strike_at <= a.asked_at THEN s.strike_at
              ELSE a.asked_at END AS handoff_due_at
  FROM facts f
  LEFT JOIN strike_facts s USING (conversation_id)
  LEFT JOIN ask_facts a USING (conversation_id)
  WHERE f.bot_handled
),
missed_handoffs AS (
  SELECT d.*,
         CASE WHEN escalated_at IS NOT NULL THEN escalated_at - handoff_due_at > {GRACE_MS}
              ELSE TRUE END AS missed
  FROM handoff_dues d
  WHERE handoff_due_at IS NOT NULL
    AND (escalated_at IS NOT NULL OR handoff_due_at + {GRACE_MS} <= (SELECT t FROM params))
)"#;
