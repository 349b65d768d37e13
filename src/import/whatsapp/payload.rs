//! The parts of a WhatsApp Cloud API webhook body the importer reads. Every field is optional:
//! real payloads omit fields the documentation shows (`from`, `recipient_id`, `pricing`), and a
//! scalar may come as a string or a number (`timestamp`, `errors[].code`).

use serde::{Deserialize, Deserializer};

/// A body as captured: bare (`{"object": …, "entry": […]}`) or wrapped
/// (`{"received_at": …, "body": {…}}`).
#[derive(Debug, Default, Deserialize)]
pub struct Line {
    #[serde(default)]
    pub entry: Vec<Entry>,
    pub body: Option<Box<Line>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    #[serde(default, deserialize_with = "scalar")]
    pub time: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default, deserialize_with = "scalar")]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Default, Deserialize)]
pub struct Value {
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub message_echoes: Vec<Message>,
    /// Call events (`field = "calls"`): connect and terminate.
    #[serde(default)]
    pub calls: Vec<CallEvent>,
    /// Errors of the change as a whole (a failed call's code may come here).
    #[serde(default)]
    pub errors: Vec<Error>,
    // Template status changes.
    #[serde(default, deserialize_with = "scalar")]
    pub event: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub message_template_name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub message_template_language: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub message_template_category: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default, deserialize_with = "scalar")]
    pub phone_number_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub display_phone_number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Contact {
    #[serde(default, deserialize_with = "scalar")]
    pub wa_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub user_id: Option<String>,
    /// A portfolio-level id (`CC.ENT.…`): never an alias.
    #[serde(default, deserialize_with = "scalar")]
    pub parent_user_id: Option<String>,
}

/// One event of a call (`calls[]`): `connect` or `terminate`. The SDP body is never read.
#[derive(Debug, Default, Deserialize)]
pub struct CallEvent {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub from_user_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub to_user_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub event: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub timestamp: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub direction: Option<String>,
    pub session: Option<Session>,
    #[serde(default, deserialize_with = "scalar")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub end_time: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub duration: Option<String>,
    #[serde(default)]
    pub errors: Vec<Error>,
}

/// A call's session: only its SDP type (`offer` from the caller) is read.
#[derive(Debug, Default, Deserialize)]
pub struct Session {
    #[serde(default, deserialize_with = "scalar")]
    pub sdp_type: Option<String>,
}

/// An inbound message, or a message echo (same shape plus `to`).
#[derive(Debug, Default, Deserialize)]
pub struct Message {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub from_user_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub to_user_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub from_parent_user_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub timestamp: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
    pub context: Option<ReplyContext>,
    pub referral: Option<Referral>,
    pub interactive: Option<Interactive>,
    pub button: Option<Button>,
    /// What the customer (or, in an echo, the business) wrote; read once, through the
    /// storage rule, never kept as given.
    pub text: Option<TextBody>,
    pub image: Option<Media>,
    pub video: Option<Media>,
    pub document: Option<Media>,
    /// An edit of an earlier message: its id and the new content.
    pub edit: Option<Edit>,
    /// A revoke (delete for everyone) of an earlier message.
    pub revoke: Option<Revoke>,
    #[serde(default)]
    pub errors: Vec<Error>,
    pub system: Option<System>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReplyContext {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default)]
    pub forwarded: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Referral {
    #[serde(default, deserialize_with = "scalar")]
    pub source_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Interactive {
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
    pub button_reply: Option<Reply>,
    pub list_reply: Option<Reply>,
    pub call_permission_reply: Option<CallPermissionReply>,
}

/// The customer's answer to a request for permission to call them.
#[derive(Debug, Default, Deserialize)]
pub struct CallPermissionReply {
    #[serde(default, deserialize_with = "scalar")]
    pub response: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub expiration_timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reply {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub title: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Button {
    #[serde(default, deserialize_with = "scalar")]
    pub payload: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TextBody {
    #[serde(default, deserialize_with = "scalar")]
    pub body: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Edit {
    #[serde(default, deserialize_with = "scalar")]
    pub original_message_id: Option<String>,
    pub message: Option<Box<Message>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Revoke {
    #[serde(default, deserialize_with = "scalar")]
    pub original_message_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Media {
    #[serde(default, deserialize_with = "scalar")]
    pub caption: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct System {
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub wa_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Status {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub timestamp: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub recipient_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub recipient_user_id: Option<String>,
    /// `call` for the status of a business-initiated call (`RINGING`, `ACCEPTED`,
    /// `REJECTED`).
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub biz_opaque_callback_data: Option<String>,
    pub conversation: Option<Conversation>,
    pub pricing: Option<Pricing>,
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Conversation {
    #[serde(default, deserialize_with = "scalar")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub expiration_timestamp: Option<String>,
    pub origin: Option<Origin>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Origin {
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Pricing {
    /// Whether Meta bills the message: kept as given (an unreadable value is unknown).
    #[serde(default, deserialize_with = "scalar")]
    pub billable: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub pricing_model: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub category: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "scalar")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Error {
    #[serde(default, deserialize_with = "scalar")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub title: Option<String>,
}

/// A string, number or boolean as text; null and nested values as `None`.
pub fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string, number, boolean or null")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Visitor)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(Visitor)
}
