//! Reading one webhook change: its messages, echoes and statuses become events of a customer
//! on a business number; a template status change becomes a `templates` row.

use anyhow::Result;

use super::events::{self, Body, CallEventKind, CallPart, Event, Inbound, StatusKind};
use super::{Importer, payload};
use crate::time::format_rfc3339;

impl Importer {
    pub(super) fn value(
        &mut self,
        file: &str,
        number: u64,
        position: &mut u64,
        value: payload::Value,
    ) -> Result<()> {
        let metadata = value.metadata.unwrap_or_default();
        let phone = metadata.phone_number_id.unwrap_or_default();
        let business: Vec<&str> = [
            Some(phone.as_str()),
            metadata.display_phone_number.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
        for contact in &value.contacts {
            for id in [&contact.wa_id, &contact.user_id].into_iter().flatten() {
                self.identities.see(id);
                if let Some(parent) = &contact.parent_user_id {
                    self.writer.parents.insert(id.clone(), parent.clone());
                }
            }
            if let (Some(wa), Some(user)) = (&contact.wa_id, &contact.user_id) {
                self.join(wa, user, None);
            }
        }
        let value_error = value.errors.first().and_then(|e| e.code.clone());
        let only_contact = match value.contacts.as_slice() {
            [one] => one.wa_id.clone().or_else(|| one.user_id.clone()),
            _ => None,
        };
        for message in value.messages {
            self.writer.summary.event("messages");
            *position += 1;
            let seq = (number << 16) | *position;
            let from_business = message
                .from
                .as_deref()
                .is_some_and(|f| business.contains(&f));
            let customer = if from_business {
                message.to.clone().or_else(|| only_contact.clone())
            } else {
                message
                    .from
                    .clone()
                    .or_else(|| message.from_user_id.clone())
                    .or_else(|| only_contact.clone())
            };
            if let (Some(old), Some(system)) = (&message.from, &message.system)
                && system.kind.as_deref() == Some("user_changed_number")
                && let Some(new) = &system.wa_id
            {
                // The new number is the old customer only from the change on.
                let since = events::seconds(message.timestamp.as_deref());
                self.identities.see(old);
                if let Some(t) = since {
                    self.identities.changed_at.insert(new.clone(), t);
                }
                self.join(old, new, since);
            }
            if let (Some(id), Some(parent)) = (&customer, &message.from_parent_user_id) {
                self.writer.parents.insert(id.clone(), parent.clone());
            }
            let kind = match events::inbound_kind(&message) {
                Ok(kind) => kind,
                Err(skipped) => {
                    self.writer.summary.skip(skipped);
                    self.text_update(&phone, customer.as_deref(), &message);
                    continue;
                }
            };
            let Some(event) =
                self.checked(file, number, &message.id, &message.timestamp, &customer)
            else {
                continue;
            };
            let (id, at, customer) = event;
            let body = if from_business {
                Body::Echo {
                    id,
                    kind,
                    text: events::text(&message),
                }
            } else {
                Body::Inbound(Inbound {
                    id,
                    system: message.kind.as_deref() == Some("system"),
                    kind,
                    wa_type: events::wa_type(&message),
                    reply_id: events::reply_id(&message),
                    reply_to: message.context.as_ref().and_then(|c| c.id.clone()),
                    forwarded: message
                        .context
                        .as_ref()
                        .and_then(|c| c.forwarded)
                        .unwrap_or(false),
                    referral: message.referral.as_ref().map(|r| {
                        r.source_type
                            .clone()
                            .unwrap_or_else(|| "unknown".to_owned())
                    }),
                    call_permission: message
                        .interactive
                        .as_ref()
                        .filter(|i| i.kind.as_deref() == Some("call_permission_reply"))
                        .and_then(|i| i.call_permission_reply.as_ref())
                        .map(|r| {
                            (
                                r.response.clone().unwrap_or_default().to_lowercase(),
                                events::seconds(r.expiration_timestamp.as_deref()),
                            )
                        }),
                    text: events::text(&message),
                    updates: Vec::new(),
                })
            };
            self.push(&phone, &customer, Event::new(seq, at, number, body), file)?;
        }
        for echo in value.message_echoes {
            self.writer.summary.event("echoes");
            *position += 1;
            let seq = (number << 16) | *position;
            let kind = match events::inbound_kind(&echo) {
                Ok(kind) => kind,
                Err(skipped) => {
                    self.writer.summary.skip(skipped);
                    continue;
                }
            };
            let customer = echo.to.clone().or_else(|| echo.to_user_id.clone());
            let Some((id, at, customer)) =
                self.checked(file, number, &echo.id, &echo.timestamp, &customer)
            else {
                continue;
            };
            self.push(
                &phone,
                &customer,
                Event::new(
                    seq,
                    at,
                    number,
                    Body::Echo {
                        id,
                        kind,
                        text: events::text(&echo),
                    },
                ),
                file,
            )?;
        }
        for call in value.calls {
            self.writer.summary.event("calls");
            *position += 1;
            let seq = (number << 16) | *position;
            let Some(event) = call.event.as_deref().and_then(CallEventKind::parse) else {
                self.writer.summary.skip("unknown_call_events");
                continue;
            };
            let direction =
                call.direction
                    .as_deref()
                    .and_then(|d| match d.to_ascii_uppercase().as_str() {
                        "USER_INITIATED" => Some(true),
                        "BUSINESS_INITIATED" => Some(false),
                        _ => None,
                    });
            let from_business = call.from.as_deref().is_some_and(|f| business.contains(&f));
            let not_business = |id: &Option<String>| {
                id.clone()
                    .filter(|i| !business.contains(&i.as_str()) && !i.is_empty())
            };
            let customer = if from_business || direction == Some(false) {
                not_business(&call.to).or_else(|| not_business(&call.to_user_id))
            } else {
                not_business(&call.from).or_else(|| not_business(&call.from_user_id))
            }
            .or_else(|| only_contact.clone());
            let Some((id, at, customer)) =
                self.checked(file, number, &call.id, &call.timestamp, &customer)
            else {
                continue;
            };
            let part = CallPart {
                id,
                file: file.to_owned(),
                event,
                user: direction,
                sdp_type: call.session.as_ref().and_then(|s| s.sdp_type.clone()),
                from_business,
                tracker: call.biz_opaque_callback_data.clone(),
                terminate_status: call.status.clone(),
                start_time: events::seconds(call.start_time.as_deref()),
                end_time: events::seconds(call.end_time.as_deref()),
                duration: call.duration.as_deref().and_then(|d| d.trim().parse().ok()),
                error_code: call
                    .errors
                    .first()
                    .and_then(|e| e.code.clone())
                    .or_else(|| value_error.clone()),
            };
            self.push(
                &phone,
                &customer,
                Event::new(seq, at, number, Body::Call(part)),
                file,
            )?;
        }
        for status in value.statuses {
            *position += 1;
            let seq = (number << 16) | *position;
            if status
                .kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("call"))
            {
                self.call_status(file, number, seq, &phone, &only_contact, status)?;
                continue;
            }
            self.writer.summary.event("statuses");
            let Some(kind) = status.status.as_deref().and_then(StatusKind::parse) else {
                self.writer.summary.skip("unknown_statuses");
                continue;
            };
            let customer = status
                .recipient_id
                .clone()
                .or_else(|| status.recipient_user_id.clone());
            let Some((_, at, customer)) =
                self.checked(file, number, &status.id, &status.timestamp, &customer)
            else {
                continue;
            };
            let Some(fields) = events::status(&status, kind) else {
                continue;
            };
            self.push(
                &phone,
                &customer,
                Event::new(seq, at, number, Body::Status(fields)),
                file,
            )?;
        }
        Ok(())
    }

