//! One file per subcommand. A command orchestrates library stages and never calls another
//! command.

mod analyse;
pub(crate) use analyse::{Purpose, analyse, partition_plan};

pub(crate) mod alerts;
pub(crate) mod board;
pub(crate) mod calendar;
pub(crate) mod facts;
pub(crate) mod import;
pub(crate) mod ingest;
pub(crate) mod metrics;
pub(crate) mod query;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod sample;
pub(crate) mod sql;

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::cli::DataArgs;
use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::IngestOptions;
use crate::progress::Progress;
use crate::time::parse_timestamp;

/// The table format of `--format` (or the `--out` extension) for commands that can also print
/// an aligned table: `None` is the table.
pub(crate) fn table_or_format(
    explicit: Option<crate::cli::QueryFormat>,
    target: &crate::output::Target,
) -> Option<crate::output::TableFormat> {
    use crate::cli::QueryFormat;
    use crate::output::TableFormat;
    match explicit {
        Some(QueryFormat::Table) => None,
        Some(QueryFormat::Csv) => Some(TableFormat::Csv),
        Some(QueryFormat::Json) => Some(TableFormat::Json),
        Some(QueryFormat::Parquet) => Some(TableFormat::Parquet),
        None => target.path().and_then(TableFormat::from_path),
    }
}

/// The configuration and ingest options for a command that reads `--data`.
pub(crate) fn load_options(args: &DataArgs) -> Result<(Config, IngestOptions)> {
    let config = Config::resolve(args.config.as_deref(), Some(&args.data))?;
    crate::alert::check_metrics(&crate::metrics::thresholds(&config)?).with_context(|| {
        match &config.source {
            Some(path) => format!("in config file {}", path.display()),
            None => "in the built-in thresholds".to_owned(),
        }
    })?;
    let key = crate::text::Key::from_env(&config.text)?;
    // A folder written with another key would match no token: stop rather than measure 0.
    crate::text::check_fingerprint(&args.data, &config.text, key.as_ref())?;
    let options = IngestOptions {
        epoch_unit: args.epoch_unit,
        known_lanes: config.known_lanes(),
        input: config.input.clone(),
        text: std::sync::Arc::new(crate::ingest::text::TextPass::new(
            &config.text,
            key.as_ref(),
        )?),
    };
    Ok((config, options))
}

/// Loads the configuration and the data of `--data` (raw directory or warehouse), and warns
/// about what the data holds that the configuration does not know. Returns the unknown lanes
/// with their row counts too (the report lists them).
pub(crate) fn load_data(
    args: &DataArgs,
    progress: &Progress,
) -> Result<(Config, Dataset, crate::dataset::LaneCounts)> {
    let (config, options) = load_options(args)?;
    let data = Dataset::load(&args.data, &options, progress)?;
    for line in text_warnings(&data.summary.text, &config.text) {
        progress.say(line);
    }
    let quarantined = data.summary.rows_quarantined();
    if quarantined > 0 && !data.from_warehouse {
        progress.say(format!(
            "warning: {quarantined} row(s) of {} failed validation and are left out; \
             `l2lens ingest` writes them to a quarantine file",
            args.data.display()
        ));
    }
    let unknown_lanes = data.unknown_lanes(&config)?;
    if let Some(line) = unknown_lanes_line(&unknown_lanes, &config) {
        progress.say(line);
    }
    if let Some(line) = reserved_owners_line(&reserved_assignees(&data)?) {
        progress.say(format!("warning: {line}"));
    }
    Ok((config, data, unknown_lanes))
}

/// Assignee ids equal to a reserved owner group name (`bot`, `unowned`, `ALL`, compared
/// exactly), with their assignment row counts, in that order.
pub(crate) fn reserved_assignees(data: &Dataset) -> Result<Vec<(String, u64)>> {
    use polars::prelude::*;
    let reserved = crate::facts::outcomes::RESERVED_GROUPS;
    let counts = crate::dataset::stream(
        data.table(crate::ingest::schema::Table::Assignments)?
            .select([col("assignee_id")])
            .filter(
                reserved
                    .iter()
                    .map(|name| col("assignee_id").eq(lit(*name)))
                    .reduce(|a, b| a.or(b))
                    .unwrap_or(lit(false)),
            )
            .group_by([col("assignee_id")])
            .agg([len().cast(DataType::UInt64).alias("n")]),
    )?;
    let ids = counts.column("assignee_id")?.str()?;
    let ns = counts.column("n")?.u64()?;
    let found: BTreeMap<&str, u64> = ids
        .iter()
        .zip(ns.iter())
        .filter_map(|(id, n)| Some((id?, n?)))
        .collect();
    Ok(reserved
        .iter()
        .filter_map(|name| found.get(name).map(|n| ((*name).to_owned(), *n)))
        .collect())
}

