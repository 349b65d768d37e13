//! What each conversation's messages cost, whatsapp-2026.md C.3 (P1–P4).
//!
//! - **P1 `billed_messages_per_conversation`:** mean number of billable messages (Meta's
//!   `billable` on a visible bot or agent message) per WhatsApp conversation opened in the
//!   period whose pricing is known (every outbound visible message has a `billable`).
//! - **P2 `cost_per_conversation`:** mean cost, in the rate card's currency, of the WhatsApp
//!   conversations opened in the period whose cost is known.
//! - **P3 `cost_per_resolution`:** the same over the conversations closed in the period (spend of
//!   the resolved conversations per resolution).
//! - **P4 `trapped_cost_share`:** the trapped conversations' share of the spend of the
//!   conversations opened in the period; no row when that spend is 0.
//! - **Nulls:** no rows at all without pricing data (no `billable` value in the messages); no
//!   cost rows without a `[pricing]` rate card. A conversation with an outbound message of
//!   unknown pricing, an unpriced billable message or a per-conversation (CBP) price is left
//!   out of cost: unknown is not zero.
//! - **Thresholds:** none by default: budgets are a team's own.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue, Unit,
    empty_drill, empty_rows, mean, ratio,
};

const OPENED: &str = "WhatsApp conversations opened in the period whose cost is known";

pub const FAMILY: Family = Family {
    set: MetricSet::WhatsApp,
    metrics: &[
        MetricInfo {
            id: "billed_messages_per_conversation",
            name: "Billed messages per conversation",
            definition: "mean number of messages Meta bills (billable bot and agent messages) per conversation",
            cohort: "WhatsApp conversations opened in the period whose pricing is known",
            unit: Unit::PerConversation,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "cost_facts",
                filter: "billed IS NOT NULL",
                time: SqlTime::Instant("opened_at"),
                value: SqlValue::Mean("billed"),
            },
        },
        MetricInfo {
            id: "cost_per_conversation",
            name: "Cost per conversation",
            definition: "mean messaging cost of a conversation, in the rate card's currency",
            cohort: OPENED,
            unit: Unit::Money,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "cost_facts",
                filter: "cost IS NOT NULL AND {HAS_RATES}",
                time: SqlTime::Instant("opened_at"),
                value: SqlValue::Mean("cost"),
            },
        },
        MetricInfo {
            id: "cost_per_resolution",
            name: "Cost per resolution",
            definition: "messaging spend of the conversations resolved in the period per resolution",
            cohort: "WhatsApp conversations closed in the period whose cost is known",
            unit: Unit::Money,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "cost_facts",
                filter: "cost IS NOT NULL AND closed_at IS NOT NULL AND {HAS_RATES}",
                time: SqlTime::Instant("closed_at"),
                value: SqlValue::Mean("cost"),
            },
        },
        MetricInfo {
            id: "trapped_cost_share",
            name: "Spend on trapped bot conversations",
            definition: "share of the messaging spend that went to conversations trapped with the bot",
            cohort: OPENED,
            unit: Unit::Rate,
            alert: Alert::NONE,
            sql: Sql::Rows {
                from: "cost_facts",
                filter: "cost IS NOT NULL AND {HAS_RATES}",
                time: SqlTime::Instant("opened_at"),
                value: SqlValue::Ratio("CASE WHEN trapped THEN cost ELSE 0E0 END", "cost"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[SQL_TABLES],
    rows,
    drill,
};

fn whatsapp() -> Expr {
    col("channel").eq(lit("whatsapp"))
}

fn known_cost() -> Expr {
    whatsapp().and(col("cost").is_not_null())
}

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    if !ctx.pricing {
        return Ok(empty_rows());
    }
    let billed = ctx.cohort_rows(
        whatsapp().and(col("billed_messages").is_not_null()),
        col("opened_at"),
        vec![(
            "billed_messages_per_conversation",
            mean(col("billed_messages").cast(DataType::Float64)),
        )],
    );
    if ctx.config.pricing.is_none() {
        return Ok(billed);
    }
    let per_conversation = ctx.cohort_rows(
        known_cost(),
        col("opened_at"),
        vec![("cost_per_conversation", mean(col("cost")))],
    );
    let per_resolution = ctx.cohort_rows(
        known_cost().and(col("closed_at").is_not_null()),
        col("closed_at"),
        vec![("cost_per_resolution", mean(col("cost")))],
    );
    // The share is a ratio of two sums over one cohort; a group with no spend has no row.
    let share = ctx.cohort_rows(
        known_cost(),
        col("opened_at"),
        vec![(
            "trapped_cost_share",
            ratio(
                when(col("trapped")).then(col("cost")).otherwise(lit(0.0)),
                col("cost"),
            ),
        )],
    );
    Ok(concat(
        [billed, per_conversation, per_resolution, share],
        UnionArgs::default(),
    )?)
}

/// Behind an alert: the most expensive conversations (P4: the trapped ones by cost).
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    if !ctx.pricing {
        return Ok(empty_drill());
    }
    Ok(match q.metric.id() {
        "billed_messages_per_conversation" => ctx.drill_rows(
            q,
            whatsapp().and(col("billed_messages").is_not_null()),
            col("opened_at"),
            col("billed_messages").gt(lit(0u32)),
            col("billed_messages"),
            false,
        ),
        "cost_per_resolution" => ctx.drill_rows(
            q,
            known_cost().and(col("closed_at").is_not_null()),
            col("closed_at"),
            col("cost").gt(lit(0.0)),
            col("cost"),
            false,
        ),
        "trapped_cost_share" => ctx.drill_rows(
            q,
            known_cost(),
            col("opened_at"),
            col("trapped").and(col("cost").gt(lit(0.0))),
            col("cost"),
            false,
        ),
        _ => ctx.drill_rows(
            q,
            known_cost(),
            col("opened_at"),
            col("cost").gt(lit(0.0)),
            col("cost"),
            false,
        ),
    })
}

