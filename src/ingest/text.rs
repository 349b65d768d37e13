//! The text pass of ingest: each batch of accepted messages or handoffs is scanned as it is
//! read, its findings kept as rows of `text_findings`, and its text replaced by what `[text]
//! store` allows (nothing, the redacted form, or the text as given) before the batch is kept
//! or spilled.

use polars::prelude::*;
use rayon::prelude::*;

use super::schema::{HANDOFF_FIELDS, SOURCE_ROW, Table};
use crate::config::Store;
use crate::text::Detector;

/// The columns of `text_findings`, in order.
pub const FINDING_COLUMNS: [&str; 11] = [
    "conversation_id",
    "source",
    "message_id",
    "handoff_row",
    "field",
    "sent_at",
    "sender",
    "ordinal",
    "kind",
    "token",
    "masked",
];

/// How ingest treats text.
#[derive(Debug)]
pub struct TextPass {
    pub detector: Detector,
    pub store: Store,
    /// The key's fingerprint, when there is a key.
    pub fingerprint: Option<String>,
    /// The key itself (for `hash_customer_ids`); never printed.
    pub key: Option<crate::text::Key>,
    /// The variable the key comes from, for messages.
    pub key_env: String,
    /// Extra string columns of messages and handoffs to keep, and extra columns of the other
    /// tables to withhold (lower-case).
    pub keep_columns: Vec<String>,
    pub withhold_columns: Vec<String>,
}

impl Default for TextPass {
    /// The default `[text]` without a key.
    fn default() -> TextPass {
        TextPass::new(&crate::config::TextConfig::default(), None)
            .expect("the default [text] is valid")
    }
}

impl TextPass {
    pub fn new(
        config: &crate::config::TextConfig,
        key: Option<&crate::text::Key>,
    ) -> anyhow::Result<TextPass> {
        Ok(TextPass {
            detector: crate::text::detector(config, key)?,
            store: config.store,
            fingerprint: key.map(crate::text::Key::fingerprint),
            key: key.cloned(),
            key_env: config.key_env.clone(),
            keep_columns: config.keep_columns.clone(),
            withhold_columns: config.withhold_columns.clone(),
        })
    }

    /// What an importer writes of a message's text under the storage rule: the markers of its
    /// findings (without a key only those that need no token: cards, IBANs, CVVs), the redacted
    /// form, or the text as given; `None` when nothing is kept.
    pub fn import_form(&self, text: &str) -> Option<String> {
        let scan = self.detector.scan(text);
        match self.store {
            Store::Raw => Some(text.to_owned()),
            Store::Redacted => Some(self.detector.redact(&scan)),
            Store::Findings if self.detector.has_key() => self.detector.findings_only(&scan),
            Store::Findings => {
                let kept: Vec<String> = scan
                    .findings
                    .iter()
                    .filter(|f| !self.detector.tokenised(f.kind))
                    .map(|f| self.detector.marker(f, true))
                    .collect();
                (!kept.is_empty()).then(|| kept.join(" "))
            }
        }
    }

    /// What an importer writes of a brief field: the redacted form, or the field as given
    /// under raw storage.
    pub fn import_field(&self, text: &str) -> String {
        match self.store {
            Store::Raw => text.to_owned(),
            _ => self.detector.redact(&self.detector.scan(text)),
        }
    }

    /// Whether an extra column of `table` is withheld: for messages and handoffs every extra
    /// column that may hold strings unless `keep_columns` names it (`may_hold_strings` false
    /// only for typed numeric or boolean columns), and for the other tables the columns
    /// `withhold_columns` names. Raw storage withholds nothing.
    pub fn withholds(&self, table: Table, name: &str, may_hold_strings: bool) -> bool {
        if self.store == Store::Raw {
            return false;
        }
        let name = name.trim().to_lowercase();
        match table {
            Table::Messages | Table::Handoffs => {
                may_hold_strings
                    && !self.keep_columns.contains(&name)
                    && !(table == Table::Messages
                        && DEFINED_MESSAGE_EXTRAS.contains(&name.as_str()))
            }
            _ => self.withhold_columns.contains(&name),
        }
    }
}

