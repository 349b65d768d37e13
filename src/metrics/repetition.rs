//! Did the context survive the handoff? Repeated identifiers, brief recall and placeholder
//! briefs (text.md section 5 a and b), per specialist entry.
//!
//! - **`repeat_identifier_rate`:** share of specialist entries after which the customer gave
//!   again an identifier (e-mail, phone, a configured kind, compared by keyed token) given
//!   before the entry: within `repeat_window_s`, before the next entry, the close and `as_of`.
//!   Cohort: entries with an identifier before them whose outcome is determined (repeated,
//!   a later entry, closed, or the window over), at the entry.
//! - **`brief_recall_mean`:** mean share of those earlier identifiers found in the entry's
//!   brief. Cohort: entries with a brief and an identifier before them, at the entry.
//! - **`brief_placeholder_rate`:** share of briefed entries whose intent, attempted steps or
//!   current status is a placeholder (`n/a`, `see chat`, …). Cohort: entries with a brief.
//! - **Nulls:** without message text, or without a key (no tokens), the first two have no
//!   rows; the third needs only the briefs.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Alert, Condition, DrillQuery, Family, Frames, MetricInfo, MetricSet, Sql, SqlTime, SqlValue,
    Table, Unit, empty_drill, empty_rows, mean,
};

pub const FAMILY: Family = Family {
    set: MetricSet::Text,
    metrics: &[
        MetricInfo {
            id: "repeat_identifier_rate",
            name: "Customers repeating an identifier after the handoff",
            definition: "share of specialist entries after which the customer repeated an identifier (order, e-mail, phone) given before it",
            cohort: "specialist entries with an identifier before them, outcome known, by entry time",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Above(0.10)), None),
            sql: Sql::Rows {
                from: "text_entry_checks",
                filter: "repeated IS NOT NULL",
                time: SqlTime::Instant("entry_at"),
                value: SqlValue::Share("repeated"),
            },
        },
        MetricInfo {
            id: "brief_recall_mean",
            name: "Identifiers carried by the brief",
            definition: "mean share of the identifiers the customer gave before a specialist entry that its brief carries",
            cohort: "specialist entries with a brief and an identifier before them, by entry time",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Below(0.90)), Some(Condition::Below(0.50))),
            sql: Sql::Rows {
                from: "text_entry_checks",
                filter: "recall IS NOT NULL",
                time: SqlTime::Instant("entry_at"),
                value: SqlValue::Mean("recall"),
            },
        },
        MetricInfo {
            id: "brief_placeholder_rate",
            name: "Briefs with placeholder fields",
            definition: "share of briefed specialist entries whose intent, attempted steps or current status is a placeholder (n/a, see chat, ...)",
            cohort: "specialist entries with a brief, by entry time",
            unit: Unit::Rate,
            alert: Alert::new(Some(Condition::Above(0.05)), Some(Condition::Above(0.20))),
            sql: Sql::Rows {
                from: "text_entry_checks",
                filter: "placeholder_n IS NOT NULL",
                time: SqlTime::Instant("entry_at"),
                value: SqlValue::Share("placeholder_n > 0"),
            },
        },
    ],
    needs: &[Table::Handoffs],
    sql_tables: &[super::brief_missing::ENTRY_TABLES, TEXT_FOUND, SQL_TABLES],
    rows,
    drill,
};

fn rows(ctx: &Frames<'_>) -> Result<LazyFrame> {
    let Some(text) = &ctx.text else {
        return Ok(empty_rows());
    };
    let entries = text.entries.clone();
    let mut parts = vec![
        ctx.event_rows(
            entries
                .clone()
                .filter(col("brief_state").neq(lit("missing"))),
            vec![(
                "brief_placeholder_rate",
                mean(col("placeholder_n").gt(lit(0u32))),
            )],
        ),
    ];
    if text.has_text {
        parts.push(ctx.event_rows(
            entries.clone().filter(col("repeated").is_not_null()),
            vec![("repeat_identifier_rate", mean(col("repeated")))],
        ));
        parts.push(ctx.event_rows(
            entries.filter(col("recall").is_not_null()),
            vec![("brief_recall_mean", mean(col("recall")))],
        ));
    }
    Ok(concat(parts, UnionArgs::default())?)
}

/// Behind an alert (kinds and counts only, never text or tokens): repeated entries by
/// repeated pairs, then the wait to the first repeat; entries by recall (lowest first), then
/// missed pairs; entries by placeholder fields.
fn drill(ctx: &Frames<'_>, q: &DrillQuery) -> Result<LazyFrame> {
    let Some(text) = &ctx.text else {
        return Ok(empty_drill());
    };
    let entries = text.entries.clone();
    let lane = |detail: Expr| concat_str([col("entry_lane"), lit(": "), detail], "", true);
    Ok(match q.metric.id() {
        "repeat_identifier_rate" => ctx.event_drill(
            entries,
            q,
            col("repeated").fill_null(lit(false)),
            // More pairs first, then the quicker repeat.
            col("repeated_pairs").cast(DataType::Float64) * lit(1e12)
                - col("repeat_wait_ms").cast(DataType::Float64),
            lane(concat_str(
                [lit("repeated "), col("repeated_kinds")],
                "",
                true,
            )),
        ),
        "brief_recall_mean" => ctx.event_drill(
            entries,
            q,
            col("recall").lt(lit(1.0)).fill_null(lit(false)),
            // Lower recall first, then more missed pairs.
            (lit(1.0) - col("recall")) * lit(1e6) + col("missed_n").cast(DataType::Float64),
            lane(concat_str(
                [
                    lit("recall "),
                    (col("recall") * lit(100.0))
                        .round(0, RoundMode::default())
                        .cast(DataType::Int64)
                        .cast(DataType::String),
                    lit(" %, missed "),
                    col("missed_kinds"),
                ],
                "",
                true,
            )),
        ),
        _ => ctx.event_drill(
            entries,
            q,
            col("placeholder_n").gt(lit(0u32)).fill_null(lit(false)),
            col("placeholder_n"),
            lane(concat_str(
                [lit("placeholder "), col("placeholder_fields")],
                "",
                true,
            )),
        ),
    })
}

