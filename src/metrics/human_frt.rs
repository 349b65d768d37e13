//! Human first response time, spec metric 12.
//!
//! - **Definition:** median and 90th percentile of `first_agent_reply_at − first_human_at`: how
//!   long a customer handed to people waits for a person (Chatwoot's FRT after a bot handoff).
//!   `first_agent_reply_at` is the first visible agent message (not an internal note) at or
//!   after the first human-lane assignment.
//! - **Cohort:** conversations whose first human-lane assignment is in the period, with such a
//!   reply; cohort time `first_human_at`.
//! - **Unit:** seconds.
//! - **Nulls:** no reply yet: outside the cohort; no default thresholds.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit, median,
    p90,
};
use crate::facts::seconds_between;

const COHORT: &str = "first human-lane assignment in the period, with an agent reply";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "human_frt_median_s",
            name: "Wait for a person (median)",
            definition: "median seconds from the first human-lane assignment to the first agent message",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "first_human_at IS NOT NULL AND first_agent_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_human_at"),
                value: SqlValue::Median("(first_agent_reply_at - first_human_at) / 1000E0"),
            },
        },
        MetricInfo {
            id: "human_frt_p90_s",
            name: "Wait for a person (p90)",
            definition: "90th percentile of the human first response time",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "first_human_at IS NOT NULL AND first_agent_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_human_at"),
                value: SqlValue::P90("(first_agent_reply_at - first_human_at) / 1000E0"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("first_human_at")
        .is_not_null()
        .and(col("first_agent_reply_at").is_not_null())
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let wait = seconds_between("first_human_at", "first_agent_reply_at");
    Ok(ctx.cohort_rows(
        cohort(),
        col("first_human_at"),
        vec![
            ("human_frt_median_s", median(wait.clone())),
            ("human_frt_p90_s", p90(wait)),
        ],
    ))
}

/// Behind an alert: the longest waits for a person.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("first_human_at"),
        lit(true),
        col("first_agent_reply_at") - col("first_human_at"),
        false,
    ))
}
