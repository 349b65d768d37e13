//! SLA attainment (outcomes-sla.md B): the share of promises kept, per promise.
//!
//! - **Cohort:** promises in state `hit` or `breach` (pending and void ones are left out), at
//!   the instant each settled (the event of a hit, the due instant of a breach).
//! - **Updates:** one promise per owned interval; its group is its conversation's, except by
//!   lane (the interval's own lane) and by owner (the interval's assignee). `n` counts intervals.
//! - **Nulls:** without `[sla]` none of these metrics exists; a conversation whose target no
//!   block sets has no such promise.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, Unit, empty_drill,
    empty_rows, mean,
};

const fn promise(
    id: &'static str,
    name: &'static str,
    definition: &'static str,
    cohort: &'static str,
) -> MetricInfo {
    MetricInfo {
        id,
        name,
        definition,
        cohort,
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Below(0.90)), Some(Condition::Below(0.80))),
        sql: Sql::NotExported(
            "SLA targets with their due instants (on the business clock too) are judged by l2lens; the SQL export does not compute them",
        ),
    }
}

pub const FAMILY: Family = Family {
    set: MetricSet::Sla,
    metrics: &[
        promise(
            "sla_frt_hit_rate",
            "First response within target",
            "share of first-response promises kept (first visible reply within the target of the lane that answered)",
            "first-response promises settled in the period",
        ),
        promise(
            "sla_human_frt_hit_rate",
            "A person's first response within target",
            "share of promises kept of a person's first response once a human lane has the case",
            "human first-response promises settled in the period",
        ),
        promise(
            "sla_tts_hit_rate",
            "Specialist within target",
            "share of conversations that reached a specialist within the target of the specialist lane",
            "time-to-specialist promises settled in the period",
        ),
        promise(
            "sla_update_hit_rate",
            "Customer updates within target",
            "share of owned intervals in which the next customer update or routing came within the target",
            "owned intervals settled in the period",
        ),
        promise(
            "sla_resolution_hit_rate",
            "Resolved within target",
            "share of conversations resolved within the target of their lane",
            "resolution promises settled in the period",
        ),
    ],
    needs: &[],
    sql_tables: &[],
    rows,
    drill,
};

const CONVERSATION_PROMISES: [&str; 4] = ["frt", "human_frt", "tts", "resolution"];

fn settled(p: &str) -> Expr {
    let state = col(format!("sla_{p}_state"));
    state
        .clone()
        .eq(lit("hit"))
        .or(state.eq(lit("breach")))
        .fill_null(lit(false))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(intervals) = ctx.sla_intervals.clone() else {
        return Ok(empty_rows());
    };
    let mut parts: Vec<LazyFrame> = CONVERSATION_PROMISES
        .iter()
        .map(|p| {
            let id: &'static str = match *p {
                "frt" => "sla_frt_hit_rate",
                "human_frt" => "sla_human_frt_hit_rate",
                "tts" => "sla_tts_hit_rate",
                _ => "sla_resolution_hit_rate",
            };
            ctx.cohort_rows(
                settled(p),
                col(format!("sla_{p}_settled_at")),
                vec![(id, mean(col(format!("sla_{p}_state")).eq(lit("hit"))))],
            )
        })
        .collect();
    let kept = col("state").eq(lit("hit"));
    parts.push(
        ctx.named_rows(
            intervals.filter(
                col("state")
                    .eq(lit("hit"))
                    .or(col("state").eq(lit("breach"))),
            ),
            vec![("sla_update_hit_rate", mean(kept))],
        ),
    );
    Ok(concat(parts, UnionArgs::default())?)
}

/// Behind an alert: the breaches, largest overshoot first (for updates, a conversation's
/// largest among its breaching intervals), with the due instant and the lane of the target.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(intervals) = ctx.sla_intervals.clone() else {
        return Ok(empty_drill());
    };
    let p = q
        .metric
        .id()
        .trim_start_matches("sla_")
        .trim_end_matches("_hit_rate")
        .to_owned();
    if p == "update" {
        let due = col("due_at").cast(DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(TimeZone::UTC),
        ));
        return Ok(ctx.event_drill(
            intervals,
            q,
            col("state").eq(lit("breach")),
            col("overshoot_s"),
            concat_str(
                [
                    lit("due "),
                    due.cast(DataType::String),
                    lit(" ("),
                    col("interval_lane"),
                    lit(")"),
                ],
                "",
                true,
            ),
        ));
    }
    Ok(ctx.drill_rows(
        q,
        settled(&p),
        col(format!("sla_{p}_settled_at")),
        col(format!("sla_{p}_state")).eq(lit("breach")),
        col(format!("sla_{p}_overshoot_s")),
        false,
    ))
}
