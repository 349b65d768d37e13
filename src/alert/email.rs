//! Alert emails: one message per run about new, escalated and resolved alerts, with a plain
//! text part and an HTML part, sent over SMTP with bounded retries.
//!
//! The SMTP password is only ever read from the environment variable the config names; it is
//! never written to a file, a log or an error message.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use askama::Template;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::Deserialize;

use super::Alert;
use super::state::Changes;
use crate::metrics;

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

/// Where the mail says the report is.
pub fn report_location(config: &EmailConfig, period_start: &str, local: &str) -> String {
    match &config.report_url {
        Some(url) => format!("{}/{period_start}/index.html", url.trim_end_matches('/')),
        None => local.to_owned(),
    }
}

struct Line {
    severity: String,
    status: String,
    group: String,
    metric: String,
    value: String,
    threshold: String,
    n: String,
}

fn line(alert: &Alert, status: String) -> Line {
    let unit = metrics::find(&alert.metric).map_or(metrics::Unit::Rate, |m| m.unit);
    Line {
        severity: alert.severity.as_str().to_uppercase(),
        status,
        group: alert.group.clone(),
        metric: alert.metric.clone(),
        value: metrics::human(alert.value, unit),
        threshold: alert.threshold_human.clone(),
        n: alert.n.to_string(),
    }
}

#[derive(Template)]
#[template(path = "email.html")]
struct EmailPage<'a> {
    period_start: &'a str,
    as_of: &'a str,
    lines: &'a [Line],
    resolved: &'a [(String, String, String)],
    report: &'a str,
}

/// The subject: the period, the count and the worst severity.
pub fn subject(changes: &Changes, period_start: &str) -> String {
    let firing = changes.new.len() + changes.escalated.len();
    match changes.worst() {
        Some(worst) => format!(
            "[l2lens] {}: {firing} new or escalated alert{} for the period starting {period_start}{}",
            worst.as_str().to_uppercase(),
            if firing == 1 { "" } else { "s" },
            if changes.resolved.is_empty() {
                String::new()
            } else {
                format!(", {} resolved", changes.resolved.len())
            }
        ),
        None => format!(
            "[l2lens] RESOLVED: {} alert{} for the period starting {period_start}",
            changes.resolved.len(),
            if changes.resolved.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Builds the message.
pub fn compose(
    config: &EmailConfig,
    changes: &Changes,
    period_start: &str,
    as_of: &str,
    report: &str,
) -> Result<Message> {
    let mut lines: Vec<Line> = changes
        .new
        .iter()
        .map(|a| line(a, "new".to_owned()))
        .chain(
            changes
                .escalated
                .iter()
                .map(|(a, before)| line(a, format!("escalated from {}", before.as_str()))),
        )
        .collect();
    lines.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.metric.cmp(&b.metric)));
    let resolved: Vec<(String, String, String)> = changes
        .resolved
        .iter()
        .map(|m| {
            (
                m.group.clone(),
                m.metric.clone(),
                m.severity.as_str().to_owned(),
            )
        })
        .collect();

    let mut text =
        format!("l2lens alerts for the period starting {period_start} (data as of {as_of})\n\n");
    if !lines.is_empty() {
        text.push_str("New or escalated:\n");
        for l in &lines {
            text.push_str(&format!(
                "  {:<8}  {:<26}  {:<20}  {} against {} (n={})  [{}]\n",
                l.severity, l.metric, l.group, l.value, l.threshold, l.n, l.status
            ));
        }
        text.push('\n');
    }
    if !resolved.is_empty() {
        text.push_str("Resolved (no longer firing):\n");
        for (group, metric, severity) in &resolved {
            text.push_str(&format!("  {metric:<26}  {group:<20}  (was {severity})\n"));
        }
        text.push('\n');
    }
    text.push_str(&format!("Report: {report}\n"));

    let html = EmailPage {
        period_start,
        as_of,
        lines: &lines,
        resolved: &resolved,
        report,
    }
    .render()
    .context("rendering the email")?;

    let mut builder = Message::builder()
        .from(config.from.parse::<Mailbox>()?)
        .subject(subject(changes, period_start));
    for to in &config.to {
        builder = builder.to(to.parse::<Mailbox>()?);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .context("building the email")
}

fn transport(config: &EmailConfig) -> Result<SmtpTransport> {
    let tls = || -> Result<TlsParameters> {
        let mut params = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("[email] ca_file: cannot read {}", path.display()))?;
            let cert = Certificate::from_pem(&pem).with_context(|| {
                format!(
                    "[email] ca_file: {} is not a PEM certificate",
                    path.display()
                )
            })?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .with_context(|| format!("cannot set up TLS for {}", config.host))
    };
    // A TLS connection is never downgraded: STARTTLS is required when asked for.
    let tls = match config.security {
        Security::None => Tls::None,
        Security::Starttls => Tls::Required(tls()?),
        Security::Tls => Tls::Wrapper(tls()?),
    };
    let mut builder = SmtpTransport::builder_dangerous(&config.host)
        .tls(tls)
        .port(config.port)
        .timeout(Some(Duration::from_secs(config.timeout_s)));
    if let Some(user) = &config.user {
        let password = std::env::var(&config.password_env)
            .ok()
            .filter(|p| !p.is_empty());
        let Some(password) = password else {
            bail!(
                "[email] user is set but the environment variable {} holding the SMTP password \
                 is empty or unset",
                config.password_env
            );
        };
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Sends with bounded exponential backoff. The error names the server and the last failure,
/// never the password.
pub fn send(config: &EmailConfig, message: &Message, say: &dyn Fn(String)) -> Result<()> {
    let mailer = transport(config)?;
    let mut wait = Duration::from_millis(config.backoff_ms);
    let mut last = String::new();
    for attempt in 1..=config.attempts {
        match mailer.send(message) {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = describe(&e, config);
                if attempt < config.attempts {
                    say(format!(
                        "email: attempt {attempt} of {} failed ({last}); retrying in {:.1} s",
                        config.attempts,
                        wait.as_secs_f64()
                    ));
                    std::thread::sleep(wait);
                    wait *= 2;
                }
            }
        }
    }
    bail!(
        "could not send the alert email via {}:{} after {} attempt(s): {last}. The report was \
         written and the alert state is unchanged, so the next run tries again",
        config.host,
        config.port,
        config.attempts
    )
}

fn describe(error: &lettre::transport::smtp::Error, config: &EmailConfig) -> String {
    let text = error.to_string();
    let auth = error.status().is_some_and(|code| {
        let code = code.to_string();
        code.starts_with("535") || code.starts_with("530") || code.starts_with("534")
    });
    if auth {
        format!(
            "authentication failed for user {} ({text}); check the user and the password in ${}",
            config.user.as_deref().unwrap_or("(none)"),
            config.password_env
        )
    } else {
        text
    }
}