/// The data-quality line about assignee ids that are reserved owner group names, or `None`.
pub(crate) fn reserved_owners_line(found: &[(String, u64)]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let parts: Vec<String> = found
        .iter()
        .map(|(id, n)| {
            let goes = if id == crate::metrics::ALL {
                crate::facts::outcomes::UNOWNED
            } else {
                id.as_str()
            };
            format!("`{id}` ({n} assignment rows) counts as the `{goes}` group")
        })
        .collect();
    Some(format!(
        "assignee ids that are reserved owner group names: {}; rename them in the export to see \
         those people under --by owner",
        parts.join(", ")
    ))
}

/// The warning about lanes the configuration does not name, or `None` when there are none.
pub(crate) fn unknown_lanes_line(unknown: &[(String, u64)], config: &Config) -> Option<String> {
    if unknown.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let mut names: Vec<String> = unknown
        .iter()
        .take(SHOWN)
        .map(|(lane, n)| format!("{lane} ({n} rows)"))
        .collect();
    if unknown.len() > SHOWN {
        names.push(format!("and {} more", unknown.len() - SHOWN));
    }
    let source = config.source.as_ref().map_or_else(
        || "the built-in lanes".to_owned(),
        |p| p.display().to_string(),
    );
    Some(format!(
        "warning: {} lane(s) not in {source} count as tier L1: {}; name them under [lanes]",
        unknown.len(),
        names.join(", ")
    ))
}

/// The warnings of a run that read text: no key (repetition and recall not measured), and raw
/// storage (the text is written as given).
pub(crate) fn text_warnings(
    summary: &crate::ingest::summary::TextSummary,
    config: &crate::config::TextConfig,
) -> Vec<String> {
    let mut lines = Vec::new();
    if summary.messages_with_text == 0 {
        return lines;
    }
    if summary.key_fingerprint.is_none() {
        lines.push(crate::text::no_key_warning(config));
    }
    if summary.store == "raw" {
        lines.push(
            "warning: [text] store = \"raw\": message text and the brief fields are written as \
             given; treat every output as personal data"
                .to_owned(),
        );
    }
    lines
}

/// What the report says of the data's text: what was scanned and how it is stored, or that there
/// is none; and the extra columns withheld.
pub(crate) fn text_lines(
    summary: &crate::ingest::summary::TextSummary,
    config: &crate::config::TextConfig,
) -> Vec<String> {
    let mut lines = Vec::new();
    if summary.messages_with_text == 0 {
        lines.push(
            "No message text in the data: repetition, brief recall and card numbers from              customers are not measured; placeholder briefs and cards in briefs are."
                .to_owned(),
        );
    } else {
        let store = if summary.store.is_empty() {
            config.store.as_str()
        } else {
            summary.store.as_str()
        };
        lines.push(match &summary.key_fingerprint {
            Some(fp) => format!(
                "Text: {} messages scanned, store = {store}, key from {} (key fingerprint {fp}).",
                summary.messages_with_text, config.key_env
            ),
            None => format!(
                "Text: {} messages scanned, store = {store}, no key: identifiers are not                  tokenised, so repetition and brief recall are not measured (set {}).",
                summary.messages_with_text, config.key_env
            ),
        });
    }
    if !summary.withheld_columns.is_empty() {
        lines.push(format!(
            "Withheld columns: {} (name them in [text] keep_columns to keep them).",
            summary.withheld_columns.join(", ")
        ));
    }
    lines
}

/// Parses `--as-of`.
pub(crate) fn parse_as_of(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        parse_timestamp(t, None).with_context(|| {
            format!("--as-of `{t}` is not a timestamp; use RFC 3339, e.g. 2026-11-25T00:00:00Z")
        })
    })
    .transpose()
}

/// The caption of the bot outcomes table.
fn outcome_notes(o: &crate::config::Outcomes) -> Vec<String> {
    let closing = if o.closing_intents.is_empty() {
        "none".to_owned()
    } else {
        o.closing_intents.join(", ")
    };
    vec![format!(
        "Bot conversations settled in the period: resolved, abandoned or handed to a person; \
         open, unengaged and human-first ones excluded. A question unanswered {} h after the \
         customer's last message is abandoned; closing intents skipped: {closing}. A resolution \
         holds with no repeat contact ({}) within {} days.",
        o.abandon_after_ms as f64 / 3_600_000.0,
        match o.durable_match {
            crate::config::DurableMatch::CustomerIntent => "same customer and intent",
            crate::config::DurableMatch::Customer => "same customer",
        },
        o.durable_horizon_ms as f64 / 86_400_000.0
    )]
}

