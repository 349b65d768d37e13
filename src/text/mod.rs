//! Message text, read without being kept: the detectors, the keyed tokens and the storage rule.
//!
//! Text is scanned while the input is read, before any row is sorted or spilled; what is kept
//! of it is decided by `[text] store` (markers of the findings by default, never the raw text
//! unless `store = "raw"`). Findings carry a masked form and, for e-mail, phone and identifier
//! kinds, a keyed token (HMAC-SHA256 under the key in the variable `[text] key_env` names), so
//! that the same identifier can be matched across messages without being stored.

pub mod detect;
mod forms;
mod hmac;
mod normalise;
mod numbers;

use std::path::Path;

use anyhow::{Result, bail};

use crate::config::TextConfig;
pub use detect::{Detector, Finding, Kind, Scan};

/// The file that records which key a folder's tokens were made with.
pub const FINGERPRINT_FILE: &str = "text_key_fingerprint";

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// The HMAC key of a run.
#[derive(Clone)]
pub struct Key {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(fingerprint {})", self.fingerprint())
    }
}

impl Key {
    /// The key in the variable `[text] key_env` names: `None` when it is unset or empty; an
    /// error when it is shorter than 16 bytes or not UTF-8. The key is never printed.
    pub fn from_env(config: &TextConfig) -> Result<Option<Key>> {
        Key::from_value(&config.key_env, std::env::var_os(&config.key_env))
    }

    /// [`Self::from_env`] for the value `value` of the variable `name`.
    pub fn from_value(name: &str, value: Option<std::ffi::OsString>) -> Result<Option<Key>> {
        match value {
            None => Ok(None),
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => {
                let Some(text) = value.to_str() else {
                    bail!(
                        "set {name} (named by [text] key_env) to a random key of at least \
                         {MIN_KEY_BYTES} bytes: its value is not valid UTF-8"
                    );
                };
                if text.len() < MIN_KEY_BYTES {
                    bail!(
                        "set {name} (named by [text] key_env) to a random key of at least \
                         {MIN_KEY_BYTES} bytes (e.g. `openssl rand -hex 32`): it has {}",
                        text.len()
                    );
                }
                Ok(Some(Key {
                    bytes: text.as_bytes().to_vec(),
                }))
            }
        }
    }

    #[cfg(test)]
    pub fn new(bytes: &[u8]) -> Key {
        Key {
            bytes: bytes.to_vec(),
        }
    }

    /// The key fingerprint: first 16 hex digits of HMAC-SHA256(key, `l2lens-key-fingerprint`).
    pub fn fingerprint(&self) -> String {
        hmac::short_hex(&self.bytes, b"l2lens-key-fingerprint")
    }

