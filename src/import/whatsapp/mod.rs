//! `l2lens import whatsapp`: WhatsApp Business Cloud API webhook bodies (JSON Lines, bare or
//! wrapped with `received_at`) → conversations, messages, send_failures and templates.
//!
//! The import streams: each body is read once; a customer's events wait in memory only while
//! their thread may still change. A thread is written once it is closed and no event can reach
//! it any more: `lateness_hours` after the close rule is met, counted on the latest event time
//! seen. An event later than that is not merged into a written thread: a status of a message
//! already written is counted as `late_statuses`, anything else as `late_events` (quarantined),
//! never silently. Memory is the open threads' events plus a 64-bit fingerprint per written message id (the
//! de-duplication of ids across threads and of late statuses).

mod calls;
mod events;
mod identities;
pub mod payload;
mod read;
mod side;
mod threads;
mod writer;

use side::{read_customers, read_outbound};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Deserialize;

use super::sink::{ImportProblem, OutFormat, TableSink, write_problems};
use super::{ImportSummary, columns, for_each_line};
use crate::ingest::schema::Table;
use crate::time::format_rfc3339;
use events::{Body, Event};
use identities::Identities;
use threads::{KeyState, hours_ms};

/// The extra message columns, after the canonical ones.
const MESSAGE_EXTRAS: &[&str] = &[
    "agent_id",
    "reply_to",
    "forwarded",
    "referral_source_type",
    "wa_type",
    "delivered_at",
    "read_at",
    "pricing_category",
    "pricing_type",
    "wa_conversation_id",
    "wa_origin",
    "wa_expires_at",
    "billable",
    "pricing_model",
    "wa_echo",
    "call_permission",
    "call_permission_expires_at",
];

/// `[import.whatsapp]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Hours without a visible message after the business's last word that close a thread (24).
    pub idle_close_hours: Option<f64>,
    /// Hours an event may arrive after later events and still be placed exactly (24).
    pub lateness_hours: Option<f64>,
    /// Sender of outbound messages with no side log entry and no tracker: `agent` or `bot`.
    pub outbound_sender: Option<String>,
    /// Store a hash of the customer's WhatsApp id instead of the id.
    #[serde(default)]
    pub hash_customer_ids: bool,
    /// `name` (default) or `name_language`: how templates are named.
    pub template_key: Option<String>,
    /// Reply id of a button or list row → intent.
    #[serde(default)]
    pub reply_intents: BTreeMap<String, String>,
}

impl Options {
    fn check(&self) -> Result<()> {
        for (key, value) in [
            ("idle_close_hours", self.idle_close_hours),
            ("lateness_hours", self.lateness_hours),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                bail!("[import.whatsapp] {key} must be a number of hours ≥ 0, got {v}");
            }
        }
        if let Some(s) = &self.outbound_sender
            && !matches!(s.as_str(), "agent" | "bot")
        {
            bail!("[import.whatsapp] outbound_sender must be \"agent\" or \"bot\", got \"{s}\"");
        }
        if let Some(k) = &self.template_key
            && !matches!(k.as_str(), "name" | "name_language")
        {
            bail!(
                "[import.whatsapp] template_key must be \"name\" or \"name_language\", got \"{k}\""
            );
        }
        Ok(())
    }

    pub fn idle_ms(&self) -> i64 {
        hours_ms(self.idle_close_hours.unwrap_or(24.0))
    }

    fn lateness_ms(&self) -> i64 {
        hours_ms(self.lateness_hours.unwrap_or(24.0))
    }

    fn default_sender(&self) -> &'static str {
        match self.outbound_sender.as_deref() {
            Some("bot") => "bot",
            _ => "agent",
        }
    }

    pub fn intent(&self, reply_id: &str) -> Option<&str> {
        self.reply_intents.get(reply_id).map(String::as_str)
    }
}

