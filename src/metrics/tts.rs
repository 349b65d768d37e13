//! Time to specialist (TTS), spec metric 2.
//!
//! - **Definition:** seconds from the customer's first message to the first assignment into a
//!   specialist lane (tier L2 or L3), clamped at 0 when the specialist lane came first (an
//!   outbound thread routed before the customer wrote).
//! - **Cohort:** conversations whose `specialist_at` falls in the period and that have a
//!   `first_customer_at`; cohort time `specialist_at`.
//! - **Unit:** seconds; median and 0.9 quantile, linear interpolation.
//! - **Nulls:** conversations never routed to a specialist, or with no customer message, are
//!   outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, median, p90,
};
use crate::facts::tts_seconds;

const COHORT: &str = "first specialist assignment in the period, with a customer message";

/// Every lane above 15 min (warning) and 1 h (critical); the VIP fast lane promises a
/// specialist within 30 s.
const TTS_ALERT: Alert = Alert {
    lanes: &[(
        "vip_fast_lane",
        Some(Condition::Above(30.0)),
        Some(Condition::Above(120.0)),
    )],
    ..Alert::new(
        Some(Condition::Above(900.0)),
        Some(Condition::Above(3600.0)),
    )
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "tts_median_s",
            name: "Time to specialist (median)",
            definition: "median seconds from the first customer message to the first specialist-lane assignment (min 0)",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: TTS_ALERT,
            sql: Sql::Rows {
                from: "facts",
                filter: "specialist_at IS NOT NULL AND first_customer_at IS NOT NULL",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::Median(
                    "greatest((specialist_at - first_customer_at) / 1000E0, 0E0)",
                ),
            },
        },
        MetricInfo {
            id: "tts_p90_s",
            name: "Time to specialist (p90)",
            definition: "90th percentile of the time to specialist",
            cohort: COHORT,
            unit: Unit::Seconds,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "facts",
                filter: "specialist_at IS NOT NULL AND first_customer_at IS NOT NULL",
                time: SqlTime::Instant("specialist_at"),
                value: SqlValue::P90("greatest((specialist_at - first_customer_at) / 1000E0, 0E0)"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let tts = tts_seconds();
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![
            ("tts_median_s", median(tts.clone())),
            ("tts_p90_s", p90(tts)),
        ],
    ))
}

fn cohort() -> Expr {
    col("specialist_at")
        .is_not_null()
        .and(col("first_customer_at").is_not_null())
}

fn time() -> Expr {
    col("specialist_at")
}

/// Behind an alert: the slowest handoffs to a specialist.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        lit(true),
        col("specialist_at") - col("first_customer_at"),
        false,
    ))
}
