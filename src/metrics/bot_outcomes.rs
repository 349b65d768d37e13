//! What the bot really resolved (outcomes-sla.md A): the settled shares, durable resolutions
//! and why the bot handed over.
//!
//! - **Settled outcomes:** bot conversations resolved, abandoned (the customer's last question
//!   never answered in time) or handed to a person, at the instant each was settled;
//!   `bot_resolution_rate + bot_abandon_rate + bot_escalated_rate = 1`. Open, unengaged and
//!   human-first conversations are left out (the bot had nothing to resolve, or was not the
//!   first handler).
//! - **`durable_bot_resolution_rate`:** bot resolutions with no repeat contact within the
//!   durable horizon, at `closed_at`, once the horizon has elapsed.
//! - **Handoff reasons:** the escalated conversations by why the bot handed over, at `human_at`.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, mean,
};

const SETTLED: &str =
    "bot conversations settled in the period: resolved, abandoned or handed to a person";
const ESCALATED: &str = "bot conversations handed to a person in the period";

const fn settled(
    id: &'static str,
    name: &'static str,
    definition: &'static str,
    value: &'static str,
    alert: Alert,
) -> MetricInfo {
    MetricInfo {
        id,
        name,
        definition,
        cohort: SETTLED,
        unit: Unit::Rate,
        alert,
        sql: Sql::Rows {
            from: "bot_outcome_facts",
            filter: "bot_outcome IN ('escalated', 'bot_resolved', 'abandoned')",
            time: SqlTime::Instant("bot_outcome_at"),
            value: SqlValue::Share(value),
        },
    }
}

const fn reason(
    id: &'static str,
    name: &'static str,
    definition: &'static str,
    value: &'static str,
) -> MetricInfo {
    MetricInfo {
        id,
        name,
        definition,
        cohort: ESCALATED,
        unit: Unit::Rate,
        alert: Alert::NONE,
        sql: Sql::Rows {
            from: "bot_outcome_facts",
            filter: "bot_outcome = 'escalated'",
            time: SqlTime::Instant("human_at"),
            value: SqlValue::Share(value),
        },
    }
}

pub const FAMILY: Family = Family {
    set: MetricSet::Outcomes,
    metrics: &[
        settled(
            "bot_resolution_rate",
            "Resolved by the bot",
            "share of settled bot conversations the bot closed itself, the customer's last question answered",
            "bot_outcome = 'bot_resolved'",
            Alert::NONE,
        ),
        settled(
            "bot_abandon_rate",
            "Abandoned by the bot",
            "share of settled bot conversations whose customer's last question got no answer in time",
            "bot_outcome = 'abandoned'",
            Alert::new(Some(Condition::Above(0.10)), Some(Condition::Above(0.25))),
        ),
        settled(
            "bot_escalated_rate",
            "Handed to a person",
            "share of settled bot conversations a person took over (an assignment or an agent's reply)",
            "bot_outcome = 'escalated'",
            Alert::NONE,
        ),
        MetricInfo {
            id: "durable_bot_resolution_rate",
            name: "Bot resolutions that held",
            definition: "share of bot resolutions with no repeat contact within the durable horizon (7 days)",
            cohort: "bot resolutions closed in the period whose horizon has elapsed",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Below(0.90)), Some(Condition::Below(0.80))),
            sql: Sql::Rows {
                from: "bot_outcome_facts",
                filter: "durable_resolution IS NOT NULL",
                time: SqlTime::Instant("closed_at"),
                value: SqlValue::Share("durable_resolution"),
            },
        },
        reason(
            "handoff_reason_human_request_rate",
            "Handed over: the customer asked",
            "share of bot handoffs that followed the customer's request for a person",
            "handoff_reason = 'human_request'",
        ),
        reason(
            "handoff_reason_strikes_rate",
            "Handed over: strikes",
            "share of bot handoffs that followed the bot's failures (the strikes-th trap signal)",
            "handoff_reason = 'strikes'",
        ),
        reason(
            "handoff_reason_other_rate",
            "Handed over: other reasons",
            "share of bot handoffs with neither a request for a person nor strikes before them",
            "handoff_reason = 'other'",
        ),
    ],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn is(outcome: &str) -> Expr {
    col("bot_outcome")
        .eq(lit(outcome.to_owned()))
        .fill_null(lit(false))
}

fn settled_cohort() -> Expr {
    is("escalated").or(is("bot_resolved")).or(is("abandoned"))
}