/// Evaluates the alerts of the period to report and writes the report; the report is on
/// disk before anything else happens with the alerts.
pub(crate) fn report_period(
    analysis: &crate::analysis::Analysis,
    period_args: &crate::cli::PeriodArgs,
    weeks_back: usize,
    out: &std::path::Path,
    progress: &Progress,
) -> Result<(crate::alert::AlertReport, std::path::PathBuf)> {
    let chosen = analysis.report_period(period_args.week.as_deref(), period_args.period_start)?;
    if let Some(note) = &chosen.note {
        progress.say(format!("note: {note}"));
    }
    let period_start = chosen.start;
    let step = progress.step("evaluating alerts and rendering the report");
    let crate::analysis::PeriodView {
        alerts,
        board,
        templates,
        tally,
    } = analysis.period_view(period_start, progress)?;
    // What the data lacks for a metric, from each family's data needs.
    let mut governance_notes = Vec::new();
    let mut core_notes = Vec::new();
    let mut text_notes = text_lines(&analysis.data.summary.text, &analysis.config.text);
    for (set, missing) in crate::metrics::missing_inputs(&analysis.data) {
        match set {
            crate::metrics::MetricSet::Governance => governance_notes.push(missing),
            crate::metrics::MetricSet::Text => text_notes.push(missing),
            _ => core_notes.push(missing),
        }
    }
    let mut whatsapp = crate::report::whatsapp::lines_of(
        &tally,
        &analysis.config,
        &analysis.data.summary,
        &analysis.data.quarantine,
        &analysis.rows,
        period_start,
    );
    let quiet = analysis.quiet.line(analysis.options.period);
    for line in reserved_owners_line(&reserved_assignees(&analysis.data)?)
        .into_iter()
        .chain(quiet)
    {
        let mut chars = line.chars();
        let first = chars.next().map(|c| c.to_uppercase().to_string());
        whatsapp
            .quality
            .push(format!("{}{}.", first.unwrap_or_default(), chars.as_str()));
    }
    let input = crate::report::ReportInput {
        rows: &analysis.rows,
        periods: analysis.periods_back(period_start, weeks_back),
        period_start,
        alerts: &alerts,
        thresholds: &analysis.thresholds,
        by: analysis.options.by,
        conversations: analysis.conversations,
        rows_quarantined: analysis.data.summary.rows_quarantined(),
        quarantine: &analysis.data.quarantine,
        unknown_lanes: analysis.unknown_lanes.clone(),
        generated_at: crate::time::format_rfc3339(chrono::Utc::now().timestamp_millis()),
        board: &board,
        templates,
        governance_notes,
        core_notes,
        text_notes,
        whatsapp,
        business_time: analysis.config.business_hours.is_some(),
        sla: analysis.config.sla.is_some(),
        outcome_notes: outcome_notes(&analysis.config.outcomes),
        outcomes: crate::analysis::OUTCOME_DIMENSIONS
            .into_iter()
            .map(|by| Ok((by, analysis.outcome_rows(by, period_start)?)))
            .collect::<Result<_>>()?,
        period_note: chosen.note.clone(),
    };
    let files = crate::report::build(&input)?;
    let dir = crate::report::write(out, &files)?;
    step.finish_and_clear();
    Ok((alerts, dir))
}

/// The exit status for a set of alerts and a fail level.
pub(crate) fn status_for(
    alerts: &crate::alert::AlertReport,
    fail_on: crate::cli::FailOn,
) -> crate::Status {
    use crate::alert::Severity;
    use crate::cli::FailOn;
    let threshold = match fail_on {
        FailOn::Never => return crate::Status::Ok,
        FailOn::Warning => Severity::Warning,
        FailOn::Critical => Severity::Critical,
    };
    if alerts.worst().is_some_and(|w| w >= threshold) {
        crate::Status::Alert
    } else {
        crate::Status::Ok
    }
}

/// A one-line summary of the alerts, for stderr.
pub(crate) fn alert_line(alerts: &crate::alert::AlertReport) -> String {
    use crate::alert::Severity;
    format!(
        "{} {} starting {}: {} critical, {} warning alert(s)",
        alerts.dimension,
        alerts.period,
        alerts.period_start,
        alerts.count(Severity::Critical),
        alerts.count(Severity::Warning)
    )
}

