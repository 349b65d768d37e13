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
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, empty_drill, empty_rows, mean,
};

const fn promise(
    id: &'static str,
    name: &'static str,
    definition: &'static str,
    cohort: &'static str,
    filter: &'static str,
) -> MetricInfo {
    MetricInfo {
        id,
        name,
        definition,
        cohort,
        unit: Unit::Rate,
        alert: Alert::new(Some(Condition::Below(0.90)), Some(Condition::Below(0.80))),
        sql: Sql::Rows {
            from: "sla_settled",
            filter,
            time: SqlTime::Instant("settled_at"),
            value: SqlValue::Share("state = 'hit'"),
        },
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
            "promise = 'frt'",
        ),
        promise(
            "sla_human_frt_hit_rate",
            "A person's first response within target",
            "share of promises kept of a person's first response once a human lane has the case",
            "human first-response promises settled in the period",
            "promise = 'human_frt'",
        ),
        promise(
            "sla_tts_hit_rate",
            "Specialist within target",
            "share of conversations that reached a specialist within the target of the specialist lane",
            "time-to-specialist promises settled in the period",
            "promise = 'tts'",
        ),
        promise(
            "sla_update_hit_rate",
            "Customer updates within target",
            "share of owned intervals in which the next customer update or routing came within the target",
            "owned intervals settled in the period",
            "promise = 'update'",
        ),
        promise(
            "sla_resolution_hit_rate",
            "Resolved within target",
            "share of conversations resolved within the target of their lane",
            "resolution promises settled in the period",
            "promise = 'resolution'",
        ),
    ],
    needs: &[],
    sql_tables: &["{SLA_BH_SPANS}", SQL_TABLES],
    rows,
    drill,
};

const CONVERSATION_PROMISES: [&str; 4] = ["frt", "human_frt", "tts", "resolution"];

