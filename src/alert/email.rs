//! Alert emails: one message per run about new, escalated and resolved alerts, with a plain
//! text part and an HTML part, sent over SMTP with bounded retries.
//!
//! The SMTP password is only ever read from the environment variable the config names; it is
//! never written to a file, a log or an error message.

use std::time::Duration;

use chrono::NaiveDate;

use super::state::Changes;
use super::{Alert, Severity};
use crate::config::{EmailConfig, Security};
use crate::units::human;
use anyhow::{Context, Result, bail};
use askama::Template;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

/// Where the mail says the report is.
pub fn report_location(config: &EmailConfig, period_start: NaiveDate, local: &str) -> String {
    match &config.report_url {
        Some(url) => format!("{}/{period_start}/index.html", url.trim_end_matches('/')),
        None => local.to_owned(),
    }
}

struct Line {
    /// Kept as the enum so that lines sort by how bad they are, not by their text.
    severity: Severity,
    status: String,
    group: String,
    metric: String,
    /// The metric's name for people.
    name: String,
    value: String,
    threshold: String,
    n: String,
}

fn line(alert: &Alert, status: String) -> Line {
    let unit = alert.metric.info().unit;
    Line {
        severity: alert.severity,
        status,
        group: crate::units::printable(&alert.group),
        metric: alert.metric.id().to_owned(),
        name: alert.metric.info().name.to_owned(),
        value: human(alert.value, unit),
        threshold: alert.threshold_human.clone(),
        n: alert.n.to_string(),
    }
}

impl Line {
    /// The severity as the mail shows it: `CRITICAL`, `WARNING`.
    fn label(&self) -> String {
        self.severity.as_str().to_uppercase()
    }
}

#[derive(Template)]
#[template(path = "email.html")]
struct EmailPage<'a> {
    period_start: NaiveDate,
    as_of: &'a str,
    /// The lines grouped by metric, in the report's order of its alert cards.
    metrics: &'a [Vec<Line>],
    resolved: &'a [(String, String, String)],
    report: &'a str,
}

/// The subject: the period, the count and the worst severity.
pub fn subject(changes: &Changes, period_start: NaiveDate) -> String {
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

/// Builds the message. `ranking` is the order of the report's alert cards (its metrics, most
/// pressing first, [`super::groups::by_metric`]): the mail lists its alerts by metric in the
/// same order, and within a metric as the card does (`ALL`, then worst first).
pub fn compose(
    config: &EmailConfig,
    changes: &Changes,
    period_start: NaiveDate,
    as_of: i64,
    report: &str,
    ranking: &[crate::metrics::MetricRef],
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
    let rank = |metric: &str| {
        ranking
            .iter()
            .position(|m| m.id() == metric)
            .unwrap_or(ranking.len())
    };
    let worst = |metric: &str, lines: &[Line]| {
        lines
            .iter()
            .filter(|l| l.metric == metric)
            .map(|l| l.severity)
            .max()
    };
    let worst_of: std::collections::HashMap<String, Option<Severity>> = lines
        .iter()
        .map(|l| (l.metric.clone(), worst(&l.metric, &lines)))
        .collect();
    lines.sort_by(|a, b| {
        rank(&a.metric)
            .cmp(&rank(&b.metric))
            .then_with(|| worst_of[&b.metric].cmp(&worst_of[&a.metric]))
            .then_with(|| a.metric.cmp(&b.metric))
            .then_with(|| (b.group == crate::metrics::ALL).cmp(&(a.group == crate::metrics::ALL)))
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.group.cmp(&b.group))
    });
    let mut metrics: Vec<Vec<Line>> = Vec::new();
    for l in lines {
        match metrics.last_mut() {
            Some(group) if group[0].metric == l.metric => group.push(l),
            _ => metrics.push(vec![l]),
        }
    }
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

    let as_of = crate::time::format_rfc3339(as_of);
    let mut text =
        format!("l2lens alerts for the period starting {period_start} (data as of {as_of})\n\n");
    if !metrics.is_empty() {
        text.push_str("New or escalated, by metric:\n");
        for lines in &metrics {
            text.push_str(&format!("\n  {} ({})\n", lines[0].name, lines[0].metric));
            for l in lines {
                text.push_str(&format!(
                    "    {:<8}  {:<20}  {} against {} (n={})  [{}]\n",
                    l.label(),
                    l.group,
                    l.value,
                    l.threshold,
                    l.n,
                    l.status
                ));
            }
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
        as_of: &as_of,
        metrics: &metrics,
        resolved: &resolved,
        report,
    }
    .render()
    .context("rendering the email")?;

    addressed(config, subject(changes, period_start))?
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

/// A message from `[email] from` to every `[email] to`, with `subject`.
pub fn addressed(config: &EmailConfig, subject: String) -> Result<lettre::message::MessageBuilder> {
    let mut builder = Message::builder()
        .from(config.from.parse::<Mailbox>()?)
        .subject(subject);
    for to in &config.to {
        builder = builder.to(to.parse::<Mailbox>()?);
    }
    Ok(builder)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(metric: &str, severity: Severity) -> Alert {
        Alert {
            period_start: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            dimension: crate::metrics::Dimension::Lane,
            group: "ALL".to_owned(),
            metric: crate::metrics::MetricRef::parse(metric).unwrap(),
            value: 1.0,
            threshold: "> 0".to_owned(),
            threshold_human: "> 0".to_owned(),
            condition: None,
            severity,
            n: 30,
            conversations: Vec::new(),
            drill: Vec::new(),
        }
    }

    fn settings() -> EmailConfig {
        toml::from_str(
            "host = \"localhost\"\nfrom = \"l2lens@example.com\"\nto = [\"cx@example.com\"]\n",
        )
        .unwrap()
    }

    #[test]
    fn the_metrics_follow_the_order_of_the_report_cards() {
        let changes = Changes {
            new: vec![
                alert("window_expired", Severity::Critical),
                alert("art_median_s", Severity::Warning),
            ],
            ..Changes::default()
        };
        let ranking = [crate::metrics::MetricRef::parse("art_median_s").unwrap()];
        let message = compose(
            &settings(),
            &changes,
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            0,
            "report",
            &ranking,
        )
        .unwrap();
        let body = String::from_utf8(message.formatted()).unwrap();
        for part in body.split("Content-Type: ").skip(2) {
            let first = part.find("art_median_s").expect("the ranked metric");
            let second = part.find("window_expired").expect("the other");
            assert!(first < second, "the report's order in:\n{part}");
            assert!(part.contains("Resolution time (median)"), "{part}");
        }
    }

    #[test]
    fn criticals_are_listed_above_warnings_in_both_parts() {
        // `art_median_s` sorts before `window_expired` by name, and "WARNING" after
        // "CRITICAL" as text: only the severity order puts the critical line first.
        let changes = Changes {
            new: vec![
                alert("art_median_s", Severity::Warning),
                alert("window_expired", Severity::Critical),
            ],
            ..Changes::default()
        };
        let message = compose(
            &settings(),
            &changes,
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            0,
            "report",
            &[],
        )
        .unwrap();
        let body = String::from_utf8(message.formatted()).unwrap();
        for part in body.split("Content-Type: ").skip(2) {
            let critical = part.find("window_expired").expect("critical line");
            let warning = part.find("art_median_s").expect("warning line");
            assert!(critical < warning, "critical first in:\n{part}");
        }
    }
}