/// The per-conversation cost in SQL: the outbound visible messages at as_of with their
/// `billable` and price (the rate card inlined as `rates`; the longest market that is a prefix
/// of the customer's digits among the valid rates of the category, else `*`, then the latest
/// `valid_from`, ties to the later rate), then `billed` and `cost` per conversation. Without any
/// `billable` value in the messages there are no rows.
const SQL_TABLES: &str = r#"rates AS (
  {RATES}
),
priced_messages AS (
  SELECT m.conversation_id, m.source_row AS msg_row, {SENT} AS ts, m.billable,
         m.pricing_category,
         COALESCE(upper(trim(m.pricing_model)) = 'CBP', FALSE) AS cbp,
         f.market
  FROM messages m JOIN facts f ON f.conversation_id = m.conversation_id
  WHERE m.sender IN ('bot', 'agent') AND (m.kind IS NULL OR m.kind <> 'internal_note')
    AND {SENT} <= (SELECT t FROM params)
),
price_candidates AS (
  SELECT p.msg_row, r.rate_no, r.market, r.valid_from, r.price,
         CASE WHEN r.market <> '*' AND p.market IS NOT NULL
                   AND substr(p.market, 1, length(r.market)) = r.market
              THEN length(r.market) ELSE 0 END AS prefix_len
  FROM priced_messages p JOIN rates r
    ON r.category = p.pricing_category AND r.valid_from <= p.ts
  WHERE p.billable AND NOT p.cbp
),
price_markets AS (
  SELECT msg_row, max(prefix_len) AS best FROM price_candidates GROUP BY msg_row
),
prices AS (
  SELECT msg_row, price FROM (
    SELECT c.msg_row, c.price,
           ROW_NUMBER() OVER (PARTITION BY c.msg_row ORDER BY c.valid_from DESC, c.rate_no DESC) AS from_last
    FROM price_candidates c JOIN price_markets b ON b.msg_row = c.msg_row
    WHERE (b.best > 0 AND c.prefix_len = b.best) OR (b.best = 0 AND c.market = '*')) x
  WHERE from_last = 1
),
conversation_cost AS (
  SELECT p.conversation_id,
         max(CASE WHEN p.billable IS NULL THEN 1 ELSE 0 END) AS unknown,
         sum(CASE WHEN p.billable THEN 1 ELSE 0 END) AS billed,
         max(CASE WHEN p.cbp OR (p.billable AND x.price IS NULL) THEN 1 ELSE 0 END) AS unpriced,
         sum(CASE WHEN p.billable THEN COALESCE(x.price, 0E0) ELSE 0E0 END) AS spend
  FROM priced_messages p LEFT JOIN prices x ON x.msg_row = p.msg_row
  GROUP BY p.conversation_id
),
cost_facts AS (
  SELECT f.*,
         CASE WHEN COALESCE(c.unknown, 0) = 1 THEN NULL ELSE COALESCE(c.billed, 0) END AS billed,
         CASE WHEN COALESCE(c.unknown, 0) = 1 OR COALESCE(c.unpriced, 0) = 1 THEN NULL
              ELSE COALESCE(c.spend, 0E0) END AS cost
  FROM facts f LEFT JOIN conversation_cost c ON c.conversation_id = f.conversation_id
  WHERE f.channel = 'whatsapp' AND EXISTS (SELECT 1 FROM messages WHERE billable IS NOT NULL)
)"#;
