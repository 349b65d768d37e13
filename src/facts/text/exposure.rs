//! Per conversation the customer messages with text and the first exposure of a sensitive
//! kind; the business items (briefs, bot and agent messages) with the card numbers and CVVs
//! they carry.

use std::collections::BTreeSet;

use anyhow::Result;
use polars::prelude::*;

use super::Found;
use crate::config::Config;

/// `text_customer_messages`, `exposure_at` and `exposure_kinds` in the row order of the facts
/// `frame` (0, null and null for a conversation without text).
pub fn conversation_columns(frame: &DataFrame, conversations: &DataFrame) -> Result<Vec<Column>> {
    let keys = conversations.column("key")?.u32()?;
    let counts = conversations.column("text_customer_messages")?.u32()?;
    let at = conversations.column("exposure_at")?.i64()?;
    let kinds = conversations.column("exposure_kinds")?.str()?;
    let by_key: PlHashMap<u32, usize> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((k?, i)))
        .collect();
    let rows: Vec<Option<usize>> = frame
        .column("key")?
        .u32()?
        .iter()
        .map(|k| k.and_then(|k| by_key.get(&k).copied()))
        .collect();
    let count: Vec<u32> = rows
        .iter()
        .map(|r| r.and_then(|r| counts.get(r)).unwrap_or(0))
        .collect();
    let exposure_at: Vec<Option<i64>> = rows.iter().map(|r| r.and_then(|r| at.get(r))).collect();
    let exposure_kinds: Vec<Option<&str>> =
        rows.iter().map(|r| r.and_then(|r| kinds.get(r))).collect();
    Ok(vec![
        Column::new("text_customer_messages".into(), count),
        Column::new("exposure_at".into(), exposure_at),
        Column::new("exposure_kinds".into(), exposure_kinds),
    ])
}

/// Per conversation: customer messages with text, the first exposure and its kinds.
pub(super) fn exposure(
    config: &Config,
    found: &[Found],
    messages: &DataFrame,
) -> Result<DataFrame> {
    let mut counts: PlHashMap<u32, u32> = PlHashMap::new();
    let keys = messages.column("key")?.u32()?;
    let senders = messages.column("sender")?.str()?;
    for (key, sender) in keys.iter().zip(senders.iter()) {
        if let (Some(key), Some("customer")) = (key, sender) {
            *counts.entry(key).or_default() += 1;
        }
    }
    let sensitive = &config.text.sensitive_kinds;
    #[derive(Default)]
    struct Exposure {
        at: Option<i64>,
        kinds: BTreeSet<String>,
        masked: Vec<String>,
    }
    let mut exposures: PlHashMap<u32, Exposure> = PlHashMap::new();
    for f in found
        .iter()
        .filter(|f| f.handoff_row.is_none() && f.sender == "customer")
        .filter(|f| sensitive.contains(&f.kind))
    {
        let e = exposures.entry(f.key).or_default();
        e.at = Some(e.at.map_or(f.at, |a| a.min(f.at)));
        e.kinds.insert(f.kind.clone());
        e.masked.push(f.masked.clone());
    }
    let mut keys: Vec<u32> = counts.keys().chain(exposures.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out_count = Vec::with_capacity(keys.len());
    let mut out_at = Vec::with_capacity(keys.len());
    let mut out_kinds = Vec::with_capacity(keys.len());
    let mut out_n = Vec::with_capacity(keys.len());
    let mut out_masked = Vec::with_capacity(keys.len());
    for key in &keys {
        out_count.push(counts.get(key).copied().unwrap_or(0));
        let e = exposures.get(key);
        out_at.push(e.and_then(|e| e.at));
        out_kinds.push(e.map(|e| e.kinds.iter().cloned().collect::<Vec<_>>().join(";")));
        out_n.push(e.map_or(0, |e| e.masked.len() as u32));
        out_masked.push(e.map(|e| e.masked.join(", ")));
    }
    Ok(df!(
        "key" => keys,
        "text_customer_messages" => out_count,
        "exposure_at" => out_at,
        "exposure_kinds" => out_kinds,
        "exposure_findings" => out_n,
        "exposure_masked" => out_masked,
    )?)
}

/// The business items: handoff rows with a non-blank field and bot or agent messages with
/// text, each flagged when it carries a PAN or a CVV.
pub(super) fn items(
    found: &[Found],
    messages: &DataFrame,
    handoffs: &DataFrame,
) -> Result<DataFrame> {
    let flagged = |f: &&Found| f.kind == "pan" || f.kind == "cvv";
    let mut by_row: PlHashMap<u32, Vec<String>> = PlHashMap::new();
    let mut by_message: PlHashMap<&str, Vec<String>> = PlHashMap::new();
    for f in found.iter().filter(flagged) {
        match (f.handoff_row, &f.message_id) {
            (Some(row), _) => by_row.entry(row).or_default().push(f.masked.clone()),
            (None, Some(id)) => by_message
                .entry(id.as_str())
                .or_default()
                .push(f.masked.clone()),
            _ => {}
        }
    }
    let mut out = ItemColumns::default();
    let h_key = handoffs.column("key")?.u32()?;
    let h_at = handoffs.column("at")?.i64()?;
    let h_row = handoffs.column("row")?.u32()?;
    let h_non_blank = handoffs.column("non_blank")?.bool()?;
    for i in 0..handoffs.height() {
        if h_non_blank.get(i) != Some(true) {
            continue;
        }
        let (Some(key), Some(at), Some(row)) = (h_key.get(i), h_at.get(i), h_row.get(i)) else {
            continue;
        };
        let masked = by_row.get(&row);
        out.push(key, at, "brief", None, Some(row), masked);
    }
    let m_key = messages.column("key")?.u32()?;
    let m_id = messages.column("message_id")?.str()?;
    let m_at = messages.column("at")?.i64()?;
    let m_sender = messages.column("sender")?.str()?;
    for i in 0..messages.height() {
        let sender = match m_sender.get(i) {
            Some("bot") => "bot",
            Some("agent") => "agent",
            _ => continue,
        };
        let (Some(key), Some(at)) = (m_key.get(i), m_at.get(i)) else {
            continue;
        };
        let id = m_id.get(i);
        let masked = id.and_then(|id| by_message.get(id));
        out.push(key, at, sender, id, None, masked);
    }
    out.frame()
}

#[derive(Default)]
struct ItemColumns {
    key: Vec<u32>,
    at: Vec<i64>,
    source: Vec<&'static str>,
    message_id: Vec<Option<String>>,
    handoff_row: Vec<Option<u32>>,
    flagged: Vec<bool>,
    flagged_masked: Vec<Option<String>>,
}

impl ItemColumns {
    fn push(
        &mut self,
        key: u32,
        at: i64,
        source: &'static str,
        message_id: Option<&str>,
        handoff_row: Option<u32>,
        masked: Option<&Vec<String>>,
    ) {
        self.key.push(key);
        self.at.push(at);
        self.source.push(source);
        self.message_id.push(message_id.map(str::to_owned));
        self.handoff_row.push(handoff_row);
        self.flagged.push(masked.is_some());
        self.flagged_masked.push(masked.map(|m| m.join(", ")));
    }

    fn frame(self) -> Result<DataFrame> {
        Ok(df!(
            "key" => self.key,
            "at" => self.at,
            "source" => self.source,
            "message_id" => self.message_id,
            "handoff_row" => self.handoff_row,
            "flagged" => self.flagged,
            "flagged_masked" => self.flagged_masked,
        )?)
    }
}
