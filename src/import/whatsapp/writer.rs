//! How the WhatsApp import writes its rows: message and call rows, thread and customer ids,
//! and the text of edited messages.

use anyhow::Result;

use super::events::{self, Inbound};
use super::threads::{self, Fields, MessageRow};
use super::{Writer, calls, fingerprint};
use crate::import::short_hash;
use crate::time::format_rfc3339;

impl Writer {
    pub fn outbound_fields(&self, status: &events::Status) -> (Fields, bool) {
        threads::outbound_fields(
            status,
            self.outbound.get(&status.id),
            self.options.default_sender(),
        )
    }

    /// Whether `id` is written for the first time; a repeat (the same id in another thread, or
    /// after its thread was written) is counted as a duplicate and not written again.
    pub fn first_write(&mut self, id: &str) -> bool {
        let first = self.written_ids.insert(fingerprint(id));
        if !first {
            self.summary.skip("duplicate_messages");
        }
        first
    }

    /// The `text` and `text_chars` of a message: its text as given when it was never edited
    /// (the sink applies the storage rule), else what the storage rule keeps after its edits
    /// and revokes (text.md: an edit keeps the earlier findings and adds the new text's; a
    /// revoke keeps only the findings; `text_chars` is the latest text's).
    fn text_cells(
        &self,
        text: Option<&str>,
        updates: &[events::TextUpdate],
    ) -> (Option<String>, Option<String>) {
        if updates.is_empty() {
            return (text.map(str::to_owned), None);
        }
        let pass = &self.text;
        let findings_only = |stored: Option<String>| -> Option<String> {
            let stored = stored?;
            pass.detector.findings_only(&pass.detector.scan(&stored))
        };
        let mut stored = text.and_then(|t| pass.import_form(t));
        let mut chars = text.map(crate::text::detect::text_chars);
        for update in updates {
            match update {
                events::TextUpdate::Edit(new) => {
                    let kept = findings_only(stored.take());
                    let added = new.as_deref().and_then(|t| pass.import_form(t));
                    stored = match (kept, added) {
                        (Some(a), Some(b)) => Some(format!("{a} {b}")),
                        (a, b) => a.or(b),
                    };
                    chars = new.as_deref().map(crate::text::detect::text_chars);
                }
                events::TextUpdate::Revoke => stored = findings_only(stored.take()),
            }
        }
        // Already in stored form: the sink must not apply the rule again, so the text goes as
        // markers (read back unchanged) with its count.
        (stored, chars.map(|c| c.to_string()))
    }

    /// A thread's id: a hash of the business number, the customer and the opening second,
    /// keyed when customer ids are hashed (an unkeyed hash of a phone number and a time is
    /// reversed by trying every number).
    pub fn conversation_id(&self, phone: &str, customer: &str, opened_at: i64) -> String {
        let basis = format!("{phone}:{customer}:{}", opened_at.div_euclid(1000));
        match (&self.key, self.options.hash_customer_ids) {
            (Some(key), true) => {
                format!("wa-{}", key.customer_hash(&format!("conversation:{basis}")))
            }
            _ => format!("wa-{}", short_hash(&basis)),
        }
    }

    pub fn customer_id(&self, customer: &str) -> String {
        if self.options.hash_customer_ids
            && let Some(key) = &self.key
        {
            // Keyed: an unkeyed hash of a phone number is reversed by hashing every number.
            key.customer_hash(customer)
        } else {
            customer.to_owned()
        }
    }

    pub fn segment(&self, customer: &str) -> Option<&str> {
        self.customers.get(customer).map(String::as_str)
    }

    pub fn message(&mut self, row: &MessageRow<'_>) -> Result<()> {
        if !self.first_write(row.id) {
            return Ok(());
        }
        let at = format_rfc3339(row.at);
        let time = |t: Option<i64>| t.map(format_rfc3339);
        let (delivered, read) = (time(row.delivered_at), time(row.read_at));
        let status = row.status;
        let expires = time(status.and_then(|s| s.wa_expires_at));
        let inbound: Option<&Inbound> = row.inbound;
        let (stored, chars) = self.text_cells(row.text, row.updates);
        let billable = status.and_then(|s| s.billable.as_deref());
        // A reply typed in the WhatsApp Business app: no status, no price (not billed).
        let echo = row.echo.then_some("true");
        let billable = if row.echo { Some("false") } else { billable };
        let permission = inbound.and_then(|m| m.call_permission.as_ref());
        let permission_expires = permission.and_then(|(_, t)| t.map(format_rfc3339));
        self.messages.row(&[
            Some(row.id),
            Some(row.conversation_id),
            Some(&at),
            Some(row.sender),
            Some(row.kind),
            None,
            row.intent,
            row.template_name,
            stored.as_deref(),
            chars.as_deref(),
            row.agent_id,
            inbound.and_then(|m| m.reply_to.as_deref()),
            inbound.and_then(|m| m.forwarded.then_some("true")),
            inbound.and_then(|m| m.referral.as_deref()),
            inbound.and_then(|m| m.wa_type.as_deref()),
            delivered.as_deref(),
            read.as_deref(),
            status.and_then(|s| s.category.as_deref()),
            status.and_then(|s| s.pricing_type.as_deref()),
            status.and_then(|s| s.wa_conversation_id.as_deref()),
            status.and_then(|s| s.wa_origin.as_deref()),
            expires.as_deref(),
            billable,
            status.and_then(|s| s.pricing_model.as_deref()),
            echo,
            permission.map(|(answer, _)| answer.as_str()),
            permission_expires.as_deref(),
        ])
    }

    /// Writes a call row into the thread `conversation_id`.
    pub fn call(&mut self, row: &calls::CallRow, conversation_id: &str, phone: &str) -> Result<()> {
        let time = |t: Option<i64>| t.map(format_rfc3339);
        let placed = format_rfc3339(row.placed_at);
        let (answered, ended) = (time(row.answered_at), time(row.ended_at));
        let duration = row.duration_s.map(|d| {
            if d.fract() == 0.0 {
                format!("{d:.0}")
            } else {
                d.to_string()
            }
        });
        self.calls.row(&[
            Some(&row.id),
            Some(conversation_id),
            Some(if row.user {
                crate::ingest::schema::USER_INITIATED
            } else {
                crate::ingest::schema::BUSINESS_INITIATED
            }),
            Some(&placed),
            row.status,
            answered.as_deref(),
            ended.as_deref(),
            duration.as_deref(),
            row.agent_id.as_deref(),
            row.error_code.as_deref(),
            row.terminate_status.as_deref(),
            Some(phone),
        ])
    }
}