    /// The status of a business-initiated call (`RINGING`, `ACCEPTED`, `REJECTED`): an event
    /// of its call.
    fn call_status(
        &mut self,
        file: &str,
        number: u64,
        seq: u64,
        phone: &str,
        only_contact: &Option<String>,
        status: payload::Status,
    ) -> Result<()> {
        self.writer.summary.event("call_statuses");
        let Some(event) = status
            .status
            .as_deref()
            .and_then(CallEventKind::parse)
            .filter(|e| e.is_status())
        else {
            self.writer.summary.skip("unknown_call_statuses");
            return Ok(());
        };
        let customer = status
            .recipient_id
            .clone()
            .or_else(|| status.recipient_user_id.clone())
            .or_else(|| only_contact.clone());
        let Some((id, at, customer)) =
            self.checked(file, number, &status.id, &status.timestamp, &customer)
        else {
            return Ok(());
        };
        let part = CallPart {
            id,
            file: file.to_owned(),
            event,
            user: None,
            sdp_type: None,
            from_business: true,
            tracker: status.biz_opaque_callback_data.clone(),
            terminate_status: None,
            start_time: None,
            end_time: None,
            duration: None,
            error_code: status.errors.first().and_then(|e| e.code.clone()),
        };
        self.push(
            phone,
            &customer,
            Event::new(seq, at, number, Body::Call(part)),
            file,
        )
    }

