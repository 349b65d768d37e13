//! Average resolution time (ART), spec metric 8.
//!
//! - **Definition:** seconds from `opened_at` to `closed_at`.
//! - **Cohort:** conversations closed in the period (a `closed_at` after `as_of` counts as
//!   open); cohort time `closed_at`.
//! - **Unit:** seconds; `art_mean_s` is the mean, `art_median_s` the median (linear).
//! - **Nulls:** open conversations are outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean, median,
};
use crate::facts::art_seconds;

const COHORT: &str = "conversations closed in the period";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "art_mean_s",
            name: "Resolution time (mean)",
            definition: "mean seconds from open to close",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "closed_at IS NOT NULL",
                time: SqlTime::Instant("closed_at"),
                value: SqlValue::Mean("(closed_at - opened_at) / 1000E0"),
            },
        },
        MetricInfo {
            id: "art_median_s",
            name: "Resolution time (median)",
            definition: "median seconds from open to close",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::new(
                Some(Condition::Above(86_400.0)),
                Some(Condition::Above(259_200.0)),
            ),
            sql: Sql::Rows {
                from: "facts",
                filter: "closed_at IS NOT NULL",
                time: SqlTime::Instant("closed_at"),
                value: SqlValue::Median("(closed_at - opened_at) / 1000E0"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let art = art_seconds();
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![
            ("art_mean_s", mean(art.clone())),
            ("art_median_s", median(art)),
        ],
    ))
}

fn cohort() -> Expr {
    col("closed_at").is_not_null()
}

fn time() -> Expr {
    col("closed_at")
}

/// Behind an alert: the slowest resolutions.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        lit(true),
        col("closed_at") - col("opened_at"),
        false,
    ))
}
