//! First response time in business hours, the business twin of spec metric 1
//! (business-hours.md).
//!
//! - **Definition:** median and 90th percentile of `frt_bh_s`: the time from the first customer
//!   message to the first reply counted only while the schedule of the lane assigned at each
//!   moment is open.
//! - **Cohort:** as `frt_median_s`: first customer message in the period, with a reply.
//! - **Unit:** business seconds.
//! - **Nulls:** the metric exists only with `[business_hours]`; it has no default thresholds.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit, median,
    p90,
};

const COHORT: &str = "first customer message in the period, with a reply";

pub const FAMILY: Family = Family {
    set: MetricSet::BusinessTime,
    metrics: &[
        MetricInfo {
            id: "frt_bh_median_s",
            name: "First response in business time (median)",
            definition: "median business seconds from the first customer message to the first reply",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "business_facts",
                filter: "first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_customer_at"),
                value: SqlValue::Median("frt_bh_s"),
            },
        },
        MetricInfo {
            id: "frt_bh_p90_s",
            name: "First response in business time (p90)",
            definition: "90th percentile of the first response time in business seconds",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "business_facts",
                filter: "first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL",
                time: SqlTime::Instant("first_customer_at"),
                value: SqlValue::P90("frt_bh_s"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[crate::facts::sql::BH_SPANS, crate::facts::sql::BUSINESS],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("first_customer_at")
        .is_not_null()
        .and(col("first_reply_at").is_not_null())
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("first_customer_at"),
        vec![
            ("frt_bh_median_s", median(col("frt_bh_s"))),
            ("frt_bh_p90_s", p90(col("frt_bh_s"))),
        ],
    ))
}

/// Behind an alert: the slowest first responses in business time.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("first_customer_at"),
        lit(true),
        col("frt_bh_s"),
        false,
    ))
}
