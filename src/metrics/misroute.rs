//! Misroute rate, spec metric 6.
//!
//! - **Definition:** share of conversations that were misrouted: an assignment with reason
//!   `wrong_queue`, or a move with no reason from one specialist lane to a different
//!   specialist lane of the same tier (the export's silent correction of a misroute).
//!   An explicit `transfer` is not a misroute, and neither is a move up a tier.
//! - **Cohort:** conversations opened in the period with at least one assignment into a human
//!   lane; cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** conversations that never reached a human are outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, share,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[MetricInfo {
        id: "misroute_rate",
        name: "Misrouted conversations",
        definition: "share of conversations that reached a human lane and were misrouted (wrong_queue or a lateral specialist move)",
        cohort: "conversations opened in the period that reached a human lane",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.05)), Some(Condition::Above(0.15))),
        sql: Sql::Rows {
            from: "facts",
            filter: "reached_human",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("misrouted"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        time(),
        vec![("misroute_rate", share("misrouted"))],
    ))
}

fn cohort() -> Expr {
    col("reached_human")
}

fn time() -> Expr {
    col("opened_at")
}

/// Behind an alert: the misrouted conversations.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        time(),
        col("misrouted"),
        col("owner_changes"),
        false,
    ))
}
