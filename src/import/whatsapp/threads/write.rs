//! A finished thread as rows: its messages, send failures and calls, then its conversation.

use std::collections::HashSet;

use anyhow::Result;

use super::super::Writer;
use super::super::events::{Body, Inbound, Status, StatusKind};
use super::{Draft, Item, KeyState, MessageRow, View, What, Written};
use crate::time::format_rfc3339;

pub(super) fn write_thread(
    key: &(String, String),
    state: &mut KeyState,
    draft: &Draft,
    closed_at: Option<i64>,
    view: &View<'_>,
    writer: &mut Writer,
) -> Result<()> {
    let (phone, customer) = key;
    let first = &view.items[draft.items[0]];
    let opened_at = first.at;
    let conversation_id = writer.conversation_id(phone, customer, opened_at);
    let inbound = |item: &Item| match item.what {
        What::Inbound(i) => match &view.events[i].body {
            Body::Inbound(m) if !m.system => Some(m),
            _ => None,
        },
        _ => None,
    };
    let first_customer: Option<&Inbound> =
        draft.items.iter().find_map(|&n| inbound(&view.items[n]));
    // The first customer message that names an intent: bots triage with a menu, so the
    // opening message rarely carries one.
    let intent = draft
        .items
        .iter()
        .filter_map(|&n| inbound(&view.items[n]))
        .find_map(|m| {
            m.reply_id
                .as_deref()
                .and_then(|id| writer.options.intent(id))
        })
        .map(str::to_owned);
    let reopens = first_customer
        .and_then(|m| m.reply_to.as_deref())
        .and_then(|wamid| {
            state
                .written
                .as_ref()
                .filter(|w| w.business.contains(wamid))
                .map(|w| w.conversation_id.clone())
        });
    let outbound_template = match first.what {
        What::Outbound(g) => {
            let status = status_of(view, g);
            writer.outbound_fields(status).0.kind == "template"
        }
        _ => false,
    };
    let entry_point = if matches!(first.what, What::Call(_)) {
        "call"
    } else if first_customer.is_some_and(|m| m.referral.is_some()) {
        "ctwa"
    } else if outbound_template {
        "template"
    } else {
        "organic"
    };

    let mut business = HashSet::new();
    for &n in &draft.items {
        let item = &view.items[n];
        match item.what {
            What::Inbound(i) => {
                let Body::Inbound(m) = &view.events[i].body else {
                    continue;
                };
                let intent = m
                    .reply_id
                    .as_deref()
                    .and_then(|id| writer.options.intent(id))
                    .map(str::to_owned);
                writer.message(&MessageRow {
                    id: &m.id,
                    conversation_id: &conversation_id,
                    at: item.at,
                    sender: if m.system { "system" } else { "customer" },
                    kind: m.kind,
                    intent: intent.as_deref(),
                    template_name: None,
                    agent_id: None,
                    text: m.text.as_deref(),
                    updates: &m.updates,
                    status: None,
                    inbound: Some(m),
                    delivered_at: None,
                    read_at: None,
                    echo: false,
                })?;
            }
            What::Echo(i) => {
                let Body::Echo { id, kind, text } = &view.events[i].body else {
                    continue;
                };
                business.insert(id.clone());
                writer.message(&MessageRow {
                    id,
                    conversation_id: &conversation_id,
                    at: item.at,
                    sender: "agent",
                    kind,
                    intent: None,
                    template_name: None,
                    agent_id: None,
                    text: text.as_deref(),
                    updates: &[],
                    status: None,
                    inbound: None,
                    delivered_at: None,
                    read_at: None,
                    echo: true,
                })?;
            }
            What::Outbound(g) => {
                let group = &view.groups[g];
                let status = status_of(view, g);
                business.insert(status.id.clone());
                writer
                    .summary
                    .skip_n("merged_statuses", group.statuses.len() as u64 - 1);
                let (fields, unknown) = writer.outbound_fields(status);
                writer.unknown_senders += u64::from(unknown);
                writer.message(&MessageRow {
                    id: &status.id,
                    conversation_id: &conversation_id,
                    at: item.at,
                    sender: fields.sender,
                    kind: fields.kind,
                    intent: None,
                    template_name: fields.template.as_deref(),
                    agent_id: fields.agent.as_deref(),
                    text: None,
                    updates: &[],
                    status: Some(status),
                    inbound: None,
                    delivered_at: group.delivered_at,
                    read_at: group.read_at,
                    echo: false,
                })?;
            }
            What::Failure(g) => {
                let group = &view.groups[g];
                let status = status_of(view, g);
                writer
                    .summary
                    .skip_n("merged_statuses", group.statuses.len() as u64 - 1);
                let (fields, unknown) = writer.outbound_fields(status);
                writer.unknown_senders += u64::from(unknown);
                let failed = group
                    .statuses
                    .iter()
                    .filter_map(|&i| match &view.events[i].body {
                        Body::Status(s) if s.status == StatusKind::Failed => Some(s),
                        _ => None,
                    })
                    .next()
                    .unwrap_or(status);
                if !writer.first_write(&status.id) {
                    continue;
                }
                let at = format_rfc3339(item.at);
                writer.failures.row(&[
                    Some(&status.id),
                    Some(&conversation_id),
                    Some(&at),
                    failed.error_code.as_deref(),
                    failed.error_title.as_deref(),
                    fields.template.as_deref(),
                    Some(fields.sender),
                ])?;
            }
            What::Call(g) => {
                let call = &view.calls[g];
                if closed_at.is_some_and(|c| call.placed_at > c) {
                    *writer
                        .summary
                        .derived
                        .entry("calls_after_close".to_owned())
                        .or_default() += 1;
                }
                writer.call(call, &conversation_id, phone)?;
                writer
                    .summary
                    .skip_n("merged_call_events", view.call_events[g].len() as u64 - 1);
            }
            What::CallEnd => {}
        }
    }
    let customer_id = writer.customer_id(customer);
    let segment = writer.segment(customer).map(str::to_owned);
    let opened = format_rfc3339(opened_at);
    let closed = closed_at.map(format_rfc3339);
    // The kind and calling code of the id as received, before any hashing.
    let (kind, market) = match crate::ingest::customer::recognise(customer) {
        ("phone", _) => ("phone", crate::ingest::customer::calling_code(customer)),
        (kind, _) => (kind, None),
    };
    let parent = writer.parents.get(customer.as_str()).cloned();
    writer.conversations.row(&[
        Some(&conversation_id),
        Some(&customer_id),
        Some("whatsapp"),
        segment.as_deref(),
        intent.as_deref(),
        Some(&opened),
        closed.as_deref(),
        Some(phone),
        Some(entry_point),
        reopens.as_deref(),
        Some(kind),
        market,
        parent.as_deref(),
    ])?;
    let last_at = draft
        .items
        .iter()
        .map(|&n| view.items[n].at)
        .max()
        .unwrap_or(opened_at);
    let idle = writer.options.idle_ms();
    state.written = Some(Written {
        conversation_id,
        horizon: closed_at.map_or(last_at, |c| c + idle).max(last_at),
        business,
    });
    Ok(())
}

/// The status that describes an outbound message: its `sent` status when there is one (it
/// carries the pricing under per-message pricing), else its first.
fn status_of<'a>(view: &View<'a>, g: usize) -> &'a Status {
    let statuses = &view.groups[g].statuses;
    let status = |i: usize| match &view.events[i].body {
        Body::Status(s) => Some(s),
        _ => None,
    };
    statuses
        .iter()
        .filter_map(|&i| status(i))
        .find(|s| s.status == StatusKind::Sent && s.pricing_model.is_some())
        .or_else(|| {
            statuses
                .iter()
                .filter_map(|&i| status(i))
                .find(|s| s.tracker.is_some())
        })
        .or_else(|| statuses.iter().filter_map(|&i| status(i)).next())
        .expect("a group has a status")
}