/// Whether a promise is settled (hit or breach): its `_breach` flag is set.
fn settled(p: &str) -> Expr {
    col(format!("sla_{p}_breach")).is_not_null()
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
                vec![(id, mean(col(format!("sla_{p}_breach")).not()))],
            )
        })
        .collect();
    let kept = col("breach").not();
    // The interval frame holds the settled intervals only.
    parts.push(ctx.interval_rows(intervals, vec![("sla_update_hit_rate", mean(kept))]));
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
        // A breach settles at its due instant.
        let due = col("at").cast(DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(TimeZone::UTC),
        ));
        return Ok(ctx.event_drill(
            ctx.interval_events(intervals),
            q,
            col("breach"),
            col("overshoot_s"),
            concat_str(
                [
                    lit("due "),
                    due.cast(DataType::String),
                    lit(" ("),
                    col("interval_lane").cast(DataType::String),
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
        col(format!("sla_{p}_breach")),
        col(format!("sla_{p}_overshoot_s")),
        false,
    ))
}

/// The promises in SQL, as [`crate::facts::sla`] judges them: the lane of each target lookup,
/// the target and clock (`{SLA_<P>_TARGET}`/`{SLA_<P>_CLOCK}` over the lookup lane `lk` and
/// `segment`), the owned intervals, the due instant (`{SLA_BUSINESS_DUES}` on the business
/// clock) and the state. An event at or before the due instant is a hit (the same as an elapsed
/// time at most the target, on either clock); without an event, a stop after it is a breach.
const SQL_TABLES: &str = r#"sla_conv AS (
  SELECT conversation_id, opened_at, closed_at, COALESCE(closed_at, (SELECT t FROM params)) AS sla_stop,
         first_customer_at, first_reply_at, first_human_at, first_agent_reply_at, specialist_at,
         first_bot_at, lane, segment, channel, intent, owner_group
  FROM facts
),
sla_kinds AS (
  SELECT 'frt' AS promise UNION ALL SELECT 'human_frt' UNION ALL SELECT 'tts' UNION ALL SELECT 'resolution'
),
-- Each conversation's promises from one read of the facts (an engine that copies a CTE into
-- every reference plans one copy): start, event, and the instant whose lane looks up the target.
sla_promise_base AS (
  SELECT c.*, k.promise,
         CASE k.promise WHEN 'frt' THEN c.first_customer_at WHEN 'human_frt' THEN c.first_human_at
                        WHEN 'tts' THEN c.first_customer_at ELSE c.opened_at END AS p_start,
         CASE k.promise WHEN 'frt' THEN c.first_reply_at WHEN 'human_frt' THEN c.first_agent_reply_at
                        WHEN 'tts' THEN CASE WHEN c.specialist_at < c.first_customer_at
                                             THEN c.first_customer_at ELSE c.specialist_at END
                        ELSE c.closed_at END AS p_event,
         CASE k.promise WHEN 'frt' THEN COALESCE(c.first_reply_at, c.sla_stop)
                        WHEN 'human_frt' THEN COALESCE(c.first_agent_reply_at, c.sla_stop) END AS x
  FROM sla_conv c CROSS JOIN sla_kinds k
  WHERE CASE k.promise WHEN 'frt' THEN c.first_customer_at IS NOT NULL
                       WHEN 'human_frt' THEN c.first_human_at IS NOT NULL
                       WHEN 'tts' THEN c.first_customer_at IS NOT NULL AND c.specialist_at IS NOT NULL
                       ELSE TRUE END
),
sla_specialist_lanes AS (
  SELECT conversation_id, lane AS spec_lane FROM (
    SELECT conversation_id, lane,
           ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS k
    FROM routing WHERE tier >= 2) y
  WHERE k = 1
),
-- The lane of each lookup: at the reply (or the stop) for first responses, the specialist row's
-- for time to specialist, the facts lane for resolution.
sla_promise_rows AS (
  SELECT conversation_id, promise, p_start, p_event, sla_stop, closed_at, segment, channel, intent,
         lane AS g_lane, owner_group AS g_owner, CAST(NULL AS STRING) AS assignee_id,
         CASE WHEN promise IN ('frt', 'human_frt')
              THEN COALESCE(at_lane, CASE WHEN first_bot_at <= x THEN 'automation' ELSE 'unassigned' END)
              WHEN promise = 'tts' THEN COALESCE(spec_lane, 'unassigned')
              ELSE lane END AS lk
  FROM (
    SELECT b.*, r.lane AS at_lane, sp.spec_lane,
           ROW_NUMBER() OVER (PARTITION BY b.conversation_id, b.promise ORDER BY r.ts DESC, r.source_row DESC) AS k
    FROM sla_promise_base b
    LEFT JOIN routing r ON b.x IS NOT NULL AND r.conversation_id = b.conversation_id AND r.ts <= b.x
    LEFT JOIN sla_specialist_lanes sp ON sp.conversation_id = b.conversation_id) y
  WHERE k = 1
),
-- Owned intervals: every routing row and visible agent message up to the stop cuts one, and it is
-- owned when the current assignment at its start is a person in a human lane.
sla_update_events AS (
  SELECT DISTINCT conversation_id, ts FROM (
    SELECT conversation_id, ts FROM routing
    UNION ALL
    SELECT conversation_id, ts FROM msg WHERE sender = 'agent' AND (kind IS NULL OR kind <> 'internal_note')
  ) e
),
sla_update_steps AS (
  SELECT e.conversation_id, e.ts AS p_start,
         LEAD(e.ts) OVER (PARTITION BY e.conversation_id ORDER BY e.ts) AS next_ts,
         c.sla_stop, c.closed_at, c.segment, c.channel, c.intent
  FROM sla_update_events e
  JOIN (SELECT conversation_id, closed_at, segment, channel, intent,
               COALESCE(closed_at, (SELECT t FROM params)) AS sla_stop FROM conv) c
    ON c.conversation_id = e.conversation_id
  WHERE e.ts <= c.sla_stop
),
sla_update_rows AS (
  SELECT conversation_id, p_start, p_event, sla_stop, closed_at, segment, channel, intent, lk,
         assignee_id FROM (
    SELECT u.conversation_id, u.p_start, COALESCE(u.next_ts, u.sla_stop) AS p_end,
           CASE WHEN u.next_ts IS NOT NULL OR u.closed_at IS NOT NULL
                THEN COALESCE(u.next_ts, u.sla_stop) END AS p_event,
           u.sla_stop, u.closed_at, u.segment, u.channel, u.intent, a.lane AS lk, a.tier, a.assignee_id,
           ROW_NUMBER() OVER (PARTITION BY u.conversation_id, u.p_start ORDER BY a.ts DESC, a.source_row DESC) AS k
    FROM sla_update_steps u JOIN routing a ON a.conversation_id = u.conversation_id AND a.ts <= u.p_start
    WHERE u.p_start < u.sla_stop) x
  WHERE k = 1 AND tier >= 1 AND assignee_id IS NOT NULL AND p_end > p_start
),
-- Every promise with its target, clock and groups: a conversation's, except that an update
-- interval is grouped by its own lane and its own assignee (`ALL` is reserved: nobody named).
sla_all AS (
  SELECT conversation_id, promise, p_start, p_event, sla_stop, closed_at, segment, channel, intent,
         g_lane, g_owner, lk,
         CASE promise WHEN 'frt' THEN {SLA_FRT_TARGET} WHEN 'human_frt' THEN {SLA_HUMAN_FRT_TARGET}
                      WHEN 'tts' THEN {SLA_TTS_TARGET} ELSE {SLA_RESOLUTION_TARGET} END AS target,
         CASE promise WHEN 'frt' THEN {SLA_FRT_CLOCK} WHEN 'human_frt' THEN {SLA_HUMAN_FRT_CLOCK}
                      WHEN 'tts' THEN {SLA_TTS_CLOCK} ELSE {SLA_RESOLUTION_CLOCK} END AS clock
  FROM sla_promise_rows
  UNION ALL
  SELECT conversation_id, 'update', p_start, p_event, sla_stop, closed_at, segment, channel, intent,
         lk, CASE WHEN assignee_id = 'ALL' THEN 'unowned' ELSE assignee_id END, lk,
         {SLA_UPDATE_TARGET}, {SLA_UPDATE_CLOCK}
  FROM sla_update_rows
),
{SLA_BUSINESS_DUES},
sla_judged AS (
  SELECT conversation_id, promise, p_start, p_event, due_at, segment, channel, intent, g_lane, g_owner,
         CASE WHEN p_event IS NOT NULL
              THEN CASE WHEN due_at IS NULL OR p_event <= due_at THEN 'hit' ELSE 'breach' END
              WHEN due_at IS NOT NULL AND sla_stop > due_at THEN 'breach'
              WHEN closed_at IS NOT NULL THEN 'void'
              ELSE 'pending' END AS state
  FROM (
    SELECT a.*, CASE WHEN a.clock = 'business' THEN b.due_at ELSE a.p_start + a.target END AS due_at
    FROM sla_all a
    LEFT JOIN sla_business_dues b
      ON b.conversation_id = a.conversation_id AND b.promise = a.promise AND b.p_start = a.p_start
    WHERE a.target IS NOT NULL) d
),
sla_settled AS (
  SELECT promise, state, CASE WHEN state = 'hit' THEN p_event ELSE due_at END AS settled_at,
         g_lane AS lane, g_owner AS owner_group, segment, channel, intent
  FROM sla_judged
  WHERE state IN ('hit', 'breach')
)"#;

