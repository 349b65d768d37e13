//! `l2lens import chatwoot`: Chatwoot webhook events (JSON Lines, bare or wrapped with
//! `received_at`) → conversations, messages, assignments, handoffs and send_failures.
//!
//! Every conversation payload, including the `conversation` inside each message payload, is a
//! snapshot of (status, team, assignee) at its event time; assignments come from diffing
//! consecutive snapshots, so a missing `conversation_status_changed` loses nothing. With
//! `split_cycles` (the default) each resolve → reopen starts a new care cycle, written as its own
//! conversation `cw:{account}:{id}#n`.

mod build;
mod payload;
mod time;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Deserialize;
use serde_json::Value;

use super::sink::{ImportProblem, OutFormat, TableSink, write_problems};
use super::{ImportSummary, columns, for_each_line};
use crate::config::Config;
use crate::ingest::file_name;
use crate::ingest::schema::Table;
use payload::{Key, Message, Snapshot};

/// `[import.chatwoot]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The account id when payloads carry none.
    pub account_id: Option<toml::Value>,
    /// Lane of the bot phase (status pending in a bot inbox); default `automation`.
    pub bot_lane: Option<String>,
    /// Team name, or `inbox:<id>`, → l2lens lane.
    #[serde(default)]
    pub lanes: BTreeMap<String, String>,
    /// A resolve → reopen starts a new conversation (default true).
    pub split_cycles: Option<bool>,
    /// `contact` (default): the Chatwoot contact id; `source_id`: the channel's id (the wa_id).
    pub customer_key: Option<String>,
    /// A path in the conversation payload, e.g. `meta.sender.custom_attributes.plan`.
    pub segment_from: Option<String>,
    /// `custom_attributes.<key>` or `label:<prefix>`.
    pub intent_from: Option<String>,
    /// Sender of outgoing messages with no sender and no automation: `bot` (default) or `agent`.
    pub outgoing_unknown_sender: Option<String>,
    /// Write activity messages as system notes (default false: skipped and counted).
    #[serde(default)]
    pub include_activity: bool,
    /// Private notes starting with `brief_marker` are handoff briefs.
    #[serde(default)]
    pub briefs_from_notes: bool,
    /// Default `#brief`.
    pub brief_marker: Option<String>,
    /// `custom_attributes.handoff_*` set on a conversation are handoff briefs.
    #[serde(default)]
    pub briefs_from_attributes: bool,
    /// A regular expression: bot messages whose content matches are fallbacks (`is_fallback`).
    /// The content itself is not stored.
    pub fallback_pattern: Option<String>,
}

impl Options {
    fn check(&self) -> Result<()> {
        if let Some(k) = &self.customer_key
            && !matches!(k.as_str(), "contact" | "source_id")
        {
            bail!(
                "[import.chatwoot] customer_key must be \"contact\" or \"source_id\", got \"{k}\""
            );
        }
        if let Some(s) = &self.outgoing_unknown_sender
            && !matches!(s.as_str(), "bot" | "agent")
        {
            bail!(
                "[import.chatwoot] outgoing_unknown_sender must be \"bot\" or \"agent\", got \"{s}\""
            );
        }
        if let Some(from) = &self.intent_from
            && !(from.starts_with("label:") || from.starts_with("custom_attributes."))
        {
            bail!(
                "[import.chatwoot] intent_from must be \"custom_attributes.<key>\" or \
                 \"label:<prefix>\", got \"{from}\""
            );
        }
        if let Some(p) = &self.fallback_pattern {
            regex::Regex::new(p)
                .map_err(|e| anyhow::anyhow!("[import.chatwoot] fallback_pattern: {e}"))?;
        }
        Ok(())
    }
}

/// Everything read from the events, per conversation.
#[derive(Default)]
struct Conversation {
    snapshots: Vec<Snapshot>,
    messages: Vec<Message>,
}

/// Where rows go.
pub struct Sinks {
    pub conversations: TableSink,
    pub messages: TableSink,
    pub assignments: TableSink,
    pub handoffs: TableSink,
    pub failures: TableSink,
}

