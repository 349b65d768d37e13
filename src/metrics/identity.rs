//! Customers known only by a business-scoped id, whatsapp-2026.md B.4 (I1).
//!
//! - **Definition:** share of WhatsApp conversations whose customer is known only by a BSUID:
//!   the kind of the resolved customer id is `bsuid` (from the export's `customer_id_kind`, the
//!   root conversation's, or recognised from the id).
//! - **Cohort:** WhatsApp conversations opened in the period; cohort time `opened_at`.
//! - **Unit:** fraction 0–1. Such customers cannot be matched across ids, so repeat contact and
//!   duplicates may be under-counted for them.
//! - **Nulls:** none: computed with or without a `customer_aliases` table.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::WhatsApp,
    metrics: &[MetricInfo {
        id: "bsuid_only_rate",
        name: "Customers known only by a business-scoped id",
        definition: "share of WhatsApp conversations whose customer has no phone number or linked id, only a business-scoped user id",
        cohort: "WhatsApp conversations opened in the period",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.05)), None),
        sql: Sql::Rows {
            from: "facts",
            filter: "channel = 'whatsapp'",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("customer_kind = 'bsuid'"),
        },
    }],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("channel").eq(lit("whatsapp"))
}

fn bsuid_only() -> Expr {
    col("customer_kind").eq(lit("bsuid")).fill_null(lit(false))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("opened_at"),
        vec![("bsuid_only_rate", mean(bsuid_only()))],
    ))
}

/// Behind an alert: the conversations known only by a business-scoped id, newest first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("opened_at"),
        bsuid_only(),
        col("opened_at"),
        false,
    ))
}
