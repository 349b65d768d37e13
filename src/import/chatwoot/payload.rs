//! Chatwoot webhook events → conversation snapshots and messages. Payloads are read as loose
//! JSON: real captures omit `account`, `changed_attributes`, `updated_at` and `meta.team`, and
//! mix time forms within one body.

use serde_json::Value;

use super::Options;
use super::time;

/// (account id, conversation display id).
pub type Key = (String, String);

/// The state of a conversation at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub at: i64,
    pub seq: u64,
    pub status: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub inbox: Option<String>,
    pub channel: Option<String>,
    pub customer: Option<String>,
    /// `contact_inbox.source_id`: the channel's own id of the contact (a wa_id on WhatsApp).
    pub source_id: Option<String>,
    pub created_at: Option<i64>,
    pub intent: Option<String>,
    pub segment: Option<String>,
    /// `custom_attributes.handoff_*` when present: intent, details, tried, status, next.
    pub brief: Option<[Option<String>; 5]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub at: i64,
    pub seq: u64,
    pub id: String,
    pub message_type: MessageType,
    pub private: bool,
    pub sender_type: Option<String>,
    pub sender_id: Option<String>,
    pub content: Option<String>,
    pub content_type: Option<String>,
    pub attachments: bool,
    pub submitted_values: bool,
    pub template_name: Option<String>,
    pub automated: bool,
    pub failed: bool,
    pub external_error: Option<String>,
    pub source_id: Option<String>,
}

/// Text of a scalar (strings as they are, numbers printed); `None` for null, objects, arrays
/// and empty strings.
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value at a dotted path.
pub fn at_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, part| v.get(part))
}

/// The account of a payload: its `account`, the account of its last message, or the
/// configured one.
pub fn account(body: &Value, options: &Options) -> Option<String> {
    let conversation = body.get("conversation").unwrap_or(body);
    text(at_path(body, "account.id"))
        .or_else(|| text(at_path(conversation, "account.id")))
        .or_else(|| {
            [body, conversation].into_iter().find_map(|v| {
                v.get("messages")
                    .and_then(|m| m.get(0))
                    .and_then(|m| text(m.get("account_id")))
            })
        })
        .or_else(|| options.account_id.as_ref().map(ToString::to_string))
}

/// The snapshot a conversation object gives at `at`.
pub fn snapshot(conversation: &Value, at: i64, seq: u64, options: &Options) -> Snapshot {
    let meta = conversation.get("meta");
    let team = meta.and_then(|m| m.get("team")).and_then(|t| {
        text(t.get("name")).or_else(|| text(t.get("id")).map(|id| format!("team:{id}")))
    });
    let customer = match options.customer_key.as_deref() {
        Some("source_id") => text(at_path(conversation, "contact_inbox.source_id")),
        _ => meta
            .and_then(|m| text(at_path(m, "sender.id")))
            .or_else(|| text(at_path(conversation, "contact_inbox.contact_id"))),
    };
    let intent =
        options
            .intent_from
            .as_deref()
            .and_then(|from| match from.strip_prefix("label:") {
                Some(prefix) => conversation
                    .get("labels")
                    .and_then(Value::as_array)
                    .and_then(|labels| {
                        labels
                            .iter()
                            .filter_map(Value::as_str)
                            .find_map(|l| l.strip_prefix(prefix).map(str::to_owned))
                    }),
                None => text(at_path(conversation, from)),
            });
    let brief_keys = [
        "handoff_intent",
        "handoff_details",
        "handoff_tried",
        "handoff_status",
        "handoff_next",
    ];
    let attributes = conversation.get("custom_attributes");
    let brief = brief_keys.map(|k| text(attributes.and_then(|a| a.get(k))));
    Snapshot {
        at,
        seq,
        status: text(conversation.get("status")).map(|s| s.to_lowercase()),
        team,
        assignee: meta.and_then(|m| text(at_path(m, "assignee.id"))),
        inbox: text(conversation.get("inbox_id")),
        channel: text(conversation.get("channel")),
        customer,
        source_id: text(at_path(conversation, "contact_inbox.source_id")),
        created_at: conversation.get("created_at").and_then(time::parse),
        intent,
        segment: options
            .segment_from
            .as_deref()
            .and_then(|p| text(at_path(conversation, p))),
        brief: brief.iter().any(Option::is_some).then_some(brief),
    }
}

/// The instant of a conversation event: the `updated_at` of its changes, the payload's
/// `updated_at`, the capture's `received_at`, else its last activity.
pub fn conversation_time(body: &Value, received_at: Option<&Value>) -> Option<i64> {
    let changed = body
        .get("changed_attributes")
        .and_then(Value::as_array)
        .and_then(|changes| {
            changes
                .iter()
                .find_map(|c| at_path(c, "updated_at.current_value"))
        });
    changed
        .and_then(time::parse)
        .or_else(|| body.get("updated_at").and_then(time::parse))
        .or_else(|| received_at.and_then(time::parse))
        .or_else(|| body.get("timestamp").and_then(time::parse))
}

/// A message payload.
pub fn message(body: &Value, at: i64, seq: u64) -> Option<Message> {
    let message_type = match body.get("message_type")? {
        Value::String(s) => match s.as_str() {
            "incoming" => MessageType::Incoming,
            "outgoing" => MessageType::Outgoing,
            "activity" => MessageType::Activity,
            "template" => MessageType::Template,
            _ => return None,
        },
        Value::Number(n) => match n.as_i64()? {
            0 => MessageType::Incoming,
            1 => MessageType::Outgoing,
            2 => MessageType::Activity,
            3 => MessageType::Template,
            _ => return None,
        },
        _ => return None,
    };
    let sender = body.get("sender");
    let content_attributes = body.get("content_attributes");
    let additional = body.get("additional_attributes");
    let external_error = text(content_attributes.and_then(|c| c.get("external_error")));
    Some(Message {
        at,
        seq,
        id: text(body.get("id"))?,
        message_type,
        private: body
            .get("private")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        sender_type: text(sender.and_then(|s| s.get("type")))
            .or_else(|| text(body.get("sender_type")))
            .map(|t| t.to_lowercase()),
        sender_id: text(sender.and_then(|s| s.get("id"))).or_else(|| text(body.get("sender_id"))),
        content: text(body.get("content")),
        content_type: text(body.get("content_type")),
        attachments: body
            .get("attachments")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty()),
        submitted_values: content_attributes.is_some_and(|c| c.get("submitted_values").is_some()),
        template_name: text(additional.and_then(|a| at_path(a, "template_params.name"))),
        automated: content_attributes.is_some_and(|c| c.get("automation_rule_id").is_some())
            || additional.is_some_and(|a| a.get("campaign_id").is_some()),
        failed: text(body.get("status")).is_some_and(|s| s == "failed" || s == "3"),
        external_error,
        source_id: text(body.get("source_id")),
    })
}