/// The findings of message text at or before `as_of` (the table `text_findings` that ingest
/// writes), and the customers' (kind, token) pairs. Read by the exposure metrics too.
pub const TEXT_FOUND: &str = r#"text_found AS (
  SELECT tf.conversation_id, {FOUND_AT} AS ts, tf.source, tf.message_id, tf.handoff_row,
         tf.sender, tf.kind, tf.token
  FROM text_findings tf
  WHERE {FOUND_AT} <= (SELECT t FROM params)
),
customer_pairs AS (
  SELECT conversation_id, ts, kind, token FROM text_found
  WHERE source = 'message' AND sender = 'customer' AND token IS NOT NULL
)"#;

/// Per specialist entry: the pairs given before it, those repeated in its window (before the
/// next entry strictly later, the close, the repeat window and as_of), the brief's recall of
/// them and its placeholder fields.
const SQL_TABLES: &str = r#"text_entries AS (
  SELECT s.conversation_id, s.ts AS entry_at, s.source_row AS entry_row, s.lane AS entry_lane,
         b.brief_row,
         LEAD(s.ts) OVER (PARTITION BY s.conversation_id ORDER BY s.ts, s.source_row) IS NOT NULL AS has_next
  FROM stays s LEFT JOIN entry_briefs b ON b.entry_row = s.source_row
  WHERE s.tier >= 2
),
text_next AS (
  SELECT a.entry_row, min(b.entry_at) AS next_entry_at
  FROM text_entries a JOIN text_entries b
    ON b.conversation_id = a.conversation_id AND b.entry_at > a.entry_at
  GROUP BY a.entry_row
),
entry_before AS (
  SELECT DISTINCT e.entry_row, p.kind, p.token
  FROM text_entries e JOIN customer_pairs p
    ON p.conversation_id = e.conversation_id AND p.ts < e.entry_at
),
entry_repeats AS (
  SELECT b.entry_row, count(DISTINCT p.kind || ':' || p.token) AS repeated_pairs
  FROM text_entries e
  JOIN conv f ON f.conversation_id = e.conversation_id
  LEFT JOIN text_next n ON n.entry_row = e.entry_row
  JOIN entry_before b ON b.entry_row = e.entry_row
  JOIN customer_pairs p
    ON p.conversation_id = e.conversation_id AND p.kind = b.kind AND p.token = b.token
   AND p.ts >= e.entry_at AND (n.next_entry_at IS NULL OR p.ts < n.next_entry_at)
   AND (f.closed_at IS NULL OR p.ts <= f.closed_at)
   AND p.ts <= e.entry_at + {REPEAT_WINDOW_MS}
  GROUP BY b.entry_row
),
brief_pairs AS (
  SELECT DISTINCT handoff_row, kind, token FROM text_found
  WHERE source = 'handoff' AND token IS NOT NULL
),
entry_recall AS (
  SELECT b.entry_row, count(*) AS before_n,
         sum(CASE WHEN bp.handoff_row IS NOT NULL THEN 1 ELSE 0 END) AS recalled
  FROM entry_before b
  JOIN text_entries e ON e.entry_row = b.entry_row
  LEFT JOIN brief_pairs bp
    ON bp.handoff_row = e.brief_row AND bp.kind = b.kind AND bp.token = b.token
  GROUP BY b.entry_row
),
entry_placeholders AS (
  SELECT h.source_row AS brief_row, {PLACEHOLDER_N} AS placeholder_n
  FROM handoffs h
),
text_entry_checks AS (
  SELECT f.*, e.entry_at, e.entry_lane,
         CASE WHEN COALESCE(r.before_n, 0) = 0 THEN NULL
              WHEN COALESCE(rep.repeated_pairs, 0) > 0 THEN TRUE
              WHEN e.has_next OR f.closed_at IS NOT NULL
                OR e.entry_at + {REPEAT_WINDOW_MS} <= (SELECT t FROM params) THEN FALSE
         END AS repeated,
         CASE WHEN e.brief_row IS NOT NULL AND COALESCE(r.before_n, 0) > 0
              THEN r.recalled * 1E0 / r.before_n END AS recall,
         CASE WHEN e.brief_row IS NOT NULL THEN COALESCE(ph.placeholder_n, 0) END AS placeholder_n
  FROM text_entries e
  JOIN facts f ON f.conversation_id = e.conversation_id
  LEFT JOIN entry_recall r ON r.entry_row = e.entry_row
  LEFT JOIN entry_repeats rep ON rep.entry_row = e.entry_row
  LEFT JOIN entry_placeholders ph ON ph.brief_row = e.brief_row
)"#;