/// Columns of messages that importers write (importers.md, whatsapp-2026.md): defined, so kept.
pub const DEFINED_MESSAGE_EXTRAS: [&str; 18] = [
    "wa_conversation_id",
    "wa_origin",
    "wa_expires_at",
    "reply_to",
    "forwarded",
    "referral_source_type",
    "wa_type",
    "delivered_at",
    "read_at",
    "pricing_category",
    "pricing_type",
    "source_id",
    "author_id",
    "billable",
    "pricing_model",
    "wa_echo",
    "call_permission",
    "call_permission_expires_at",
];

/// Rows of `text_findings`, column by column.
#[derive(Default)]
pub struct FindingRows {
    conversation_id: Vec<String>,
    source: Vec<&'static str>,
    message_id: Vec<Option<String>>,
    handoff_row: Vec<Option<u32>>,
    field: Vec<&'static str>,
    sent_at: Vec<i64>,
    sender: Vec<String>,
    ordinal: Vec<u32>,
    kind: Vec<String>,
    token: Vec<Option<String>>,
    masked: Vec<String>,
    /// Messages with text scanned (`text_chars` not null).
    pub messages_with_text: u64,
}

impl FindingRows {
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    pub fn append(&mut self, mut other: FindingRows) {
        self.conversation_id.append(&mut other.conversation_id);
        self.source.append(&mut other.source);
        self.message_id.append(&mut other.message_id);
        self.handoff_row.append(&mut other.handoff_row);
        self.field.append(&mut other.field);
        self.sent_at.append(&mut other.sent_at);
        self.sender.append(&mut other.sender);
        self.ordinal.append(&mut other.ordinal);
        self.kind.append(&mut other.kind);
        self.token.append(&mut other.token);
        self.masked.append(&mut other.masked);
        self.messages_with_text += other.messages_with_text;
    }

    /// The rows as the `text_findings` frame (`sent_at` a UTC millisecond timestamp).
    pub fn frame(self) -> PolarsResult<DataFrame> {
        let mut frame = df!(
            "conversation_id" => self.conversation_id,
            "source" => self.source,
            "message_id" => self.message_id,
            "handoff_row" => self.handoff_row,
            "field" => self.field,
            "sent_at" => self.sent_at,
            "sender" => self.sender,
            "ordinal" => self.ordinal,
            "kind" => self.kind,
            "token" => self.token,
            "masked" => self.masked,
        )?;
        let sent_at = frame
            .column("sent_at")?
            .cast(&crate::ingest::schema::timestamp_dtype())?;
        frame.with_column(sent_at)?;
        Ok(frame)
    }
}

/// What is kept of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Nothing: the column is dropped.
    Nothing,
    AsIs,
    Redacted,
}

/// What one text gave: the findings and the value to store.
struct Scanned {
    findings: Vec<(String, Option<String>, String)>,
    stored: Option<String>,
    chars: Option<i64>,
}

impl TextPass {
    /// Scans a batch of accepted rows of `table` (messages or handoffs), appends its findings
    /// to `out`, and replaces its text columns by what the storage rule keeps.
    pub fn apply(
        &self,
        table: Table,
        frame: &mut DataFrame,
        out: &mut FindingRows,
    ) -> PolarsResult<()> {
        match table {
            Table::Messages => self.messages(frame, out),
            Table::Handoffs => self.handoffs(frame, out),
            _ => Ok(()),
        }
    }

    fn scan_column(&self, values: &StringChunked, form: Form) -> Vec<Option<Scanned>> {
        let values: Vec<Option<&str>> = values.iter().collect();
        values
            .par_iter()
            .with_min_len(256)
            .map(|value| {
                let text = (*value)?;
                let scan = self.detector.scan(text);
                let stored = match form {
                    Form::Nothing => None,
                    Form::AsIs => Some(text.to_owned()),
                    Form::Redacted => Some(self.detector.redact(&scan)),
                };
                Some(Scanned {
                    findings: scan
                        .findings
                        .iter()
                        .map(|f| {
                            (
                                self.detector.kind_name(f.kind).to_owned(),
                                f.token.clone(),
                                f.masked.clone(),
                            )
                        })
                        .collect(),
                    stored,
                    chars: Some(crate::text::detect::text_chars(text) as i64),
                })
            })
            .collect()
    }