    /// The keyed hash of a customer id for `hash_customer_ids`.
    pub fn customer_hash(&self, id: &str) -> String {
        hmac::short_hex(&self.bytes, format!("customer:{id}").as_bytes())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The detector of a configuration and key.
pub fn detector(config: &TextConfig, key: Option<&Key>) -> Result<Detector> {
    Detector::new(
        &config.identifier_list(),
        &config.sensitive_kinds,
        key.map(|k| k.bytes.clone()),
    )
    .map_err(anyhow::Error::msg)
}

/// The fingerprint recorded in `folder`, if any.
pub fn recorded_fingerprint(folder: &Path) -> Result<Option<String>> {
    let path = folder.join(FINGERPRINT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Stops when `folder` records a key fingerprint and the run's key has another one.
pub fn check_fingerprint(folder: &Path, config: &TextConfig, key: Option<&Key>) -> Result<()> {
    let (Some(recorded), Some(key)) = (recorded_fingerprint(folder)?, key) else {
        return Ok(());
    };
    let fingerprint = key.fingerprint();
    if recorded != fingerprint {
        bail!(
            "{} has key fingerprint {fingerprint}, but {} was written with key fingerprint \
             {recorded}: use the same key",
            config.key_env,
            folder.display()
        );
    }
    Ok(())
}

/// Records the key's fingerprint in `folder` (nothing without a key).
pub fn record_fingerprint(folder: &Path, key: Option<&Key>) -> Result<()> {
    if let Some(key) = key {
        let path = folder.join(FINGERPRINT_FILE);
        std::fs::write(&path, format!("{}\n", key.fingerprint()))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A configuration's text as l2lens keeps a copy of it: the key, should a comment or value
/// hold it, replaced (the key is never written anywhere).
pub fn without_key(text: &str, config: &TextConfig) -> String {
    match Key::from_env(config) {
        Ok(Some(key)) => match std::str::from_utf8(key.bytes()) {
            Ok(k) if !k.is_empty() => text.replace(k, "[key withheld]"),
            _ => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// The warning of a run that reads text without a key.
pub fn no_key_warning(config: &TextConfig) -> String {
    format!(
        "warning: {} is not set: identifiers are not tokenised, so repetition and brief recall \
         are not measured (set it to a random key of at least {MIN_KEY_BYTES} bytes)",
        config.key_env
    )
}

/// A quarantined value as the quarantine may show it: a value of a text column is withheld
/// (`[text withheld: N chars]`), a line that could not be split into fields of a text table is
/// withheld (`[line withheld: N bytes]`), and any other value has its card numbers and IBANs
/// replaced by their markers.
pub fn quarantine_value(text_column: bool, text_table_line: bool, value: &str) -> String {
    if text_column {
        return format!("[text withheld: {} chars]", detect::text_chars(value));
    }
    if text_table_line {
        // The reader's own words ("expected 8 fields, found 6") stay; the line goes.
        return match value.split_once(": ") {
            Some((why, line))
                if why.starts_with("expected ")
                    && why.contains(" fields, found ")
                    && why.ends_with(|c: char| c.is_ascii_digit()) =>
            {
                format!("{why}: [line withheld: {} bytes]", line.len())
            }
            _ => format!("[line withheld: {} bytes]", value.len()),
        };
    }
    static CARDS: std::sync::LazyLock<Detector> = std::sync::LazyLock::new(|| {
        Detector::new(&[], &["pan".to_owned(), "iban".to_owned()], None).expect("no identifiers")
    });
    if !value.bytes().any(|b| b.is_ascii_digit()) && value.is_ascii() {
        return value.to_owned();
    }
    CARDS.redact_cards(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_values_never_hold_text_or_card_numbers() {
        assert_eq!(
            quarantine_value(true, false, "card 4111 1111 1111 1111"),
            "[text withheld: 24 chars]"
        );
        assert_eq!(
            quarantine_value(false, true, "m1,t1,x,customer,card 4111"),
            "[line withheld: 26 bytes]"
        );
        assert_eq!(
            quarantine_value(false, true, "expected 8 fields, found 6: m1,t1,card: 4111"),
            "expected 8 fields, found 6: [line withheld: 16 bytes]"
        );
        assert_eq!(
            quarantine_value(false, true, "card 4111 1111: x"),
            "[line withheld: 17 bytes]"
        );
        assert_eq!(
            quarantine_value(false, false, "not a date: 4111 1111 1111 1111"),
            "not a date: [pan|visa ****1111|]"
        );
        assert_eq!(
            quarantine_value(false, false, "see https://x.example/4111111111111111"),
            "see https://x.example/[pan|visa ****1111|]"
        );
        assert_eq!(quarantine_value(false, false, "yesterday"), "yesterday");
    }

    #[test]
    fn short_keys_are_refused_and_fingerprints_compared() {
        let config = TextConfig {
            key_env: "L2LENS_TEST_KEY_SHORT".to_owned(),
            ..TextConfig::default()
        };
        let err = Key::from_value(&config.key_env, Some("short".into()));
        let err = format!("{:#}", err.unwrap_err());
        assert!(
            err.contains("L2LENS_TEST_KEY_SHORT") && !err.contains("short\""),
            "{err}"
        );
        assert!(Key::from_value("K", Some("".into())).unwrap().is_none());
        assert!(Key::from_value("K", None).unwrap().is_none());
        let dir = std::env::temp_dir().join(format!("l2lens-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = Key::new(b"l2lens-fixture-key");
        record_fingerprint(&dir, Some(&key)).unwrap();
        assert_eq!(
            recorded_fingerprint(&dir).unwrap().as_deref(),
            Some("1be3a6e6c6ae0df4")
        );
        check_fingerprint(&dir, &config, Some(&key)).unwrap();
        let other = Key::new(b"another-fixture-key-0");
        let err = format!(
            "{:#}",
            check_fingerprint(&dir, &config, Some(&other)).unwrap_err()
        );
        assert!(
            err.contains("56351cb38f4152d8") && err.contains("1be3a6e6c6ae0df4"),
            "{err}"
        );
        assert!(!err.contains("another-fixture-key"), "{err}");
        check_fingerprint(&dir, &config, None).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
