//! Window-violation sends, governance check G8 (control 8: 24-hour-window governance).
//!
//! - **Definition:** the number of failed sends with error `131047`: a free-form message sent
//!   after the customer's 24-hour window had closed (WhatsApp Cloud API).
//! - **Cohort:** rows of the optional `send_failures` table in the period, by `failed_at`; a
//!   failure's group is its conversation's. `n` is every failure in the period.
//! - **Unit:** a count (not a share).
//! - **Nulls:** without a send_failures table: no rows.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, empty_drill, empty_rows, sum,
};

/// The WhatsApp Cloud API's error for a free-form send outside the 24-hour window.
pub use crate::facts::OUTSIDE_WINDOW;

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "window_violation_sends",
        name: "Sends refused: window closed",
        definition: "number of sends that failed because the 24-hour window had closed (error 131047)",
        cohort: "failed sends in the period",
        unit: Unit::Count,
        alert: Alert::new(Some(Condition::Above(0.0)), None),
        sql: Sql::Rows {
            from: "failure_checks",
            filter: "TRUE",
            time: SqlTime::Instant("event_at"),
            value: SqlValue::Sum("violation"),
        },
    }],
    needs: &[Table::SendFailures],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn violation() -> Expr {
    col("error_code")
        .eq(lit(OUTSIDE_WINDOW))
        .fill_null(lit(false))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(failures) = ctx.failures.clone() else {
        return Ok(empty_rows());
    };
    Ok(ctx.event_rows(failures, vec![("window_violation_sends", sum(violation()))]))
}

/// Behind an alert: the conversations with window violations, most recent first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(failures) = ctx.failures.clone() else {
        return Ok(empty_drill());
    };
    // How long after the customer's latest touch (message or counted call) the send failed.
    let detail = when(col("since_touch_h").is_null())
        .then(lit(format!("{OUTSIDE_WINDOW}, no customer touch before")))
        .otherwise(concat_str(
            [
                lit(format!("{OUTSIDE_WINDOW}, ")),
                col("since_touch_h")
                    .round(1, RoundMode::HalfAwayFromZero)
                    .cast(DataType::String),
                lit(" h after the customer's last touch"),
            ],
            "",
            true,
        ));
    Ok(ctx.event_drill(failures, q, violation(), col("at"), detail))
}

/// The send failures with `violation` (error 131047, the window had closed).
const SQL_TABLES: &str = r#"failure_checks AS (
  SELECT f.*, {FAILED} AS event_at,
         CASE WHEN x.error_code = {OUTSIDE_WINDOW} THEN 1E0 ELSE 0E0 END AS violation
  FROM send_failures x
  JOIN facts f ON f.conversation_id = x.conversation_id
  WHERE {FAILED} <= (SELECT t FROM params)
)"#;