    fn messages(&self, frame: &mut DataFrame, out: &mut FindingRows) -> PolarsResult<()> {
        let form = match self.store {
            Store::Raw => Form::AsIs,
            Store::Redacted => Form::Redacted,
            // The warehouse keeps no text at all under `findings`.
            Store::Findings => Form::Nothing,
        };
        let scanned = self.scan_column(frame.column("text")?.str()?, form);
        let given_chars: Vec<Option<i64>> = frame
            .column("text_chars")?
            .str()?
            .iter()
            .map(|v| v.and_then(|v| v.parse::<i64>().ok()))
            .collect();
        let ids = frame.column("message_id")?.str()?;
        let conversations = frame.column("conversation_id")?.str()?;
        let senders = frame.column("sender")?.str()?;
        let sent = frame.column("sent_at")?.cast(&DataType::Int64)?;
        let sent = sent.i64()?;
        let mut chars: Vec<Option<i64>> = Vec::with_capacity(frame.height());
        let mut stored: Vec<Option<String>> = Vec::with_capacity(frame.height());
        for (i, (scan, given)) in scanned.into_iter().zip(given_chars).enumerate() {
            let count = given.or_else(|| scan.as_ref().and_then(|s| s.chars));
            if count.is_some() {
                out.messages_with_text += 1;
            }
            chars.push(count);
            let Some(scan) = scan else {
                stored.push(None);
                continue;
            };
            for (ordinal, (kind, token, masked)) in scan.findings.into_iter().enumerate() {
                out.conversation_id
                    .push(conversations.get(i).unwrap_or_default().to_owned());
                out.source.push("message");
                out.message_id.push(ids.get(i).map(str::to_owned));
                out.handoff_row.push(None);
                out.field.push("text");
                out.sent_at.push(sent.get(i).unwrap_or_default());
                out.sender
                    .push(senders.get(i).unwrap_or_default().to_owned());
                out.ordinal.push(ordinal as u32 + 1);
                out.kind.push(kind);
                out.token.push(token);
                out.masked.push(masked);
            }
            stored.push(scan.stored);
        }
        frame.with_column(Column::new("text_chars".into(), chars))?;
        if self.store == Store::Findings {
            frame.drop_in_place("text")?;
        } else {
            frame.with_column(Column::new("text".into(), stored))?;
        }
        Ok(())
    }

    fn handoffs(&self, frame: &mut DataFrame, out: &mut FindingRows) -> PolarsResult<()> {
        let conversations = frame.column("conversation_id")?.str()?.clone();
        let rows = frame.column(SOURCE_ROW)?.u32()?.clone();
        let at = frame.column("handoff_at")?.cast(&DataType::Int64)?;
        let at = at.i64()?.clone();
        // The brief's fields stay, redacted, under every store but raw: the specialist reads
        // them and completeness looks at their blankness.
        let form = match self.store {
            Store::Raw => Form::AsIs,
            _ => Form::Redacted,
        };
        for field in HANDOFF_FIELDS {
            let scanned = self.scan_column(frame.column(field)?.str()?, form);
            let mut stored: Vec<Option<String>> = Vec::with_capacity(frame.height());
            for (i, scan) in scanned.into_iter().enumerate() {
                let Some(scan) = scan else {
                    stored.push(None);
                    continue;
                };
                for (ordinal, (kind, token, masked)) in scan.findings.into_iter().enumerate() {
                    out.conversation_id
                        .push(conversations.get(i).unwrap_or_default().to_owned());
                    out.source.push("handoff");
                    out.message_id.push(None);
                    out.handoff_row.push(rows.get(i));
                    out.field.push(field);
                    out.sent_at.push(at.get(i).unwrap_or_default());
                    out.sender.push("brief".to_owned());
                    out.ordinal.push(ordinal as u32 + 1);
                    out.kind.push(kind);
                    out.token.push(token);
                    out.masked.push(masked);
                }
                stored.push(scan.stored);
            }
            frame.with_column(Column::new((*field).into(), stored))?;
        }
        Ok(())
    }
}