/// The due instants on the business clock, for `{SLA_BUSINESS_DUES}` when a target runs on it:
/// from the start, the pieces between the conversation's assignment instants (`bh_spans`, the
/// last running on), each piece's open time from the calendar, and in the piece where the
/// target runs out, the calendar interval where the remaining open time ends (a target reached
/// as a schedule closes falls on the next interval's opening).
pub const SQL_BUSINESS_DUES: &str = r#"sla_bh_pieces AS (
  SELECT b.conversation_id, b.promise, b.p_start, b.target, s.schedule,
         CASE WHEN s.span_start IS NULL OR s.span_start < b.p_start THEN b.p_start ELSE s.span_start END AS p_from,
         s.span_end AS p_to
  FROM sla_all b JOIN bh_spans s ON s.conversation_id = b.conversation_id
  WHERE b.clock = 'business' AND b.target IS NOT NULL
    AND (s.span_end IS NULL OR s.span_end > b.p_start)
    AND (s.span_start IS NULL OR s.span_end IS NULL OR s.span_end > s.span_start)
),
sla_bh_instants AS (
  SELECT DISTINCT schedule, t FROM (
    SELECT schedule, p_from AS t FROM sla_bh_pieces
    UNION ALL
    SELECT schedule, p_to AS t FROM sla_bh_pieces WHERE p_to IS NOT NULL) x
  WHERE schedule IS NOT NULL
),
sla_bh_open AS (
  SELECT i.schedule, i.t,
         max(k.open_before_ms + CASE WHEN i.t < k.end_ms THEN i.t ELSE k.end_ms END - k.start_ms) AS open_ms
  FROM sla_bh_instants i JOIN calendar k
    ON k.schedule = i.schedule AND k.day = CAST(floor(i.t / 86400000E0) AS BIGINT) AND k.start_ms <= i.t
  GROUP BY i.schedule, i.t
),
sla_bh_charged AS (
  SELECT p.*, f.open_ms AS f_from,
         CASE WHEN p.p_to IS NULL THEN NULL
              WHEN p.schedule IS NULL THEN p.p_to - p.p_from
              ELSE t.open_ms - f.open_ms END AS ms
  FROM sla_bh_pieces p
  LEFT JOIN sla_bh_open f ON f.schedule = p.schedule AND f.t = p.p_from
  LEFT JOIN sla_bh_open t ON t.schedule = p.schedule AND t.t = p.p_to
),
sla_bh_before AS (
  SELECT c.*,
         CAST(COALESCE(sum(ms) OVER (PARTITION BY conversation_id, promise, p_start ORDER BY p_from
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS before_ms,
         count(*) OVER (PARTITION BY conversation_id, promise, p_start ORDER BY p_from
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
           - count(ms) OVER (PARTITION BY conversation_id, promise, p_start ORDER BY p_from
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS unknown_before
  FROM sla_bh_charged c
),
sla_bh_cross AS (
  SELECT conversation_id, promise, p_start, schedule, p_from, f_from, target - before_ms AS left_ms
  FROM sla_bh_before
  WHERE unknown_before = 0 AND before_ms <= target AND (p_to IS NULL OR before_ms + ms > target)
),
sla_business_dues AS (
  SELECT x.conversation_id, x.promise, x.p_start,
         CAST(CASE WHEN x.schedule IS NULL THEN x.p_from + x.left_ms
                   ELSE max(CASE WHEN k.start_ms + (x.f_from + x.left_ms - k.open_before_ms) < x.p_from THEN x.p_from
                                 ELSE k.start_ms + (x.f_from + x.left_ms - k.open_before_ms) END) END AS BIGINT) AS due_at
  FROM sla_bh_cross x
  LEFT JOIN calendar k
    ON k.schedule = x.schedule AND k.end_ms > k.start_ms
   AND k.open_before_ms <= x.f_from + x.left_ms
   AND x.f_from + x.left_ms < k.open_before_ms + (k.end_ms - k.start_ms)
  GROUP BY x.conversation_id, x.promise, x.p_start, x.schedule, x.p_from, x.left_ms
)"#;

/// `{SLA_BUSINESS_DUES}` when no target runs on the business clock: no business due.
pub const SQL_NO_BUSINESS_DUES: &str = r#"sla_business_dues AS (
  SELECT CAST(NULL AS STRING) AS conversation_id, CAST(NULL AS STRING) AS promise,
         CAST(NULL AS BIGINT) AS p_start, CAST(NULL AS BIGINT) AS due_at WHERE 1 = 0
)"#;

/// The board's SLA columns in SQL: the earliest due instant among the pending promises, and the
/// broken promises in the board's order.
pub const SQL_BOARD: &str = r#"board_sla AS (
  SELECT conversation_id,
         min(CASE WHEN state = 'pending' THEN due_at END) AS sla_due_at,
         concat_ws(chr(59),
           max(CASE WHEN promise = 'frt' AND state = 'breach' THEN 'frt' END),
           max(CASE WHEN promise = 'human_frt' AND state = 'breach' THEN 'human_frt' END),
           max(CASE WHEN promise = 'tts' AND state = 'breach' THEN 'tts' END),
           max(CASE WHEN promise = 'update' AND state = 'breach' THEN 'update' END),
           max(CASE WHEN promise = 'resolution' AND state = 'breach' THEN 'resolution' END)) AS sla_breached
  FROM sla_judged GROUP BY conversation_id
)"#;