fn has_reason(reason: &str) -> Expr {
    col("handoff_reason")
        .eq(lit(reason.to_owned()))
        .fill_null(lit(false))
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let settled = ctx.cohort_rows(
        settled_cohort(),
        col("bot_outcome_at"),
        vec![
            ("bot_resolution_rate", mean(is("bot_resolved"))),
            ("bot_abandon_rate", mean(is("abandoned"))),
            ("bot_escalated_rate", mean(is("escalated"))),
        ],
    );
    let durable = ctx.cohort_rows(
        col("durable_resolution").is_not_null(),
        col("closed_at"),
        vec![(
            "durable_bot_resolution_rate",
            mean(col("durable_resolution")),
        )],
    );
    let reasons = ctx.cohort_rows(
        is("escalated"),
        col("human_at"),
        vec![
            (
                "handoff_reason_human_request_rate",
                mean(has_reason("human_request")),
            ),
            ("handoff_reason_strikes_rate", mean(has_reason("strikes"))),
            ("handoff_reason_other_rate", mean(has_reason("other"))),
        ],
    );
    Ok(concat([settled, durable, reasons], UnionArgs::default())?)
}

/// Behind an alert: the abandoned conversations, longest wait first (end(c) − L); the
/// resolutions that did not hold, quickest repeat first; else the period's conversations of
/// the outcome or reason.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let end = col("closed_at").fill_null(lit(ctx.as_of));
    Ok(match q.metric.id() {
        "bot_abandon_rate" => ctx.drill_rows(
            q,
            settled_cohort(),
            col("bot_outcome_at"),
            is("abandoned"),
            end - col("last_question_at"),
            false,
        ),
        "durable_bot_resolution_rate" => ctx.drill_rows(
            q,
            col("durable_resolution").is_not_null(),
            col("closed_at"),
            col("durable_resolution").not(),
            col("repeat_at") - col("closed_at"),
            true,
        ),
        "bot_resolution_rate" => ctx.drill_rows(
            q,
            settled_cohort(),
            col("bot_outcome_at"),
            is("bot_resolved"),
            col("bot_outcome_at"),
            false,
        ),
        "bot_escalated_rate" => ctx.drill_rows(
            q,
            settled_cohort(),
            col("bot_outcome_at"),
            is("escalated"),
            col("bot_outcome_at"),
            false,
        ),
        id => {
            let reason = id
                .trim_start_matches("handoff_reason_")
                .trim_end_matches("_rate")
                .to_owned();
            ctx.drill_rows(
                q,
                is("escalated"),
                col("human_at"),
                has_reason(&reason),
                col("human_at"),
                false,
            )
        }
    })
}

