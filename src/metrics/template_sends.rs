//! Blocked template sends, governance check G5 (control 9: template reliability).
//!
//! - **Definition:** the number of template sends (messages of kind `template` from the bot or
//!   an agent with a `template_name`) whose template's status at send time (the latest status
//!   row with `changed_at <= sent_at`) is one of `blocked_template_statuses`; a template with
//!   no status row is `unknown`, not blocked.
//! - **Cohort:** template sends in the period, by `sent_at`; a send's group is its
//!   conversation's. `n` is the number of sends.
//! - **Unit:** a count (not a share).
//! - **Nulls:** without a templates table the data has no status history: no rows, and the
//!   report says so.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, empty_drill, empty_rows, sum,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "template_blocked_sends",
        name: "Sends of blocked templates",
        definition: "number of template sends whose template was rejected, paused, disabled or pending at send time",
        cohort: "template sends in the period",
        unit: Unit::Count,
        alert: Alert::new(None, Some(Condition::Above(0.0))),
        sql: Sql::Rows {
            from: "template_checks",
            filter: "TRUE",
            time: SqlTime::Instant("event_at"),
            value: SqlValue::Sum("blocked"),
        },
    }],
    needs: &[Table::Templates],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(sends) = ctx.sends.clone() else {
        return Ok(empty_rows());
    };
    Ok(ctx.event_rows(sends, vec![("template_blocked_sends", sum(col("blocked")))]))
}

/// Behind an alert: the conversations with blocked sends, most recent first, with the
/// template and its status.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(sends) = ctx.sends.clone() else {
        return Ok(empty_drill());
    };
    Ok(ctx.event_drill(
        sends,
        q,
        col("blocked"),
        col("at"),
        concat_str(
            [col("template_name"), lit(" ("), col("status"), lit(")")],
            "",
            true,
        ),
    ))
}

/// The template sends with `blocked`: the template's status at send time is the latest row with
/// `changed_at <= sent_at` (ties to the later row; `unknown` without one). Without a templates
/// table (or an empty one) there are no rows, as in `l2lens metrics`.
const SQL_TABLES: &str = r#"template_sends AS (
  SELECT m.conversation_id, {SENT} AS at, m.template_name, m.source_row AS send_row
  FROM messages m
  WHERE m.kind = 'template' AND m.sender IN ('bot', 'agent') AND m.template_name IS NOT NULL
    AND {SENT} <= (SELECT t FROM params)
),
template_status AS (
  SELECT send_row, status FROM (
    SELECT s.send_row, h.status,
           ROW_NUMBER() OVER (PARTITION BY s.send_row ORDER BY {CHANGED} DESC, h.source_row DESC) AS from_last
    FROM template_sends s JOIN templates h
      ON h.template_name = s.template_name AND {CHANGED} <= s.at) x
  WHERE from_last = 1
),
template_checks AS (
  SELECT f.*, s.at AS event_at,
         CASE WHEN COALESCE(t.status, 'unknown') IN ({BLOCKED}) THEN 1E0 ELSE 0E0 END AS blocked
  FROM template_sends s
  JOIN facts f ON f.conversation_id = s.conversation_id
  LEFT JOIN template_status t ON t.send_row = s.send_row
  WHERE EXISTS (SELECT 1 FROM templates)
)"#;