/// What `l2lens import whatsapp` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    pub inputs: Vec<PathBuf>,
    pub outbound: Option<PathBuf>,
    pub customers: Option<PathBuf>,
    /// The export's as_of (default: the latest event time).
    pub as_of: Option<i64>,
    pub format: OutFormat,
    pub options: Options,
    /// `[text]` and the key: what is written of message text, and the key of
    /// `hash_customer_ids`.
    pub text: std::sync::Arc<crate::ingest::text::TextPass>,
}

/// One row of the sending system's own log (`--outbound`).
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    pub sender: Option<&'static str>,
    pub agent: Option<String>,
    pub template: Option<String>,
}

/// Everything rows are written through.
pub struct Writer {
    /// The HMAC key of `hash_customer_ids` (required by it).
    key: Option<crate::text::Key>,
    /// What is written of message text.
    text: std::sync::Arc<crate::ingest::text::TextPass>,
    pub options: Options,
    pub summary: ImportSummary,
    pub conversations: TableSink,
    pub messages: TableSink,
    pub failures: TableSink,
    pub templates: TableSink,
    pub calls: TableSink,
    /// Calls that could not join a thread (`call_without_thread`), for the import quarantine.
    pub call_problems: Vec<ImportProblem>,
    /// Portfolio-level ids (`parent_user_id`) by the id they came with.
    pub parents: HashMap<String, String>,
    pub unknown_senders: u64,
    outbound: HashMap<String, Outbound>,
    customers: HashMap<String, String>,
    written_ids: HashSet<u64>,
}

