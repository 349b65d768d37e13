//! The board as files: CSV with empty cells for nulls, and a typed frame for Parquet, JSON and
//! SQL; the SLA columns follow `due_at` when the board has them.

use anyhow::Result;
use polars::prelude::*;

use super::{BoardRow, COLUMNS, SLA_COLUMNS};
use crate::ingest::schema::timestamp_dtype;
use crate::time::format_rfc3339;

/// An instant as the board writes it: `2026-11-24T09:00:00.000Z`.
pub fn instant_text(ms: i64) -> String {
    let text = format_rfc3339(ms);
    // format_rfc3339 leaves out a zero fraction; the board always shows milliseconds.
    if text.len() == 20 {
        format!("{}.000Z", &text[..19])
    } else {
        text
    }
}

/// The board as CSV: empty cells for nulls, flags `;`-joined.
pub fn to_csv(rows: &[BoardRow]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let with_sla = rows.first().is_some_and(|r| r.sla.is_some());
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if with_sla {
        let at = header
            .iter()
            .position(|c| *c == "due_at")
            .expect("a due_at column")
            + 1;
        header.splice(at..at, SLA_COLUMNS.iter().copied());
    }
    w.write_record(&header)?;
    let t = |v: Option<i64>| v.map(instant_text).unwrap_or_default();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    for r in rows {
        w.write_record(
            [
                r.conversation_id.clone(),
                s(&r.channel),
                s(&r.segment),
                s(&r.intent),
                r.lane.clone(),
                s(&r.owner),
                t(r.owner_since),
                s(&r.next_action),
                t(r.last_customer_at),
                t(r.window_closes_at),
                t(r.last_agent_at),
                t(r.next_update_due),
                t(r.due_at),
            ]
            .into_iter()
            .chain(
                r.sla
                    .iter()
                    .flat_map(|(due, breached)| [t(*due), breached.join(";")]),
            )
            .chain([r.flags.join(";")]),
        )?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// The board as a typed frame (timestamps in UTC), for Parquet, JSON and SQL.
pub fn to_frame(rows: &[BoardRow]) -> Result<DataFrame> {
    let text = |f: fn(&BoardRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let at = |f: fn(&BoardRow) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
    let frame = df!(
        "conversation_id" => rows.iter().map(|r| r.conversation_id.clone()).collect::<Vec<_>>(),
        "channel" => text(|r| r.channel.clone()),
        "segment" => text(|r| r.segment.clone()),
        "intent" => text(|r| r.intent.clone()),
        "lane" => rows.iter().map(|r| r.lane.clone()).collect::<Vec<_>>(),
        "owner" => text(|r| r.owner.clone()),
        "owner_since" => at(|r| r.owner_since),
        "next_action" => text(|r| r.next_action.clone()),
        "last_customer_at" => at(|r| r.last_customer_at),
        "window_closes_at" => at(|r| r.window_closes_at),
        "last_agent_at" => at(|r| r.last_agent_at),
        "next_update_due" => at(|r| r.next_update_due),
        "due_at" => at(|r| r.due_at),
        "flags" => rows.iter().map(|r| r.flags.join(";")).collect::<Vec<_>>(),
    )?;
    let mut frame = frame;
    if rows.first().is_some_and(|r| r.sla.is_some()) {
        let at = frame.get_column_index("flags").expect("a flags column");
        frame.insert_column(
            at,
            Column::new(
                "sla_breached".into(),
                rows.iter()
                    .map(|r| r.sla.as_ref().map(|(_, b)| b.join(";")))
                    .collect::<Vec<_>>(),
            ),
        )?;
        frame.insert_column(
            at,
            Column::new(
                "sla_due_at".into(),
                rows.iter()
                    .map(|r| r.sla.as_ref().and_then(|(d, _)| *d))
                    .collect::<Vec<_>>(),
            ),
        )?;
    }
    let instants = [
        "owner_since",
        "last_customer_at",
        "window_closes_at",
        "last_agent_at",
        "next_update_due",
        "due_at",
        "^sla_due_at$",
    ];
    Ok(frame
        .lazy()
        .with_columns(
            instants
                .iter()
                .map(|c| col(*c).cast(timestamp_dtype()))
                .collect::<Vec<_>>(),
        )
        .collect()?)
}
