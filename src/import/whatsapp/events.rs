//! Webhook bodies → events of one customer on one business number, in the shape the thread
//! rule needs. Everything else a body holds (template changes, account updates) is handled or
//! counted by the caller.

use super::payload;
use super::payload::Message;

/// One inbound message, business message or status, with its place in the input.
#[derive(Debug, Clone)]
pub struct Event {
    /// Input order: line number × 2^16 + position in the line.
    pub seq: u64,
    /// Milliseconds since the epoch, from the payload.
    pub at: i64,
    /// The input line, for the quarantine.
    pub line: u64,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// A message from the customer (or a `system` notice about the customer).
    Inbound(Inbound),
    /// A message the business sent and the webhook shows whole: an echo from the WhatsApp
    /// Business app, or a message whose `from` is the business number.
    Echo {
        id: String,
        kind: &'static str,
        /// What the business wrote (`text.body`, a caption).
        text: Option<String>,
    },
    /// One status of one of our outbound messages.
    Status(Status),
    /// One event of a call: a `connect`, a `terminate` or a call status.
    Call(CallPart),
}

/// What a call event says (whatsapp-2026.md A.2).
#[derive(Debug, Clone, PartialEq)]
pub struct CallPart {
    pub id: String,
    /// The input file, for the import quarantine.
    pub file: String,
    pub event: CallEventKind,
    /// `Some(true)` user-initiated, `Some(false)` business-initiated, as the event says.
    pub user: Option<bool>,
    /// The connect's `session.sdp_type`.
    pub sdp_type: Option<String>,
    /// The event's `from` is the business number.
    pub from_business: bool,
    pub tracker: Option<String>,
    /// A terminate's `status` as sent (`COMPLETED`, `FAILED`).
    pub terminate_status: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub duration: Option<f64>,
    pub error_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallEventKind {
    Connect,
    Terminate,
    Ringing,
    Accepted,
    Rejected,
}

impl CallEventKind {
    pub fn parse(text: &str) -> Option<CallEventKind> {
        match text.to_ascii_lowercase().as_str() {
            "connect" => Some(CallEventKind::Connect),
            "terminate" => Some(CallEventKind::Terminate),
            "ringing" => Some(CallEventKind::Ringing),
            "accepted" => Some(CallEventKind::Accepted),
            "rejected" => Some(CallEventKind::Rejected),
            _ => None,
        }
    }

    /// A status of a business-initiated call (not a `calls[]` event).
    pub fn is_status(self) -> bool {
        matches!(
            self,
            CallEventKind::Ringing | CallEventKind::Accepted | CallEventKind::Rejected
        )
    }
}

#[derive(Debug, Clone)]
pub struct Inbound {
    pub id: String,
    pub system: bool,
    pub kind: &'static str,
    pub wa_type: Option<String>,
    pub reply_id: Option<String>,
    pub reply_to: Option<String>,
    pub forwarded: bool,
    pub referral: Option<String>,
    /// A `call_permission_reply`: the answer (`accept`, `reject`) and when it expires.
    pub call_permission: Option<(String, Option<i64>)>,
    /// What the customer wrote (text.md: `text.body`, a caption, a button's or reply's title;
    /// never `system.body`, which carries phone numbers).
    pub text: Option<String>,
    /// Later edits and revokes of the message, in arrival order: they change what is kept of
    /// its text, never erase its findings.
    pub updates: Vec<TextUpdate>,
}

/// An edit (with the new text) or a revoke of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextUpdate {
    Edit(Option<String>),
    Revoke,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
}

