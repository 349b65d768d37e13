//! Time to specialist in business hours, the business twin of spec metric 2
//! (business-hours.md).
//!
//! - **Definition:** median and 90th percentile of `tts_bh_s`: the time from the first customer
//!   message to the first specialist-lane assignment in business seconds (0 when the specialist
//!   came first).
//! - **Cohort:** as `tts_median_s`: first specialist assignment in the period, with a customer
//!   message.
//! - **Unit:** business seconds.
//! - **Nulls:** the metric exists only with `[business_hours]`; it has no default thresholds.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit, median,
    p90,
};

const COHORT: &str = "first specialist assignment in the period, with a customer message";

pub const FAMILY: Family = Family {
    set: MetricSet::BusinessTime,
    metrics: &[
        MetricInfo {
            id: "tts_bh_median_s",
            name: "Time to specialist in business time (median)",
            definition: "median business seconds from the first customer message to the first specialist-lane assignment",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "business_facts",
                filter: "specialist_at IS NOT NULL AND first_customer_at IS NOT NULL",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::Median("tts_bh_s"),
            },
        },
        MetricInfo {
            id: "tts_bh_p90_s",
            name: "Time to specialist in business time (p90)",
            definition: "90th percentile of the time to specialist in business seconds",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "business_facts",
                filter: "specialist_at IS NOT NULL AND first_customer_at IS NOT NULL",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::P90("tts_bh_s"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[crate::facts::sql::BH_SPANS, crate::facts::sql::BUSINESS],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("specialist_at")
        .is_not_null()
        .and(col("first_customer_at").is_not_null())
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("specialist_at"),
        vec![
            ("tts_bh_median_s", median(col("tts_bh_s"))),
            ("tts_bh_p90_s", p90(col("tts_bh_s"))),
        ],
    ))
}

/// Behind an alert: the slowest handoffs to a specialist in business time.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("specialist_at"),
        lit(true),
        col("tts_bh_s"),
        false,
    ))
}
