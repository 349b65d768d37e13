//! Resolution time in business hours, the business twin of spec metric 8
//! (business-hours.md).
//!
//! - **Definition:** median of `art_bh_s`: open to close in business seconds, each piece charged
//!   to the schedule of the lane assigned then.
//! - **Cohort:** as `art_median_s`: conversations closed in the period.
//! - **Unit:** business seconds.
//! - **Nulls:** the metric exists only with `[business_hours]`; it has no default thresholds.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit, median,
};

pub const FAMILY: Family = Family {
    set: MetricSet::BusinessTime,
    metrics: &[MetricInfo {
        id: "art_bh_median_s",
        name: "Resolution time in business time (median)",
        definition: "median business seconds from opening to close",
        cohort: "conversations closed in the period",
        unit: Unit::Seconds,
        alert: Alert::NONE,
        sql: Sql::Rows {
            from: "business_facts",
            filter: "closed_at IS NOT NULL",
            time: SqlTime::Instant("closed_at"),
            value: SqlValue::Median("art_bh_s"),
        },
    }],
    needs: &[],
    sql_tables: &[crate::facts::sql::BH_SPANS, crate::facts::sql::BUSINESS],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("closed_at").is_not_null()
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("closed_at"),
        vec![("art_bh_median_s", median(col("art_bh_s")))],
    ))
}

/// Behind an alert: the longest resolutions in business time.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("closed_at"),
        lit(true),
        col("art_bh_s"),
        false,
    ))
}
