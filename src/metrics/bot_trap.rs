//! Bot-trap index, spec metric 5.
//!
//! - **Definition:** share of bot-handled conversations that are trapped: more than
//!   `trap_limit` (config, default 2) trap signals before escalation. A trap signal is a bot
//!   fallback message, or a customer message whose intent repeats the previous customer
//!   message's intent.
//! - **Cohort:** bot-handled conversations opened in the period; cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** a customer message with no intent never counts as a repeat.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "bot_trap_index",
        name: "Customers trapped by the bot",
        definition: "share of bot-handled conversations with more trap signals (fallbacks, repeated intents) than the trap limit",
        cohort: "bot-handled conversations opened in the period",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.05)), Some(Condition::Above(0.15))),
        sql: Sql::Rows {
            from: "facts",
            filter: "bot_handled",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("trapped"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(cohort(), time(), vec![("bot_trap_index", share("trapped"))]))
}

fn cohort() -> Expr {
    col("bot_handled")
}

fn time() -> Expr {
    col("opened_at")
}

/// Behind an alert: the trapped conversations, most signals first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        col("trapped"),
        col("trap_signals"),
        false,
    ))
}