impl StatusKind {
    pub fn parse(text: &str) -> Option<StatusKind> {
        match text.to_ascii_lowercase().as_str() {
            "sent" => Some(StatusKind::Sent),
            "delivered" => Some(StatusKind::Delivered),
            "read" => Some(StatusKind::Read),
            "played" => Some(StatusKind::Played),
            "failed" => Some(StatusKind::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Status {
    pub id: String,
    pub status: StatusKind,
    pub tracker: Option<String>,
    pub pricing_model: Option<String>,
    pub category: Option<String>,
    pub pricing_type: Option<String>,
    pub wa_conversation_id: Option<String>,
    pub wa_origin: Option<String>,
    pub wa_expires_at: Option<i64>,
    pub error_code: Option<String>,
    pub error_title: Option<String>,
    /// `pricing.billable` as given.
    pub billable: Option<String>,
}

impl Event {
    pub fn new(seq: u64, at: i64, line: u64, body: Body) -> Event {
        Event {
            seq,
            at,
            line,
            body,
        }
    }

    /// The message id (inbound, echo) or wamid (status).
    pub fn id(&self) -> &str {
        match &self.body {
            Body::Inbound(m) => &m.id,
            Body::Echo { id, .. } => id,
            Body::Status(s) => &s.id,
            Body::Call(c) => &c.id,
        }
    }
}

/// Epoch seconds (string or number) → milliseconds.
pub fn seconds(text: Option<&str>) -> Option<i64> {
    let text = text?.trim();
    let seconds: i64 = match text.parse() {
        Ok(s) => s,
        Err(_) => {
            let f: f64 = text.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            return Some((f * 1000.0).floor() as i64);
        }
    };
    seconds.checked_mul(1000)
}

/// What a customer message type becomes: its `kind`, or `None` for reactions, edits and revokes
/// (not written; counted).
pub fn inbound_kind(message: &Message) -> Result<&'static str, &'static str> {
    let kind = message.kind.as_deref().unwrap_or("");
    Ok(match kind {
        "text" => "text",
        "image" | "video" | "audio" | "voice" | "document" | "sticker" | "location"
        | "contacts" => "media",
        "interactive" | "button" | "order" => "interactive",
        "reaction" => return Err("reactions"),
        "edit" => return Err("edits"),
        "revoke" => return Err("revokes"),
        "system" => "internal_note",
        _ => "text",
    })
}

/// The reply id of a button or list tap, for `reply_intents`.
/// The text of a message as text.md lists it: `text.body`; the caption of an image, video or
/// document; `button.text`; the title of an interactive reply. A system message has none.
pub fn text(message: &Message) -> Option<String> {
    if message.system.is_some() || message.kind.as_deref() == Some("system") {
        return None;
    }
    let caption = [&message.image, &message.video, &message.document]
        .into_iter()
        .flatten()
        .find_map(|m| m.caption.clone());
    let reply = message.interactive.as_ref().and_then(|i| {
        [&i.button_reply, &i.list_reply]
            .into_iter()
            .flatten()
            .find_map(|r| r.title.clone())
    });
    message
        .text
        .as_ref()
        .and_then(|t| t.body.clone())
        .or(caption)
        .or_else(|| message.button.as_ref().and_then(|b| b.text.clone()))
        .or(reply)
        .filter(|t| !t.trim().is_empty())
}

pub fn reply_id(message: &Message) -> Option<String> {
    if let Some(i) = &message.interactive {
        for reply in [&i.button_reply, &i.list_reply].into_iter().flatten() {
            if reply.id.is_some() {
                return reply.id.clone();
            }
        }
    }
    message.button.as_ref().and_then(|b| b.payload.clone())
}

/// The type kept as an extra column when it says more than `kind` (unsupported, unknown, …).
pub fn wa_type(message: &Message) -> Option<String> {
    let kind = message.kind.as_deref().unwrap_or("unknown");
    let plain = matches!(
        kind,
        "text"
            | "image"
            | "video"
            | "audio"
            | "voice"
            | "document"
            | "sticker"
            | "location"
            | "contacts"
            | "interactive"
            | "button"
            | "order"
            | "system"
    );
    (!plain || !message.errors.is_empty()).then(|| kind.to_owned())
}

/// A status's fields, from its payload.
pub fn status(s: &payload::Status, kind: StatusKind) -> Option<Status> {
    let pricing = s.pricing.as_ref();
    let conversation = s.conversation.as_ref();
    let error = s.errors.first();
    Some(Status {
        id: s.id.clone()?,
        status: kind,
        tracker: s.biz_opaque_callback_data.clone(),
        pricing_model: pricing.and_then(|p| p.pricing_model.clone()),
        category: pricing.and_then(|p| p.category.clone()),
        pricing_type: pricing.and_then(|p| p.kind.clone()),
        wa_conversation_id: conversation.and_then(|c| c.id.clone()),
        wa_origin: conversation
            .and_then(|c| c.origin.as_ref())
            .and_then(|o| o.kind.clone()),
        wa_expires_at: conversation.and_then(|c| seconds(c.expiration_timestamp.as_deref())),
        error_code: error.and_then(|e| e.code.clone()),
        error_title: error.and_then(|e| e.title.clone()),
        billable: pricing.and_then(|p| p.billable.clone()),
    })
}

/// The `key=value;…` convention for `biz_opaque_callback_data`.
pub fn tracker_value<'a>(tracker: Option<&'a str>, key: &str) -> Option<&'a str> {
    tracker?
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
