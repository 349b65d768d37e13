//! First response time (FRT), spec metric 1.
//!
//! - **Definition:** seconds from the customer's first message to the first reply by a bot or
//!   an agent that the customer can see (internal notes do not count), at or after it.
//! - **Cohort:** conversations whose `first_customer_at` falls in the period and that have a
//!   `first_reply_at`; cohort time `first_customer_at`.
//! - **Unit:** seconds; `frt_median_s` is the 0.5 and `frt_p90_s` the 0.9 quantile, linear
//!   interpolation.
//! - **Nulls:** unanswered conversations and outbound threads with no customer message are
//!   outside the cohort (unanswered threads show up in the window-risk metrics instead).

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, median, p90,
};
use crate::facts::frt_seconds;

const COHORT: &str = "first customer message in the period, with a reply";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "frt_median_s",
            name: "First response (median)",
            definition: "median seconds from the first customer message to the first visible bot/agent reply",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::new(Some(Condition::Above(300.0)), Some(Condition::Above(900.0))),
            sql: Sql::Rows {
                from: "facts",
                filter: "first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_customer_at"),
                value: SqlValue::Median("(first_reply_at - first_customer_at) / 1000E0"),
            },
        },
        MetricInfo {
            id: "frt_p90_s",
            name: "First response (p90)",
            definition: "90th percentile of the first response time",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_customer_at"),
                value: SqlValue::P90("(first_reply_at - first_customer_at) / 1000E0"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let frt = frt_seconds();
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![
            ("frt_median_s", median(frt.clone())),
            ("frt_p90_s", p90(frt)),
        ],
    ))
}

fn cohort() -> Expr {
    col("first_customer_at")
        .is_not_null()
        .and(col("first_reply_at").is_not_null())
}

fn time() -> Expr {
    col("first_customer_at")
}

/// Behind an alert: the slowest first replies.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        lit(true),
        col("first_reply_at") - col("first_customer_at"),
        false,
    ))
}
