//! Calls in the thread, whatsapp-2026.md A.5: C1 `call_rate`, C2 `missed_call_rate`, C3
//! `callback_median_s`.
//!
//! - **C1:** share of conversations that reached a specialist in the period (`specialist_at`)
//!   with at least one call (any direction, any status).
//! - **C2:** share of user-initiated calls placed in the period that nobody answered (missed,
//!   rejected or failed); calls still ringing or in progress at `as_of` are left out.
//! - **C3:** median time from an unanswered user call to its callback (a business call that
//!   was not `failed`, or a visible agent message, strictly after it), at the call's
//!   `placed_at`; calls not called back by `as_of` are not in it.
//! - **Nulls:** without a calls table none of the three has rows.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, empty_drill, empty_rows, mean, median,
};

pub const FAMILY: Family = Family {
    set: MetricSet::WhatsApp,
    metrics: &[
        MetricInfo {
            id: "call_rate",
            name: "Specialist conversations with a call",
            definition: "share of conversations that reached a specialist with at least one call in the thread",
            cohort: "conversations that reached a specialist in the period",
            unit: Unit::Rate,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "call_conversations",
                filter: "specialist_at IS NOT NULL",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::Share("has_call"),
            },
        },
        MetricInfo {
            id: "missed_call_rate",
            name: "Customer calls nobody answered",
            definition: "share of customer calls that were missed, rejected or failed (calls still ringing at as_of left out)",
            cohort: "user-initiated calls placed in the period, answered or not",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Above(0.10)), Some(Condition::Above(0.25))),
            sql: Sql::Rows {
                from: "call_checks",
                filter: "user_call AND unanswered IS NOT NULL",
                time: SqlTime::Instant("event_at"),
                value: SqlValue::Share("unanswered"),
            },
        },
        MetricInfo {
            id: "callback_median_s",
            name: "Time to call back (median)",
            definition: "median seconds from an unanswered customer call to the business calling or writing back",
            cohort: "unanswered customer calls placed in the period that were called back",
            unit: Unit::Seconds,
            alert: Alert::new(
                Some(Condition::Above(900.0)),
                Some(Condition::Above(3600.0)),
            ),
            sql: Sql::Rows {
                from: "call_checks",
                filter: "callback_s IS NOT NULL",
                time: SqlTime::Instant("event_at"),
                value: SqlValue::Median("callback_s"),
            },
        },
    ],
    needs: &[Table::Calls],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(calls) = ctx.calls.clone() else {
        return Ok(empty_rows());
    };
    let with_call = ctx.cohort_rows(
        col("specialist_at").is_not_null(),
        col("specialist_at"),
        vec![("call_rate", mean(col("has_call")))],
    );
    let missed = ctx.event_rows(
        calls
            .clone()
            .filter(col("user").and(col("unanswered").is_not_null())),
        vec![("missed_call_rate", mean(col("unanswered")))],
    );
    let callbacks = ctx.event_rows(
        calls.filter(col("callback_s").is_not_null()),
        vec![("callback_median_s", median(col("callback_s")))],
    );
    Ok(concat(
        [with_call, missed, callbacks],
        UnionArgs::default(),
    )?)
}

/// Behind an alert: C2 the unanswered calls, newest first; C3 the calls not called back (by
/// age), then the slowest callbacks. Never a customer id: the call id and its status.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(calls) = ctx.calls.clone() else {
        return Ok(empty_drill());
    };
    let detail = concat_str(
        [col("call_id"), lit(" ("), col("status"), lit(")")],
        "",
        true,
    );
    Ok(match q.metric.id() {
        "call_rate" => ctx.drill_rows(
            q,
            col("specialist_at").is_not_null(),
            col("specialist_at"),
            col("has_call"),
            col("specialist_at"),
            false,
        ),
        "missed_call_rate" => ctx.event_drill(
            calls,
            q,
            col("user").and(col("unanswered").eq(lit(true))),
            col("at"),
            detail,
        ),
        _ => ctx.event_drill(
            calls,
            q,
            col("user").and(col("unanswered").eq(lit(true))),
            // Not called back: first, oldest first; then the slowest callbacks.
            col("callback_s")
                .fill_null(lit(1e15) + (lit(ctx.as_of) - col("at")).cast(DataType::Float64)),
            detail,
        ),
    })
}

/// The calls at as_of (whatsapp-2026.md A.1's as_of steps), the conversations with a call, and
/// each unanswered user call's callback: the earliest non-failed business call or visible agent
/// message strictly after it.
const SQL_TABLES: &str = r#"call_conversations AS (
  SELECT f.*, EXISTS (SELECT 1 FROM call_facts k WHERE k.conversation_id = f.conversation_id) AS has_call
  FROM facts f
  WHERE EXISTS (SELECT 1 FROM call_facts)
),
call_callbacks AS (
  SELECT k.call_id, min(x.at) AS callback_at FROM call_facts k JOIN (
    SELECT conversation_id, placed_at AS at FROM call_facts
    WHERE direction = 'business_initiated' AND (status IS NULL OR status <> 'failed')
    UNION ALL
    SELECT conversation_id, ts AS at FROM msg
    WHERE sender = 'agent' AND (kind IS NULL OR kind <> 'internal_note')) x
    ON x.conversation_id = k.conversation_id AND x.at > k.placed_at
  WHERE k.direction = 'user_initiated' AND k.status IN ('missed', 'rejected', 'failed')
  GROUP BY k.call_id
),
call_checks AS (
  SELECT f.*, k.placed_at AS event_at,
         k.direction = 'user_initiated' AS user_call,
         CASE WHEN k.status IS NULL THEN NULL ELSE k.status <> 'answered' END AS unanswered,
         (b.callback_at - k.placed_at) / 1000E0 AS callback_s
  FROM call_facts k
  JOIN facts f ON f.conversation_id = k.conversation_id
  LEFT JOIN call_callbacks b ON b.call_id = k.call_id
)"#;