/// The outcome facts in SQL, as [`crate::facts::outcomes`] applies them: the bot's first
/// message at or before end(c), the customer's last question (closing intents skipped) and
/// whether a qualifying reply answered it in time, `human_at`, the first rule that applies, the
/// handoff reason from the request for a person and the strikes-th trap signal before
/// `human_at`, and durability from the first repeat within the horizon.
const SQL_TABLES: &str = r#"ob_base AS (
  SELECT c.conversation_id, c.customer_id, c.intent, c.opened_at, c.closed_at,
         COALESCE(c.closed_at, (SELECT t FROM params)) AS end_at,
         f.first_bot_at, f.escalated_at
  FROM conv c JOIN facts f USING (conversation_id)
),
ob_messages AS (
  SELECT b.conversation_id,
         min(CASE WHEN m.sender = 'agent' AND (m.kind IS NULL OR m.kind <> 'internal_note')
                   AND m.ts >= b.first_bot_at AND m.ts <= b.end_at THEN m.ts END) AS agent_after,
         max(CASE WHEN m.sender = 'agent' AND (m.kind IS NULL OR m.kind <> 'internal_note')
                   AND m.ts < b.first_bot_at THEN 1 ELSE 0 END) AS agent_before,
         max(CASE WHEN m.sender = 'customer' AND {NOT_CLOSING} AND m.ts <= b.end_at THEN m.ts END) AS last_question_at
  FROM ob_base b JOIN msg m ON m.conversation_id = b.conversation_id
  WHERE b.first_bot_at <= b.end_at
  GROUP BY b.conversation_id
),
ob_answered AS (
  SELECT o.conversation_id, 1 AS answered
  FROM ob_messages o JOIN ob_base b ON b.conversation_id = o.conversation_id
  JOIN msg m ON m.conversation_id = o.conversation_id
  WHERE o.last_question_at IS NOT NULL
    AND m.sender IN ('bot', 'agent') AND (m.kind IS NULL OR m.kind <> 'internal_note')
    AND NOT (m.sender = 'bot' AND COALESCE(m.is_fallback, FALSE))
    AND m.ts >= o.last_question_at AND m.ts <= LEAST(b.end_at, o.last_question_at + {ABANDON_MS})
  GROUP BY o.conversation_id
),
ob_rows AS (
  SELECT b.conversation_id, max(CASE WHEN r.tier >= 1 AND r.ts < b.first_bot_at THEN 1 ELSE 0 END) AS row_before
  FROM ob_base b JOIN routing r ON r.conversation_id = b.conversation_id
  GROUP BY b.conversation_id
),
ob_human AS (
  SELECT b.conversation_id, b.customer_id, b.intent, b.closed_at, b.end_at, o.last_question_at,
         o.agent_before,
         CASE WHEN b.escalated_at IS NULL THEN o.agent_after
              WHEN o.agent_after IS NULL THEN b.escalated_at
              ELSE LEAST(b.escalated_at, o.agent_after) END AS human_at
  FROM ob_base b JOIN ob_messages o ON o.conversation_id = b.conversation_id
),
ob_settled AS (
  SELECT h.conversation_id, h.customer_id, h.intent, h.closed_at, h.last_question_at, h.human_at,
         CASE WHEN COALESCE(r.row_before, 0) = 1 OR h.agent_before = 1 THEN 'human_first'
              WHEN h.human_at IS NOT NULL THEN 'escalated'
              WHEN h.closed_at IS NOT NULL AND h.last_question_at IS NULL THEN 'unengaged'
              WHEN h.last_question_at IS NOT NULL AND a.answered IS NULL
                   AND (h.closed_at IS NOT NULL OR (SELECT t FROM params) - h.last_question_at > {ABANDON_MS})
                THEN 'abandoned'
              WHEN h.closed_at IS NOT NULL THEN 'bot_resolved'
              ELSE 'open' END AS bot_outcome
  FROM ob_human h
  LEFT JOIN ob_answered a ON a.conversation_id = h.conversation_id
  LEFT JOIN ob_rows r ON r.conversation_id = h.conversation_id
),
ob_signals AS (
  SELECT s.conversation_id, s.ts,
         ROW_NUMBER() OVER (PARTITION BY s.conversation_id ORDER BY s.ts) AS k
  FROM signals s JOIN ob_settled o ON o.conversation_id = s.conversation_id
  WHERE o.bot_outcome = 'escalated' AND s.ts < o.human_at
),
ob_asks AS (
  SELECT o.conversation_id, min(m.ts) AS asked_at
  FROM ob_settled o JOIN msg m ON m.conversation_id = o.conversation_id
  WHERE o.bot_outcome = 'escalated' AND m.sender = 'customer' AND {ASKS_PERSON} AND m.ts < o.human_at
  GROUP BY o.conversation_id
),
ob_reasons AS (
  SELECT o.conversation_id, a.asked_at, g.ts AS struck_at
  FROM ob_settled o
  LEFT JOIN ob_asks a ON a.conversation_id = o.conversation_id
  LEFT JOIN ob_signals g ON g.conversation_id = o.conversation_id AND g.k = {STRIKES}
  WHERE o.bot_outcome = 'escalated'
),
ob_repeats AS (
  SELECT o.conversation_id, min(x.at) AS repeat_at
  FROM ob_settled o JOIN (
    SELECT m.conversation_id AS of_id, m.ts AS at FROM msg m WHERE m.sender = 'customer'
    UNION ALL
    SELECT p.conversation_id AS of_id, n.opened_at AS at
    FROM conv p JOIN conv n ON n.customer_id = p.customer_id AND n.conversation_id <> p.conversation_id{DURABLE_INTENT}) x
    ON x.of_id = o.conversation_id
  WHERE o.bot_outcome = 'bot_resolved' AND x.at > o.closed_at AND x.at <= o.closed_at + {HORIZON_MS}
  GROUP BY o.conversation_id
),
bot_outcome_facts AS (
  SELECT f.*, o.bot_outcome, o.human_at,
         CASE WHEN o.bot_outcome = 'escalated' THEN o.human_at
              WHEN o.bot_outcome = 'bot_resolved' THEN o.closed_at
              WHEN o.bot_outcome = 'abandoned' THEN
                CASE WHEN o.closed_at IS NOT NULL AND o.closed_at < o.last_question_at + {ABANDON_MS}
                     THEN o.closed_at ELSE o.last_question_at + {ABANDON_MS} END END AS bot_outcome_at,
         CASE WHEN o.bot_outcome <> 'escalated' THEN NULL
              WHEN r.asked_at IS NOT NULL AND (r.struck_at IS NULL OR r.asked_at <= r.struck_at) THEN 'human_request'
              WHEN r.struck_at IS NOT NULL THEN 'strikes'
              ELSE 'other' END AS handoff_reason,
         CASE WHEN o.bot_outcome = 'bot_resolved' AND o.closed_at + {HORIZON_MS} <= (SELECT t FROM params)
              THEN p.repeat_at IS NULL END AS durable_resolution
  FROM facts f
  LEFT JOIN ob_settled o ON o.conversation_id = f.conversation_id
  LEFT JOIN ob_reasons r ON r.conversation_id = f.conversation_id
  LEFT JOIN ob_repeats p ON p.conversation_id = f.conversation_id
)"#;
