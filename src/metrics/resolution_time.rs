//! Average resolution time (ART), spec metric 8.
//!
//! - **Definition:** seconds from `opened_at` to `closed_at`.
//! - **Cohort:** conversations closed in the period (a `closed_at` after `as_of` counts as
//!   open); cohort time `closed_at`.
//! - **Unit:** seconds; `art_mean_s` is the mean, `art_median_s` the median (linear).
//! - **Nulls:** open conversations are outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{Context, DrillQuery, Family, MetricInfo, MetricSet, Unit, mean, median};
use crate::facts::art_seconds;

const COHORT: &str = "conversations closed in the period";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "art_mean_s",
            definition: "mean seconds from open to close",
            cohort: COHORT,
            unit: Unit::Seconds,
        },
        MetricInfo {
            id: "art_median_s",
            definition: "median seconds from open to close",
            cohort: COHORT,
            unit: Unit::Seconds,
        },
    ],
    rows,
    drill,
};

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
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
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        lit(true),
        col("closed_at") - col("opened_at"),
        false,
    ))
}
