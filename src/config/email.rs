//! `[email]` of the configuration: where alert emails go and how to reach the server.
//!
//! The SMTP password is never part of the configuration: `password_env` names the
//! environment variable that holds it.

use anyhow::{Context, Result, bail};
use lettre::message::Mailbox;
use serde::Deserialize;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain text (a relay on localhost or inside a trusted network).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// `[email]` of the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_security")]
    pub security: Security,
    /// Log in as this user; the password comes from `password_env`.
    pub user: Option<String>,
    /// The environment variable that holds the SMTP password.
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// A PEM file of extra root certificates to trust (a private CA), besides the public ones.
    pub ca_file: Option<std::path::PathBuf>,
    pub from: String,
    pub to: Vec<String>,
    /// Where the dedupe state lives (default: `alert-state.json` beside the reports).
    pub state_file: Option<std::path::PathBuf>,
    /// A base URL where the reports are published; the mail links `<url>/<period>/index.html`.
    pub report_url: Option<String>,
    /// Sending attempts before giving up.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Wait before the second attempt; it doubles for each further one.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
    /// Mail the report's top findings and headline after every `l2lens run` (as
    /// `run --email-report` does).
    #[serde(default)]
    pub weekly_report: bool,
}

fn default_port() -> u16 {
    587
}
fn default_security() -> Security {
    Security::Starttls
}
fn default_password_env() -> String {
    "L2LENS_SMTP_PASSWORD".to_owned()
}
fn default_attempts() -> u32 {
    3
}
fn default_backoff_ms() -> u64 {
    1_000
}
fn default_timeout_s() -> u64 {
    20
}

impl EmailConfig {
    /// Checks the addresses and limits, so that a bad config fails before any work.
    pub fn validate(&self) -> Result<()> {
        self.from
            .parse::<Mailbox>()
            .with_context(|| format!("[email] from = `{}` is not an email address", self.from))?;
        if self.to.is_empty() {
            bail!("[email] to is empty: list at least one recipient");
        }
        for to in &self.to {
            to.parse::<Mailbox>()
                .with_context(|| format!("[email] to: `{to}` is not an email address"))?;
        }
        if self.attempts == 0 || self.attempts > 10 {
            bail!("[email] attempts must be between 1 and 10");
        }
        if self.backoff_ms > 60_000 {
            bail!("[email] backoff_ms must be at most 60000");
        }
        Ok(())
    }
}