/// Mails the report itself: its findings and headline, with the chart of the first finding
/// inline, linking to the report in `dir`.
pub(crate) fn mail_report(
    analysis: &crate::analysis::Analysis,
    alerts: &crate::alert::AlertReport,
    dir: &std::path::Path,
    weeks_back: usize,
    progress: &Progress,
) -> Result<()> {
    use crate::report::weekly::{self, Weekly};
    let Some(settings) = analysis.config.email.as_ref() else {
        anyhow::bail!(
            "--email-report needs an [email] section in the config (host, port, security, from, \
             to; see the README)"
        );
    };
    let by = analysis.options.by;
    let dimension = match by {
        crate::metrics::Dimension::None => "group",
        other => other.column(),
    };
    let grouped = crate::alert::groups::by_metric(alerts, &analysis.rows);
    let ids: Vec<&'static str> = crate::metrics::REGISTRY
        .iter()
        .filter(|f| f.set == crate::metrics::MetricSet::Core)
        .flat_map(|f| f.metrics.iter().map(|m| m.id))
        .collect();
    let headline = crate::report::headline::headline(
        &analysis.rows,
        &ids,
        &analysis.periods_back(alerts.period_start, weeks_back),
        &analysis.thresholds,
        by,
    );
    // The chart of the first finding, else of the first headline metric.
    let chart = grouped
        .first()
        .map(|g| g.metric.info())
        .or_else(|| {
            headline
                .first()
                .and_then(|h| crate::metrics::find(h.metric))
        })
        .and_then(|m| {
            let png = std::fs::read(dir.join("charts").join(format!("{}.png", m.id))).ok()?;
            Some((format!("{} over the last periods", m.name), png))
        });
    let local = dir.join("index.html").display().to_string();
    let location = crate::alert::email::report_location(settings, alerts.period_start, &local);
    let mail = Weekly {
        period_kind: alerts.period.to_string(),
        period_start: alerts.period_start,
        as_of: crate::time::format_rfc3339(alerts.as_of),
        findings: Weekly::findings(&grouped, dimension),
        headline: &headline,
        chart,
        report: &location,
    };
    let message = weekly::compose(settings, &mail)?;
    crate::alert::email::send(settings, &message, &|line| progress.say(line))?;
    progress.say(format!(
        "email: sent \"{}\" to {}",
        weekly::subject(&mail),
        settings.to.join(", ")
    ));
    Ok(())
}

/// Mails what changed since the last mail (new, escalated, resolved alerts) and records it.
/// On a send failure the state file is left as it was, so the next run tries again.
pub(crate) fn mail_alerts(
    config: &Config,
    args: &crate::cli::EmailArgs,
    alerts: &crate::alert::AlertReport,
    ranking: &[crate::metrics::MetricRef],
    reports: &std::path::Path,
    progress: &Progress,
) -> Result<()> {
    use crate::alert::{email, state::EmailLog};
    let Some(settings) = config.email.as_ref() else {
        anyhow::bail!(
            "--email needs an [email] section in the config (host, port, security, from, to; \
             see the README)"
        );
    };
    let state_path = args
        .state
        .clone()
        .or_else(|| settings.state_file.clone())
        .unwrap_or_else(|| reports.join("alert-state.json"));
    let state = EmailLog::load(&state_path)?;
    let changes = state.changes(&alerts.alerts);
    if changes.is_empty() {
        progress.say("email: nothing new, escalated or resolved since the last one; not sent");
        if !args.dry_run {
            changes.next.save(&state_path)?;
        }
        return Ok(());
    }
    let local = reports
        .join(alerts.period_start.to_string())
        .join("index.html")
        .display()
        .to_string();
    let location = email::report_location(settings, alerts.period_start, &local);
    let message = email::compose(
        settings,
        &changes,
        alerts.period_start,
        alerts.as_of,
        &location,
        ranking,
    )?;
    if args.dry_run {
        eprintln!("--- email (dry run: not sent, nothing recorded) ---");
        eprintln!("{}", String::from_utf8_lossy(&message.formatted()));
        eprintln!("--- end of email ---");
        return Ok(());
    }
    email::send(settings, &message, &|line| progress.say(line))?;
    changes.next.save(&state_path)?;
    progress.say(format!(
        "email: sent \"{}\" to {}",
        email::subject(&changes, alerts.period_start),
        settings.to.join(", ")
    ));
    Ok(())
}
