//! Card numbers and IBANs in the chat (text.md section 5 c).
//!
//! - **`sensitive_exposure_rate`:** share of conversations whose customer wrote a card number
//!   or IBAN (the kinds of `[text] sensitive_kinds`). Cohort: conversations with at least one
//!   customer message with text, at `opened_at`. E-mail and phone are not exposures.
//! - **`sensitive_in_brief`:** the number of business items (briefs, bot and agent messages)
//!   carrying a card number or a CVV (PCI DSS 4.2.2, 3.3.1.2), whatever `sensitive_kinds`
//!   says; `n` counts the items: handoff rows with a non-blank field at `handoff_at`, bot and
//!   agent messages with text at `sent_at`.
//! - **Nulls:** without message text the first has no rows; the second counts the briefs.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Unit, empty_drill, empty_rows, mean, sum,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Text,
    metrics: &[
        MetricInfo {
            id: "sensitive_exposure_rate",
            name: "Conversations with a card number or IBAN from the customer",
            definition: "share of conversations whose customer wrote a card number or IBAN in the chat (the kinds of [text] sensitive_kinds)",
            cohort: "conversations with customer text, by opened_at",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Above(0.01)), None),
            sql: Sql::Rows {
                from: "exposure_checks",
                filter: "TRUE",
                time: SqlTime::Instant("opened_at"),
                value: SqlValue::Share("exposed"),
            },
        },
        MetricInfo {
            id: "sensitive_in_brief",
            name: "Briefs and replies carrying a card number",
            definition: "number of briefs, bot and agent messages carrying a card number or CVV; n counts them all",
            cohort: "handoff briefs with a non-blank field and bot or agent messages with text, by their time",
            unit: Unit::Count,
            alert: Alert::new(None, Some(Condition::Above(0.0))),
            sql: Sql::Rows {
                from: "item_checks",
                filter: "TRUE",
                time: SqlTime::Instant("item_at"),
                value: SqlValue::Sum("flagged"),
            },
        },
    ],
    needs: &[],
    sql_tables: &[super::repetition::TEXT_FOUND, SQL_TABLES],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(text) = &ctx.text else {
        return Ok(empty_rows());
    };
    let mut parts = vec![ctx.event_rows(
        text.items.clone(),
        vec![("sensitive_in_brief", sum(col("flagged")))],
    )];
    if text.has_text {
        parts.push(ctx.cohort_rows(
            col("text_customer_messages").gt(lit(0u32)),
            col("opened_at"),
            vec![(
                "sensitive_exposure_rate",
                mean(col("exposure_at").is_not_null()),
            )],
        ));
    }
    Ok(concat(parts, UnionArgs::default())?)
}

/// Behind an alert: exposed conversations by number of sensitive findings, then exposure time,
/// with the kinds and masked forms; the flagged items with their source and masked forms.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(text) = &ctx.text else {
        return Ok(empty_drill());
    };
    if q.metric.id() == "sensitive_exposure_rate" {
        if !text.has_text {
            return Ok(empty_drill());
        }
        let exposed = text.exposed.clone();
        return Ok(ctx.event_drill(
            exposed,
            q,
            col("exposure_at").is_not_null(),
            col("exposure_findings").cast(DataType::Float64) * lit(1e15)
                - col("exposure_at").cast(DataType::Float64),
            concat_str([col("exposure_masked")], "", true),
        ));
    }
    Ok(ctx.event_drill(
        text.items.clone(),
        q,
        col("flagged"),
        lit(0.0),
        concat_str(
            [
                col("source"),
                lit(" "),
                coalesce(&[
                    col("message_id"),
                    concat_str(
                        [lit("row "), col("handoff_row").cast(DataType::String)],
                        "",
                        true,
                    ),
                ]),
                lit(": "),
                col("flagged_masked"),
            ],
            "",
            true,
        ),
    ))
}

/// Conversations with customer text (`text_chars`) and whether their customer sent a finding of
/// a sensitive kind; the business items (briefs with a non-blank field, bot and agent messages
/// with text) and whether they carry a card number or CVV.
const SQL_TABLES: &str = r#"exposure_checks AS (
  SELECT f.*, CASE WHEN x.conversation_id IS NOT NULL THEN TRUE ELSE FALSE END AS exposed
  FROM facts f
  JOIN (SELECT m.conversation_id FROM messages m
        WHERE m.sender = 'customer' AND m.text_chars IS NOT NULL AND {SENT} <= (SELECT t FROM params)
        GROUP BY m.conversation_id) tc ON tc.conversation_id = f.conversation_id
  LEFT JOIN (SELECT DISTINCT conversation_id FROM text_found
             WHERE source = 'message' AND sender = 'customer'
               AND kind IN ({SENSITIVE_KINDS})) x ON x.conversation_id = f.conversation_id
),
text_items AS (
  SELECT h.conversation_id, {HANDOFF} AS item_at,
         CASE WHEN p.handoff_row IS NOT NULL THEN 1E0 ELSE 0E0 END AS flagged
  FROM handoffs h
  LEFT JOIN (SELECT DISTINCT handoff_row FROM text_found
             WHERE source = 'handoff' AND kind IN ('pan', 'cvv')) p ON p.handoff_row = h.source_row
  WHERE {HANDOFF} <= (SELECT t FROM params)
    AND (length(trim(h.intent)) > 0 OR length(trim(h.key_details)) > 0
      OR length(trim(h.attempted_steps)) > 0 OR length(trim(h.current_status)) > 0
      OR length(trim(h.next_action)) > 0)
  UNION ALL
  SELECT m.conversation_id, {SENT} AS item_at,
         CASE WHEN p.message_id IS NOT NULL THEN 1E0 ELSE 0E0 END AS flagged
  FROM messages m
  LEFT JOIN (SELECT DISTINCT message_id FROM text_found
             WHERE source = 'message' AND kind IN ('pan', 'cvv')) p ON p.message_id = m.message_id
  WHERE {SENT} <= (SELECT t FROM params) AND m.sender IN ('bot', 'agent')
    AND m.text_chars IS NOT NULL
),
item_checks AS (
  SELECT f.*, i.item_at, i.flagged
  FROM text_items i JOIN facts f ON f.conversation_id = i.conversation_id
)"#;
