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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
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
        sql: Sql::Rows {
            from: "ping_pong_checks",
            filter: "stays >= 2",
            time: SqlTime::Instant("opened_at"),
            value: SqlValue::Share("bounces >= 1"),
        },
    }],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn cohort() -> Expr {
    col("stays").gt_eq(lit(2u32))
}

fn bounced() -> Expr {
    col("bounces").gt_eq(lit(1u32))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    Ok(ctx.cohort_rows(
        cohort(),
        col("opened_at"),
        vec![("ping_pong_rate", mean(bounced()))],
    ))
}

/// Behind an alert: the bounced conversations, most bounces first.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    Ok(ctx.drill_rows(
        q,
        cohort(),
        col("opened_at"),
        bounced(),
        col("bounces"),
        false,
    ))
}

/// Stays (from the facts' `stays`) and A → B → A bounces per conversation.
const SQL_TABLES: &str = r#"stay_facts AS (
  SELECT conversation_id, count(*) AS stays,
         sum(CASE WHEN lane_two_before = lane THEN 1 ELSE 0 END) AS bounces
  FROM stays GROUP BY conversation_id
),
ping_pong_checks AS (
  SELECT f.*, COALESCE(s.stays, 0) AS stays, COALESCE(s.bounces, 0) AS bounces
  FROM facts f LEFT JOIN stay_facts s USING (conversation_id)
)"#;