/// Runs the import into the empty folder `dir`.
pub fn import_into(
    inputs: &[PathBuf],
    config: &Config,
    text: &std::sync::Arc<crate::ingest::text::TextPass>,
    format: OutFormat,
    dir: &Path,
) -> Result<ImportSummary> {
    let options: Options = super::section(&config.import, "chatwoot")?;
    options.check()?;
    let mut summary = ImportSummary::new("chatwoot");
    let mut problems: Vec<ImportProblem> = Vec::new();
    let mut conversations: BTreeMap<Key, Conversation> = BTreeMap::new();
    let mut status_disagreements = 0u64;
    let mut seq = 0u64;
    for path in inputs {
        let file = file_name(path);
        for_each_line(path, |number, line| {
            summary.lines_read += 1;
            seq += 1;
            let mut problem = |column: &str, value: &str, reason: &str| {
                problems.push(ImportProblem {
                    file: file.clone(),
                    row: number,
                    column: column.to_owned(),
                    value: value.to_owned(),
                    reason: reason.to_owned(),
                })
            };
            let value: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    summary.event("bad_lines");
                    summary.skip("bad_lines");
                    problem("", line, &format!("bad_json: {e}"));
                    return Ok(());
                }
            };
            let (body, received_at) = match value.get("body") {
                Some(body) if body.is_object() && value.get("event").is_none() => {
                    (body, value.get("received_at"))
                }
                _ => (&value, None),
            };
            let event = payload::text(body.get("event")).unwrap_or_default();
            let is_message = matches!(event.as_str(), "message_created" | "message_updated");
            let is_conversation = event.starts_with("conversation_");
            if !is_message && !is_conversation {
                summary.event("other_events");
                summary.skip(&format!("event:{event}"));
                return Ok(());
            }
            summary.event(&event);
            let Some(account) = payload::account(body, &options) else {
                summary.skip("no_account");
                problem(
                    "account.id",
                    "",
                    "missing_value: set [import.chatwoot] account_id",
                );
                return Ok(());
            };
            let conversation = if is_message {
                body.get("conversation")
            } else {
                Some(body)
            };
            let Some(id) = conversation.and_then(|c| payload::text(c.get("id"))) else {
                summary.skip("bad_events");
                problem("conversation.id", "", "missing_value");
                return Ok(());
            };
            let at = if is_message {
                body.get("created_at")
                    .and_then(time::parse)
                    .or_else(|| received_at.and_then(time::parse))
            } else {
                payload::conversation_time(body, received_at)
            };
            let Some(at) = at else {
                summary.skip("bad_events");
                problem("created_at", "", "bad_timestamp: no readable event time");
                return Ok(());
            };
            let entry = conversations.entry((account, id)).or_default();
            // A message_updated carries the conversation as it is at the update, not at the
            // message's creation: its snapshot needs a time of its own.
            let snapshot_at = if event == "message_updated" {
                conversation.and_then(|c| payload::conversation_time(c, received_at))
            } else {
                Some(at)
            };
            if let (Some(c), Some(at)) = (conversation, snapshot_at) {
                let snap = payload::snapshot(c, at, seq, &options);
                if event == "conversation_resolved" && snap.status.as_deref() != Some("resolved") {
                    status_disagreements += 1;
                }
                entry.snapshots.push(snap);
            }
            if is_message {
                match payload::message(body, at, seq) {
                    Some(m) => entry.messages.push(m),
                    None => {
                        summary.skip("bad_events");
                        problem(
                            "message_type",
                            &payload::text(body.get("message_type")).unwrap_or_default(),
                            "unknown_value",
                        );
                    }
                }
            } else {
                summary.skip("conversation_snapshots");
            }
            Ok(())
        })?;
    }
    let mut sinks = Sinks {
        conversations: TableSink::create(
            dir,
            "conversations",
            &columns(
                Table::Conversations,
                &["source_conversation_id", "inbox_id"],
            ),
        )?,
        messages: TableSink::create(
            dir,
            "messages",
            &columns(Table::Messages, &["source_id", "author_id"]),
        )?
        .with_text(text),
        assignments: TableSink::create(dir, "assignments", &columns(Table::Assignments, &[]))?,
        handoffs: TableSink::create(dir, "handoffs", &columns(Table::Handoffs, &[]))?
            .with_text(text),
        failures: TableSink::create(dir, "send_failures", &columns(Table::SendFailures, &[]))?,
    };
    let fallback = options
        .fallback_pattern
        .as_deref()
        .map(regex::Regex::new)
        .transpose()?;
    let mut builder = build::Builder {
        options: &options,
        config,
        fallback,
        sinks: &mut sinks,
        summary: &mut summary,
        bot_ids: HashMap::new(),
    };
    for (key, conversation) in conversations {
        builder.conversation(&key, conversation.snapshots, conversation.messages)?;
    }
    let Sinks {
        conversations,
        messages,
        assignments,
        handoffs,
        failures,
    } = sinks;
    summary
        .written
        .insert("messages".into(), messages.finish(format)?);
    summary
        .written
        .insert("send_failures".into(), failures.finish(format)?);
    summary
        .derived
        .insert("conversations".into(), conversations.finish(format)?);
    summary
        .derived
        .insert("assignments".into(), assignments.finish(format)?);
    summary
        .derived
        .insert("handoffs".into(), handoffs.finish(format)?);
    if let Some(n) = summary.skipped.get("no_account") {
        summary.warnings.push(format!(
            "{n} event(s) carried no account id and were left out; set [import.chatwoot] \
             account_id"
        ));
    }
    if status_disagreements > 0 {
        summary.warnings.push(format!(
            "{status_disagreements} conversation_resolved event(s) carried another status; the \
             status of the payload was trusted"
        ));
    }
    write_problems(dir, &problems)?;
    Ok(summary)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
