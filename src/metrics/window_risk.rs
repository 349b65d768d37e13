//! 24-hour window risk, spec metric 3 and 3b.
//!
//! WhatsApp allows free-form replies only within 24 hours of the customer's last message, so
//! a thread the customer is waiting on is at risk long before the window closes.
//!
//! - **Snapshots:** one per period, at `s = min(period end, as_of)`, for every period from the
//!   one holding the earliest `opened_at` to the one holding `as_of`, except the quiet ones: a
//!   period in which no conversation opened or closed (and that does not hold `as_of`) has no
//!   snapshot, so that one conversation dated year 0 or 9999 costs a period, not a hundred
//!   thousand ([`crate::period::snapshots_within`]); the data-quality line counts them.
//! - **Cohort:** WhatsApp conversations open at `s` (`opened_at < s`, `closed_at` null or after
//!   `s`) with a customer message at or before `s`. The lane is the lane rule applied to the
//!   assignments at or before `s`.
//! - **Definition:** `window_risk_rate` is the share whose silence `s − last customer message`
//!   is over `window_risk_hours` (config, default 20 h; strictly greater);
//!   `window_expired` is the count (not a share) whose silence is over 24 h.
//! - **Nulls:** an open thread with no customer message yet (outbound, unanswered) is outside
//!   the cohort: there is no window to lose.

use anyhow::Result;
use polars::prelude::*;

use super::period::hours_ms;
use super::{
    Alert, Condition, DRILL_COLUMNS, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql,
    SqlTime, SqlValue, Unit, epoch, mean, sum,
};
use crate::time::MS_PER_HOUR;

const COHORT: &str = "open WhatsApp threads with a customer message, at each period's snapshot";

pub const FAMILY: Family = Family {
    set: MetricSet::Core,
    metrics: &[
        MetricInfo {
            id: "window_risk_rate",
            name: "Threads at risk of the 24-hour window",
            definition: "share of open WhatsApp threads whose customer has waited more than the risk line (20 h) at the snapshot",
            cohort: COHORT,
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Above(0.05)), None),
            sql: Sql::Rows {
                from: "window_cohort",
                filter: "TRUE",
                time: SqlTime::Period,
                value: SqlValue::Share("silence > {RISK_MS}"),
            },
        },
        MetricInfo {
            id: "window_expired",
            name: "Threads past the 24-hour window",
            definition: "number of open WhatsApp threads whose customer has waited more than 24 h at the snapshot",
            cohort: COHORT,
            unit: Unit::Count,
            alert: Alert::new(None, Some(Condition::Above(0.0))),
            sql: Sql::Rows {
                from: "window_cohort",
                filter: "TRUE",
                time: SqlTime::Period,
                value: SqlValue::Sum("CASE WHEN silence > {EXPIRED_MS} THEN 1E0 ELSE 0E0 END"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let risk_line = hours_ms(ctx.config.window_risk_hours);
    // The lane at each snapshot, not the conversation's: groups by name.
    Ok(ctx.aggregate(
        ctx.window.clone(),
        None,
        vec![
            ("window_risk_rate", mean(col("silence").gt(lit(risk_line)))),
            ("window_expired", sum(col("silence").gt(lit(EXPIRED_MS)))),
        ],
    ))
}

/// Behind an alert: the threads silent over the line at the period's snapshot, longest
/// silence first; the lane is the lane at the snapshot and hours are counted to it.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let line = if q.metric == "window_expired" {
        EXPIRED_MS
    } else {
        hours_ms(ctx.config.window_risk_hours)
    };
    let days = (q.period_start - epoch()).num_days() as i32;
    let mut threads = ctx.window.clone().filter(
        col("period_start")
            .cast(DataType::Int32)
            .eq(lit(days))
            .and(col("silence").gt(lit(line))),
    );
    if let Some(group) = q.only_group() {
        threads = threads.filter(col("group").eq(lit(group.to_owned())));
    }
    Ok(threads
        .sort_by_exprs(
            [col("silence"), col("key")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .with_columns([
            col("lane_at_snapshot").alias("lane"),
            (col("silence") * lit(1.0 / MS_PER_HOUR as f64)).alias("hours_silent"),
            lit(NULL).cast(DataType::String).alias("detail"),
            col("silence")
                .cast(DataType::Float64)
                .alias(super::DRILL_RANK),
        ])
        .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>()))
}

/// Past the window: silent longer than WhatsApp's 24 hours.
const EXPIRED_MS: f64 = crate::facts::WINDOW_MS as f64;

/// The window snapshots: one per period from the earliest conversation's to the one holding
/// as_of, at the period's end or at as_of if earlier, in the periods in which a conversation
/// opened or closed and the one holding as_of; the open WhatsApp threads with a customer
/// message at each, with the lane at the snapshot as `lane`.
const SQL_TABLES: &str = r#"bounds AS (
  SELECT {FIRST_PERIOD} AS first_period, {LAST_PERIOD} AS last_period
),
periods AS (
  SELECT p.period_start,
         {PERIOD_START_MS} AS start_ms,
         LEAST({PERIOD_END_MS}, (SELECT t FROM params)) AS s
  FROM ({SERIES} FROM bounds) p
),
active_periods AS (
  {ACTIVE_PERIODS}
),
snapshots AS (
  SELECT period_start, s FROM periods
  WHERE start_ms < (SELECT t FROM params)
    AND (s = (SELECT t FROM params) OR period_start IN (SELECT period_start FROM active_periods))
),
window_pairs AS (
  SELECT f.conversation_id, f.segment, f.channel, f.intent, f.first_bot_at, f.first_agent_at,
         p.period_start, p.s
  FROM facts f JOIN snapshots p
    ON f.opened_at < p.s AND f.first_touch_at <= p.s AND (f.closed_at IS NULL OR p.s < f.closed_at)
  WHERE f.channel = 'whatsapp'
),
window_silence AS (
  SELECT w.conversation_id, w.s, max(m.ts) AS last_customer_at
  FROM window_pairs w JOIN touches m ON m.conversation_id = w.conversation_id
  WHERE m.ts <= w.s
  GROUP BY w.conversation_id, w.s
),
window_lanes AS (
  SELECT conversation_id, s, lane FROM (
    SELECT w.conversation_id, w.s, a.lane,
           ROW_NUMBER() OVER (PARTITION BY w.conversation_id, w.s ORDER BY a.ts DESC, a.source_row DESC) AS from_last
    FROM window_pairs w JOIN routing a ON a.conversation_id = w.conversation_id
    WHERE a.ts <= w.s) x
  WHERE from_last = 1
),
window_cohort AS (
  SELECT w.period_start, w.segment, w.channel, w.intent,
         COALESCE(l.lane, CASE WHEN w.first_bot_at <= w.s THEN 'automation' ELSE 'unassigned' END) AS lane,
         {WINDOW_OWNER} AS owner_group,
         w.s - ws.last_customer_at AS silence
  FROM window_pairs w
  JOIN window_silence ws ON ws.conversation_id = w.conversation_id AND ws.s = w.s
  LEFT JOIN window_lanes l ON l.conversation_id = w.conversation_id AND l.s = w.s{WINDOW_OWNER_JOINS}
)"#;
