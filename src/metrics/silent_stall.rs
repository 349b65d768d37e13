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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
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
        sql: Sql::Rows {
            from: "stall_checks",
            filter: "stall_max IS NOT NULL",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("stalled"),
        },
    }],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("stall_max_s").is_not_null()
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("opened_at"),
        vec![("silent_stall_rate", share("stalled"))],
    ))
}

/// Behind an alert: the stalled conversations, longest stall first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("opened_at"),
        col("stalled"),
        col("stall_max_s"),
        false,
    ))
}

/// Stall intervals: every assignment row and visible agent message up to the end (the close,
/// else as_of) opens an interval to the next one; an interval is owned when the assignment
/// current at its start (every row at that instant counted) is a human lane with an assignee.
const SQL_TABLES: &str = r#"stall_events AS (
  SELECT DISTINCT conversation_id, ts FROM (
    SELECT conversation_id, ts FROM routing
    UNION ALL
    SELECT conversation_id, ts FROM msg WHERE sender = 'agent' AND (kind IS NULL OR kind <> 'internal_note')
  ) e
),
stall_timeline AS (
  SELECT e.conversation_id, e.ts,
         LEAD(e.ts) OVER (PARTITION BY e.conversation_id ORDER BY e.ts) AS next_ts,
         COALESCE(c.closed_at, (SELECT t FROM params)) AS end_ts
  FROM stall_events e JOIN conv c USING (conversation_id)
  WHERE e.ts <= COALESCE(c.closed_at, (SELECT t FROM params))
),
stall_intervals AS (
  SELECT conversation_id, lane, length FROM (
    SELECT s.conversation_id, a.lane, a.tier, a.assignee_id,
           COALESCE(s.next_ts, s.end_ts) - s.ts AS length,
           ROW_NUMBER() OVER (PARTITION BY s.conversation_id, s.ts ORDER BY a.ts DESC, a.source_row DESC) AS from_last
    FROM stall_timeline s JOIN routing a ON a.conversation_id = s.conversation_id AND a.ts <= s.ts
    WHERE s.ts < s.end_ts) x
  WHERE from_last = 1 AND tier >= 1 AND assignee_id IS NOT NULL
),
stall_facts AS (
  SELECT conversation_id, max(length) AS stall_max,
         max(CASE WHEN length > {STALL_LIMIT} THEN 1 ELSE 0 END) = 1 AS stalled
  FROM stall_intervals GROUP BY conversation_id
),
stall_checks AS (
  SELECT f.*, s.stall_max, COALESCE(s.stalled, FALSE) AS stalled
  FROM facts f LEFT JOIN stall_facts s USING (conversation_id)
)"#;
