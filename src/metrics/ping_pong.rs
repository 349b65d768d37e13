//! Ping-pong rate, governance check G3 (controls 1 and 4: ownership clarity, decision
//! authority).
//!
//! - **Definition:** share of conversations bounced back to a lane they had left (A → B → A:
//!   `bounces >= 1`, over the stays, which collapse consecutive rows of one lane).
//! - **Cohort:** conversations opened in the period with at least two stays (bot lanes count);
//!   cohort time `opened_at`.
//! - **Unit:** fraction 0–1.
//! - **Nulls:** a conversation that never changed lane is outside the cohort.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, Context, DrillQuery, Family, MetricInfo, MetricSet, Sql, Unit, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "ping_pong_rate",
        name: "Bounced back to a lane (A to B to A)",
        definition: "share of rerouted conversations bounced back to a lane they had left (A → B → A)",
        cohort: "conversations opened in the period with at least two lane stays",
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Above(0.02)), Some(Condition::Above(0.05))),
        sql: Sql::NotExported(super::GOVERNANCE_WALK_SQL),
    }],
    needs: &[],
    sql_tables: "",
    rows,
    drill,
};

fn cohort() -> Expr {
    col("stays").gt_eq(lit(2u32))
}

fn bounced() -> Expr {
    col("bounces").gt_eq(lit(1u32))
}

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("opened_at"),
        vec![("ping_pong_rate", mean(bounced()))],
    ))
}

/// Behind an alert: the bounced conversations, most bounces first.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("opened_at"),
        bounced(),
        col("bounces"),
        false,
    ))
}
