//! Bot → human escalation rate, spec metric 4.
//!
//! - **Definition:** share of bot-handled conversations with an assignment into a human lane
//!   (L1–L3) at or after the bot's first message.
//! - **Cohort:** bot-handled conversations (a bot message exists) opened in the period; cohort
//!   time `opened_at`.
//! - **Unit:** fraction 0–1. 5–10 % is typical; 0 % means the bot never lets anyone through.
//! - **Nulls:** conversations the bot never touched are outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
};

/// A healthy bot hands 5–10 % of its conversations to people; none at all means the handoff is
/// broken. A band for all lanes together only: lanes differ by design.
const ESCALATION_ALERT: Alert = Alert {
    all_only: true,
    ..Alert::new(
        Some(Condition::Outside(0.05, 0.10)),
        Some(Condition::Equal(0.0)),
    )
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "escalation_rate",
        name: "Bot to human escalation",
        definition: "share of bot-handled conversations escalated to a human lane",
        cohort: "bot-handled conversations opened in the period",
        unit: Unit::Rate,
        alert: ESCALATION_ALERT,
        sql: Sql::Rows {
            from: "facts",
            filter: "bot_handled",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("escalated_at IS NOT NULL"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        col("bot_handled"),
        col("opened_at"),
        vec![("escalation_rate", mean(col("escalated_at").is_not_null()))],
    ))
}

/// Behind an alert: when escalations are too many, the escalated conversations; when too
/// few (or none), the bot-handled ones that never reached a person, most trap signals first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let too_many = q.high;
    let culprit = if too_many {
        col("escalated_at").is_not_null()
    } else {
        col("escalated_at").is_null()
    };
    Ok(ctx.drill_rows(
        q,
        col("bot_handled"),
        col("opened_at"),
        culprit,
        col("trap_signals"),
        false,
    ))
}