fn fingerprint(id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

struct Importer {
    writer: Writer,
    keys: HashMap<(String, String), KeyState>,
    identities: Identities,
    problems: Vec<ImportProblem>,
    watermark: i64,
    since_sweep: u64,
}

const SWEEP_EVERY: u64 = 50_000;

/// Runs the import into the folder `dir` (already empty); returns the summary.
pub fn import_into(request: &Request, dir: &Path) -> Result<ImportSummary> {
    request.options.check()?;
    let key = match (&request.text.key, request.options.hash_customer_ids) {
        (None, true) => bail!(
            "[import.whatsapp] hash_customer_ids needs a key: set {} (named by [text] key_env) \
             to a random key of at least {} bytes, e.g. `openssl rand -hex 32`",
            request.text.key_env,
            crate::text::MIN_KEY_BYTES
        ),
        (key, _) => key.clone(),
    };
    let writer = Writer {
        key,
        text: request.text.clone(),
        options: request.options.clone(),
        summary: ImportSummary::new("whatsapp"),
        conversations: TableSink::create(
            dir,
            "conversations",
            &columns(
                Table::Conversations,
                &[
                    "phone_number_id",
                    "entry_point",
                    "reopens",
                    "customer_id_kind",
                    "market",
                    "parent_user_id",
                ],
            ),
        )?,
        messages: TableSink::create(dir, "messages", &columns(Table::Messages, MESSAGE_EXTRAS))?
            .with_text(&request.text),
        failures: TableSink::create(dir, "send_failures", &columns(Table::SendFailures, &[]))?,
        templates: TableSink::create(
            dir,
            "templates",
            &columns(Table::Templates, &["reason", "category", "language"]),
        )?,
        calls: TableSink::create(
            dir,
            "calls",
            &columns(Table::Calls, &["terminate_status", "phone_number_id"]),
        )?,
        call_problems: Vec::new(),
        parents: HashMap::new(),
        unknown_senders: 0,
        outbound: match &request.outbound {
            Some(path) => read_outbound(path)?,
            None => HashMap::new(),
        },
        customers: match &request.customers {
            Some(path) => read_customers(path)?,
            None => HashMap::new(),
        },
        written_ids: HashSet::new(),
    };
    let mut importer = Importer {
        writer,
        keys: HashMap::new(),
        identities: Identities::default(),
        problems: Vec::new(),
        watermark: i64::MIN,
        since_sweep: 0,
    };
    for path in &request.inputs {
        let file = crate::ingest::file_name(path);
        for_each_line(path, |number, line| importer.line(&file, number, line))?;
    }
    let as_of = request.as_of.unwrap_or(importer.watermark);
    importer.finish(as_of)?;
    let Importer {
        writer,
        mut problems,
        identities,
        ..
    } = importer;
    let Writer {
        mut summary,
        conversations,
        messages,
        failures,
        templates,
        calls,
        call_problems,
        unknown_senders,
        key,
        options,
        ..
    } = writer;
    problems.extend(call_problems);
    // The identities joined, as alias rows (hashed as the conversations' ids are).
    let mut aliases = TableSink::create(
        dir,
        "customer_aliases",
        &columns(Table::CustomerAliases, &[]),
    )?;
    let hash = |id: &str| match (&key, options.hash_customer_ids) {
        (Some(key), true) => key.customer_hash(id),
        _ => id.to_owned(),
    };
    for (alias, root, valid_from) in identities.aliases() {
        let valid_from = valid_from.map(format_rfc3339);
        aliases.row(&[
            Some(&hash(&alias)),
            Some(&hash(&root)),
            valid_from.as_deref(),
        ])?;
    }
    let format = request.format;
    for (name, sink) in [
        ("conversations", conversations),
        ("customer_aliases", aliases),
        ("messages", messages),
        ("send_failures", failures),
        ("templates", templates),
        ("calls", calls),
    ] {
        let rows = sink.finish(format)?;
        // Conversations and aliases are built from events, not read: they are not part of the
        // balance.
        if name == "conversations" || name == "customer_aliases" {
            summary.derived.insert(name.to_owned(), rows);
        } else {
            summary.written.insert(name.to_owned(), rows);
        }
    }
    if unknown_senders > 0 {
        summary.warnings.push(format!(
            "{unknown_senders} outbound message(s) had no sender in --outbound or in \
             biz_opaque_callback_data; counted as {}",
            request.options.default_sender()
        ));
    }
    let late = summary.skipped.get("late_events").copied().unwrap_or(0);
    if late > 0 {
        summary.warnings.push(format!(
            "{late} event(s) arrived more than lateness_hours after later events and after \
             their thread was written; they are in {}",
            super::sink::QUARANTINE_FILE
        ));
    }
    // Webhooks carry no routing: an empty assignments table keeps the directory complete
    // (time to specialist, misroutes and transfers have no rows).
    TableSink::create(dir, "assignments", &columns(Table::Assignments, &[]))?.finish(format)?;
    write_problems(dir, &problems)?;
    Ok(summary)
}

impl Importer {
    fn problem(&mut self, file: &str, row: u64, column: &str, value: &str, reason: &str) {
        self.problems.push(ImportProblem {
            file: file.to_owned(),
            row,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        });
    }

    fn line(&mut self, file: &str, number: u64, text: &str) -> Result<()> {
        self.writer.summary.lines_read += 1;
        let parsed: payload::Line = match serde_json::from_str(text) {
            Ok(line) => line,
            Err(e) => {
                self.writer.summary.event("bad_lines");
                self.writer.summary.skip("bad_lines");
                self.problem(file, number, "", text, &format!("bad_json: {e}"));
                return Ok(());
            }
        };
        let body = match parsed.body {
            Some(body) => *body,
            None => parsed,
        };
        let mut position = 0u64;
        for entry in body.entry {
            let entry_time = entry.time;
            for change in entry.changes {
                let field = change.field.unwrap_or_default();
                match field.as_str() {
                    "messages" | "smb_message_echoes" | "calls" => {
                        self.value(file, number, &mut position, change.value)?;
                    }
                    "message_template_status_update" => {
                        self.template(file, number, entry_time.as_deref(), &change.value)?;
                    }
                    other => {
                        self.writer.summary.event("other_fields");
                        self.writer.summary.skip(&format!("field:{other}"));
                    }
                }
            }
        }
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.sweep()?;
        }
        Ok(())
    }

    /// Joins two ids of one customer; with `since`, only the absorbed identity's buffered
    /// events at or after it move (a number change links events from the change on).
    fn join(&mut self, a: &str, b: &str, since: Option<i64>) {
        let Some((absorbed, root)) = self.identities.join(a, b) else {
            return;
        };
        // Move buffered events of the absorbed identity to the surviving one.
        let mut moved: Vec<(String, String)> = self
            .keys
            .keys()
            .filter(|(_, c)| *c == absorbed)
            .cloned()
            .collect();
        moved.sort();
        for key in moved {
            let Some(mut state) = self.keys.remove(&key) else {
                continue;
            };
            let before: Vec<events::Event> = match since {
                Some(t) => {
                    let (before, after) = std::mem::take(&mut state.events)
                        .into_iter()
                        .partition(|e| e.at < t);
                    state.events = after;
                    before
                }
                None => Vec::new(),
            };
            let target = self.keys.entry((key.0.clone(), root.clone())).or_default();
            target.events.extend(state.events);
            target.dirty = true;
            if target.written.is_none() {
                target.written = state.written;
            }
            if !before.is_empty() {
                let stays = self.keys.entry(key).or_default();
                stays.events.extend(before);
                stays.dirty = true;
            }
        }
    }

    fn push(&mut self, phone: &str, customer: &str, event: Event, file: &str) -> Result<()> {
        self.watermark = self.watermark.max(event.at);
        self.since_sweep += 1;
        if let Body::Status(s) = &event.body
            && self.writer.written_ids.contains(&fingerprint(&s.id))
        {
            self.writer.summary.skip("late_statuses");
            return Ok(());
        }
        let key = (phone.to_owned(), customer.to_owned());
        let state = self.keys.entry(key).or_default();
        if let Some(written) = &state.written
            && event.at < written.horizon
        {
            let line = event.line;
            let id = event.id().to_owned();
            self.writer.summary.skip("late_events");
            self.problem(
                file,
                line,
                "timestamp",
                &id,
                "late_event: arrived after its thread was written",
            );
            return Ok(());
        }
        state.events.push(event);
        state.dirty = true;
        Ok(())
    }

    /// Writes the threads that can no longer change, and forgets keys with nothing pending.
    fn sweep(&mut self) -> Result<()> {
        let lateness = self.writer.options.lateness_ms();
        let idle = self.writer.options.idle_ms();
        let limit = self.watermark.saturating_sub(lateness);
        let mut due: Vec<(String, String)> = self
            .keys
            .iter()
            .filter(|(_, s)| {
                // The cheap test first: nothing new and no close due means nothing to write.
                (s.dirty || s.closes_at.is_some_and(|c| c <= limit))
                    && s.events
                        .iter()
                        .map(|e| e.at)
                        .min()
                        .is_some_and(|o| o.saturating_add(idle) <= limit)
            })
            .map(|(k, _)| k.clone())
            .collect();
        due.sort();
        for key in due {
            let state = self.keys.get_mut(&key).expect("a due key");
            threads::flush(&key, state, limit, false, &mut self.writer)?;
        }
        // A key with nothing buffered whose written thread is beyond the lateness window is
        // forgotten; late statuses of its messages are still recognised by their wamid.
        self.keys.retain(|_, s| {
            !s.events.is_empty()
                || s.written
                    .as_ref()
                    .is_some_and(|w| w.horizon.saturating_add(lateness) > limit)
        });
        Ok(())
    }

    fn finish(&mut self, as_of: i64) -> Result<()> {
        let mut keys: Vec<(String, String)> = self.keys.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let state = self.keys.get_mut(&key).expect("a key");
            if !state.events.is_empty() {
                threads::flush(&key, state, as_of, true, &mut self.writer)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