    /// An edit or revoke: noted on the message it names when that message is still held (its
    /// thread not written yet), else counted (`text_updates_unmatched`).
    fn text_update(&mut self, phone: &str, customer: Option<&str>, message: &payload::Message) {
        let (original, update) = match (&message.edit, &message.revoke) {
            (Some(edit), _) => (
                edit.original_message_id.clone(),
                events::TextUpdate::Edit(edit.message.as_deref().and_then(events::text)),
            ),
            (None, Some(revoke)) => (
                revoke.original_message_id.clone(),
                events::TextUpdate::Revoke,
            ),
            _ => return,
        };
        let (Some(original), Some(customer)) = (original, customer) else {
            return;
        };
        let key = (phone.to_owned(), self.identities.root(customer));
        let target = self.keys.get_mut(&key).and_then(|state| {
            state.events.iter_mut().find_map(|e| match &mut e.body {
                Body::Inbound(m) if m.id == original => Some(m),
                _ => None,
            })
        });
        match target {
            Some(m) => m.updates.push(update),
            None => {
                *self
                    .writer
                    .summary
                    .derived
                    .entry("text_updates_unmatched".to_owned())
                    .or_default() += 1;
            }
        }
    }

    /// The id, time and customer of an event, or a quarantine line naming what is missing.
    pub(super) fn checked(
        &mut self,
        file: &str,
        number: u64,
        id: &Option<String>,
        timestamp: &Option<String>,
        customer: &Option<String>,
    ) -> Option<(String, i64, String)> {
        let fail = |me: &mut Importer, column: &str, value: &str, reason: &str| {
            me.writer.summary.skip("bad_events");
            me.problem(file, number, column, value, reason);
            None
        };
        let Some(id) = id.clone().filter(|s| !s.is_empty()) else {
            return fail(self, "id", "", "missing_value");
        };
        let Some(at) = events::seconds(timestamp.as_deref()) else {
            return fail(
                self,
                "timestamp",
                timestamp.as_deref().unwrap_or(""),
                "bad_timestamp",
            );
        };
        let Some(customer) = customer.clone().filter(|s| !s.is_empty()) else {
            return fail(self, "customer", &id, "missing_value");
        };
        self.identities.see(&customer);
        Some((id, at, self.identities.key(&customer, at)))
    }

    pub(super) fn template(
        &mut self,
        file: &str,
        number: u64,
        entry_time: Option<&str>,
        value: &payload::Value,
    ) -> Result<()> {
        self.writer.summary.event("template_updates");
        let event = value.event.as_deref().unwrap_or("").to_uppercase();
        let status = match event.as_str() {
            "APPROVED" | "REINSTATED" => "approved",
            "REJECTED" => "rejected",
            "PENDING" => "pending",
            "PAUSED" => "paused",
            "DISABLED" | "PENDING_DELETION" | "DELETED" => "disabled",
            "FLAGGED" => "flagged",
            _ => {
                self.writer.summary.skip("template_events_unmapped");
                return Ok(());
            }
        };
        let Some(at) = events::seconds(entry_time) else {
            self.writer.summary.skip("bad_events");
            self.problem(
                file,
                number,
                "entry.time",
                entry_time.unwrap_or(""),
                "bad_timestamp",
            );
            return Ok(());
        };
        let Some(name) = value.message_template_name.as_deref() else {
            self.writer.summary.skip("bad_events");
            self.problem(file, number, "message_template_name", "", "missing_value");
            return Ok(());
        };
        let name = match (
            self.writer.options.template_key.as_deref(),
            value.message_template_language.as_deref(),
        ) {
            (Some("name_language"), Some(language)) => format!("{name}/{language}"),
            _ => name.to_owned(),
        };
        let changed = format_rfc3339(at);
        self.writer.templates.row(&[
            Some(&name),
            Some(status),
            Some(&changed),
            value.reason.as_deref(),
            value.message_template_category.as_deref(),
            value.message_template_language.as_deref(),
        ])
    }
}
