//! `[text]`: how message text is stored, where the HMAC key comes from, and the detectors'
//! parameters (identifier kinds, sensitive kinds, the repeat window, placeholders, extra
//! columns to keep or withhold).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Deserialize;

/// What l2lens writes of message text (`[text] store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Store {
    /// Markers of the findings only; no message text anywhere (the default).
    #[default]
    Findings,
    /// The redacted form: everything the detectors do not find stays.
    Redacted,
    /// The text as given.
    Raw,
}

impl Store {
    pub fn as_str(self) -> &'static str {
        match self {
            Store::Findings => "findings",
            Store::Redacted => "redacted",
            Store::Raw => "raw",
        }
    }
}

/// The resolved `[text]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct TextConfig {
    pub store: Store,
    /// The name of the environment variable that holds the HMAC key.
    pub key_env: String,
    pub sensitive_kinds: Vec<String>,
    /// Customer messages this long after a specialist entry can repeat its identifiers.
    pub repeat_window_ms: i64,
    /// Placeholder values, normalised (NFKC, lower-case, trimmed, spaces collapsed).
    pub placeholders: Vec<String>,
    /// Extra string columns of messages and handoffs to keep (lower-case, trimmed).
    pub keep_columns: Vec<String>,
    /// Extra columns of the other tables to withhold (lower-case, trimmed).
    pub withhold_columns: Vec<String>,
    /// Identifier kinds: name → regex.
    pub identifiers: BTreeMap<String, String>,
}

pub const DEFAULT_PLACEHOLDERS: [&str; 15] = [
    "n/a",
    "na",
    "-",
    "--",
    "none",
    "tbd",
    "todo",
    "?",
    "see chat",
    "see transcript",
    "same as above",
    "unknown",
    "nil",
    "null",
    ".",
];

pub const DEFAULT_WITHHOLD: [&str; 10] = [
    "body",
    "content",
    "message",
    "message_text",
    "caption",
    "comment",
    "note",
    "notes",
    "subject",
    "description",
];

impl Default for TextConfig {
    fn default() -> TextConfig {
        TextConfig {
            store: Store::Findings,
            key_env: "L2LENS_TEXT_KEY".to_owned(),
            sensitive_kinds: vec!["pan".to_owned(), "iban".to_owned()],
            repeat_window_ms: 86_400_000,
            placeholders: DEFAULT_PLACEHOLDERS
                .iter()
                .map(|p| normalise_placeholder(p))
                .collect(),
            keep_columns: Vec::new(),
            withhold_columns: DEFAULT_WITHHOLD.iter().map(|c| (*c).to_owned()).collect(),
            identifiers: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawText {
    store: Option<Store>,
    key_env: Option<String>,
    sensitive_kinds: Option<Vec<String>>,
    repeat_window_s: Option<i64>,
    placeholders: Option<Vec<String>>,
    keep_columns: Option<Vec<String>>,
    withhold_columns: Option<Vec<String>>,
    #[serde(default)]
    identifiers: BTreeMap<String, String>,
}

impl RawText {
    pub fn resolve(self) -> Result<TextConfig> {
        let d = TextConfig::default();
        let key_env = self.key_env.unwrap_or(d.key_env);
        if key_env.trim().is_empty() || key_env.contains(['=', '\0']) {
            bail!("[text] key_env must name an environment variable, got `{key_env}`");
        }
        let repeat_window_ms = match self.repeat_window_s {
            None => d.repeat_window_ms,
            Some(s) if s > 0 => s * 1000,
            Some(s) => {
                bail!("[text] repeat_window_s must be a positive number of seconds, got {s}")
            }
        };
        let columns = |list: Option<Vec<String>>, default: Vec<String>| {
            list.map_or(default, |l| {
                l.iter().map(|c| c.trim().to_lowercase()).collect()
            })
        };
        let config = TextConfig {
            store: self.store.unwrap_or(d.store),
            key_env,
            sensitive_kinds: self.sensitive_kinds.map_or(d.sensitive_kinds, |k| {
                k.iter().map(|s| s.trim().to_owned()).collect()
            }),
            repeat_window_ms,
            placeholders: self.placeholders.map_or(d.placeholders, |p| {
                p.iter().map(|s| normalise_placeholder(s)).collect()
            }),
            keep_columns: columns(self.keep_columns, d.keep_columns),
            withhold_columns: columns(self.withhold_columns, d.withhold_columns),
            identifiers: self.identifiers,
        };
        config.check().map_err(anyhow::Error::msg)?;
        Ok(config)
    }
}

/// The kinds the detectors know besides the configured identifier kinds.
pub const BUILT_IN_KINDS: [&str; 5] = ["pan", "iban", "email", "phone", "cvv"];

/// Names an identifier kind may not take.
pub const RESERVED_KINDS: [&str; 7] = ["pan", "iban", "email", "phone", "cvv", "url", "customer"];

/// Whether `name` can name an identifier kind: `[a-z][a-z0-9_]*`, not a reserved name.
pub fn check_kind_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !shaped {
        return Err(format!(
            "[text.identifiers] `{name}` is not a kind name: use lower-case letters, digits \
             and `_`, starting with a letter"
        ));
    }
    if RESERVED_KINDS.contains(&name) {
        return Err(format!(
            "[text.identifiers] `{name}` is a reserved kind name ({}); choose another",
            RESERVED_KINDS.join(", ")
        ));
    }
    Ok(())
}

impl TextConfig {
    /// The kind names, their regexes and the sensitive kinds.
    pub fn check(&self) -> Result<(), String> {
        for (kind, source) in &self.identifiers {
            check_kind_name(kind)?;
            regex::Regex::new(source)
                .map_err(|e| format!("[text.identifiers] `{kind}` is not a valid regex: {e}"))?;
        }
        for name in &self.sensitive_kinds {
            if !BUILT_IN_KINDS.contains(&name.as_str()) && !self.identifiers.contains_key(name) {
                return Err(format!(
                    "[text] sensitive_kinds names `{name}`, which is neither one of {} nor a \
                     kind of [text.identifiers]",
                    BUILT_IN_KINDS.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn identifier_list(&self) -> Vec<(String, String)> {
        self.identifiers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// A value as placeholders are compared: NFKC, lower-case (full Unicode mapping), trimmed,
/// White_Space runs collapsed to one space.
pub fn normalise_placeholder(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = value.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c: RawText = toml::from_str("").unwrap();
        assert_eq!(c.resolve().unwrap(), TextConfig::default());
        let c: RawText = toml::from_str(
            "store = \"redacted\"\nrepeat_window_s = 3600\nplaceholders = [\"N/A\", \"See  Chat\"]\n\
             keep_columns = [\" Agent_Note \"]\n[identifiers]\norder = '#([0-9]{5})'\n",
        )
        .unwrap();
        let c = c.resolve().unwrap();
        assert_eq!(c.store, Store::Redacted);
        assert_eq!(c.repeat_window_ms, 3_600_000);
        assert_eq!(c.placeholders, ["n/a", "see chat"]);
        assert_eq!(c.keep_columns, ["agent_note"]);
    }

    #[test]
    fn errors_name_the_key() {
        let err = |text: &str| {
            let raw: RawText = toml::from_str(text).unwrap();
            format!("{:#}", raw.resolve().unwrap_err())
        };
        assert!(err("repeat_window_s = 0").contains("repeat_window_s"));
        assert!(err("sensitive_kinds = [\"passport\"]").contains("`passport`"));
        assert!(err("[identifiers]\nurl = 'x'").contains("reserved"));
        assert!(toml::from_str::<RawText>("store = \"everything\"").is_err());
    }
}
