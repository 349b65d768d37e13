//! Blocked template sends, governance check G5 (control 9: template reliability).
//!
//! - **Definition:** the number of template sends (messages of kind `template` from the bot or
//!   an agent with a `template_name`) whose template's status at send time (the latest status
//!   row with `changed_at <= sent_at`) is one of `blocked_template_statuses`; a template with
//!   no status row is `unknown`, not blocked.
//! - **Cohort:** template sends in the period, by `sent_at`; a send's group is its
//!   conversation's. `n` is the number of sends.
//! - **Unit:** a count (not a share).
//! - **Nulls:** without a templates table the data has no status history: no rows, and the
//!   report says so.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Context, DrillQuery, Family, MetricInfo, MetricSet, Unit, empty_drill, empty_rows, sum,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Governance,
    metrics: &[MetricInfo {
        id: "template_blocked_sends",
        definition: "number of template sends whose template was rejected, paused, disabled or pending at send time",
        cohort: "template sends in the period",
        unit: Unit::Count,
    }],
    rows,
    drill,
};

fn rows(ctx: &Context<'_>) -> Result<LazyFrame> {
    let Some(sends) = ctx.sends.clone() else {
        return Ok(empty_rows());
    };
    Ok(ctx.event_rows(sends, vec![("template_blocked_sends", sum(col("blocked")))]))
}

/// Behind an alert: the conversations with blocked sends, most recent first, with the
/// template and its status.
fn drill(ctx: &Context<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(sends) = ctx.sends.clone() else {
        return Ok(empty_drill());
    };
    Ok(ctx.event_drill(
        sends,
        q,
        col("blocked"),
        col("at"),
        concat_str(
            [col("template_name"), lit(" ("), col("status"), lit(")")],
            "",
            true,
        ),
    ))
}
