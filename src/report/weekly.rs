//! The report as a mail (`run --email-report`, `[email] weekly_report`): the findings and the
//! headline of the report period, with the chart of the first finding inline (a MIME related
//! part, no remote image), linking to the report. The thing a director opens on Monday.

use anyhow::{Context, Result};
use askama::Template;
use chrono::NaiveDate;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};

use super::headline::Headline;
use crate::alert::groups::MetricAlerts;
use crate::config::EmailConfig;

/// The Content-ID of the inline chart.
pub const CHART_ID: &str = "headline-chart";

/// One finding as the mail shows it.
pub struct MailFinding {
    pub severity: &'static str,
    pub sentence: String,
}

/// What the weekly mail says.
pub struct Weekly<'a> {
    pub period_kind: String,
    pub period_start: NaiveDate,
    pub as_of: String,
    pub findings: Vec<MailFinding>,
    pub headline: &'a [Headline],
    /// The chart shown inline: its caption and PNG bytes.
    pub chart: Option<(String, Vec<u8>)>,
    pub report: &'a str,
}

impl Weekly<'_> {
    /// The findings of `grouped` (ranked as the report ranks them).
    pub fn findings(grouped: &[MetricAlerts<'_>], dimension: &str) -> Vec<MailFinding> {
        grouped
            .iter()
            .take(crate::alert::groups::MAX_FINDINGS)
            .map(|g| MailFinding {
                severity: g.severity.as_str(),
                sentence: g.sentence(dimension),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "weekly.html")]
struct WeeklyPage<'a> {
    w: &'a Weekly<'a>,
    chart_id: &'static str,
}

/// The subject: the period and how many findings of each severity.
pub fn subject(w: &Weekly<'_>) -> String {
    let critical = w
        .findings
        .iter()
        .filter(|f| f.severity == "critical")
        .count();
    let warning = w.findings.len() - critical;
    let what = if w.findings.is_empty() {
        "no alerts".to_owned()
    } else {
        format!("{critical} critical, {warning} warning finding(s)")
    };
    format!(
        "[l2lens] L2 report, {} starting {}: {what}",
        w.period_kind, w.period_start
    )
}

/// The plain-text part: the findings, the headline, the link.
pub fn text(w: &Weekly<'_>) -> String {
    let mut out = format!(
        "L2 handoff report, {} starting {} (data as of {})\n\n",
        w.period_kind, w.period_start, w.as_of
    );
    if w.findings.is_empty() {
        out.push_str("No metric broke a threshold.\n");
    } else {
        out.push_str("What to act on:\n");
        for (i, f) in w.findings.iter().enumerate() {
            out.push_str(&format!(
                "{}. [{}] {}\n",
                i + 1,
                f.severity.to_uppercase(),
                f.sentence
            ));
        }
    }
    if !w.headline.is_empty() {
        out.push_str("\nAt a glance (all groups):\n");
        for h in w.headline {
            out.push_str(&format!(
                "  {}: {} {} {}\n",
                h.name, h.value, h.arrow, h.delta
            ));
        }
    }
    out.push_str(&format!("\nReport: {}\n", w.report));
    out
}

/// Builds the message: text, and HTML with the chart as a related inline part.
pub fn compose(config: &EmailConfig, w: &Weekly<'_>) -> Result<Message> {
    let html = WeeklyPage {
        w,
        chart_id: CHART_ID,
    }
    .render()
    .context("rendering the report email")?;
    let mut related = MultiPart::related().singlepart(
        SinglePart::builder()
            .header(ContentType::TEXT_HTML)
            .body(html),
    );
    if let Some((_, png)) = &w.chart {
        related = related.singlepart(
            Attachment::new_inline(CHART_ID.to_owned())
                .body(png.clone(), ContentType::parse("image/png")?),
        );
    }
    crate::alert::email::addressed(config, subject(w))?
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text(w)),
                )
                .multipart(related),
        )
        .context("building the report email")
}
