//! The HTML page: a view model built here, rendered by `templates/report.html` (askama,
//! compile-time checked, every value HTML-escaped). The page is self-contained: styles inline,
//! charts as relative links to PNG files beside it, no scripts, no remote resources.

use askama::Template;

use super::ReportInput;
use super::tables::{
    BUSINESS_NOTE, SLA_NOTE, TableSpec, metric_table, outcome_tables, owner_tables,
};
use crate::alert::Severity;
use crate::metrics::{self, Dimension, MetricRow, MetricSet, human};
use crate::units::printable;

pub struct Quality {
    pub conversations: usize,
    pub rows_quarantined: u64,
    pub quarantine_link: Option<String>,
    pub unknown_lanes: Vec<(String, u64)>,
    /// More lines: customers known only by a business-scoped id, the aliases, unreadable
    /// pricing values.
    pub lines: Vec<String>,
}

pub struct DrillLine {
    pub id: String,
    /// The group whose alert names the conversation.
    pub group: String,
    pub lane: String,
    pub owner: String,
    pub hours_silent: String,
    pub opened_at: String,
    pub detail: String,
}

/// One group in breach on a metric's card (one alert of `alerts.json`).
pub struct Breach {
    pub severity: &'static str,
    pub group: String,
    pub value: String,
    pub threshold: String,
    pub n: u64,
}

/// The alerts of one metric: its worst severity, its value for all groups, the groups in
/// breach worst first, and the conversations behind them.
pub struct Card {
    pub severity: &'static str,
    /// The metric id (in small text and attributes; the name is the title).
    pub metric: String,
    pub name: String,
    pub definition: String,
    /// The value for all groups together, with its `n`; `None` without one.
    pub all: Option<(String, u64)>,
    pub breaches: Vec<Breach>,
    pub drill: Vec<DrillLine>,
}

/// One of the findings at the top of the page: a sentence, linked to its card.
pub struct Finding {
    pub severity: &'static str,
    pub metric: String,
    pub sentence: String,
    pub affected: u64,
}

pub struct Header {
    pub id: &'static str,
    /// The metric's name for people (the id is in the cell's title).
    pub name: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

pub struct Cell {
    pub text: String,
    pub n: String,
    /// `ok`, `warning`, `critical`, `few`, `unwatched` or `empty`.
    pub state: &'static str,
    pub title: String,
}

pub struct Row {
    pub group: String,
    pub cells: Vec<Cell>,
}

pub struct Chart {
    pub file: String,
    pub alt: String,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub period_kind: String,
    pub period_start: String,
    pub as_of: String,
    pub generated_at: String,
    pub dimension: String,
    pub critical: usize,
    pub warning: usize,
    pub quality: Quality,
    pub findings: Vec<Finding>,
    pub cards: Vec<Card>,
    /// The ten metrics (and business time) for group ALL, with their change.
    pub headline: Vec<super::headline::Headline>,
    /// Up to five sentences on what changed since the previous period.
    pub changes: Vec<String>,
    pub period_note: Option<String>,
    /// The period has no metric rows at all: one line instead of empty tables.
    pub empty_period: bool,
    pub tables: Vec<MetricTable>,
    pub board: BoardSummary,
    /// `None` when the data has no template status history.
    pub templates: Option<Vec<TemplateView>>,
    pub charts: Vec<Chart>,
    pub weeks_back: usize,
    /// What the period's messages cost per group; `None` without pricing data or rate card.
    pub cost: Option<CostSection>,
}

/// The "Cost" section: billable messages sent in the period and their spend per group.
pub struct CostSection {
    pub currency: String,
    pub rows: Vec<(String, u64, String)>,
    pub lines: Vec<String>,
}

/// A table of metrics (the ten, or the governance checks) by group.
pub struct MetricTable {
    pub id: &'static str,
    pub title: String,
    /// What the rows are groups of (`lane`, `owner`, `segment`, …).
    pub dimension: String,
    pub headers: Vec<Header>,
    /// `ALL` and the largest groups.
    pub rows: Vec<Row>,
    /// The other groups, largest first, folded away on the page.
    pub folded: Vec<Row>,
    /// This set's headline for group ALL, when it is not at the top of the page.
    pub headline: Vec<super::headline::Headline>,
    /// What the data lacks for some of these metrics.
    pub notes: Vec<String>,
}

/// The board's headline, linking board.html.
pub struct BoardSummary {
    pub open: usize,
    /// (flag, its name for people, open conversations with it).
    pub flags: Vec<(&'static str, &'static str, usize)>,
    /// Open WhatsApp conversations whose 24-hour window has closed.
    pub window_closed: usize,
}

/// One template at as_of.
pub struct TemplateView {
    pub name: String,
    pub status: String,
    pub since: String,
    pub sends: u64,
    pub blocked: u64,
}

/// The headline of one metric set (group ALL) over the report's periods.
pub(super) fn set_headline(
    input: &ReportInput<'_>,
    set: MetricSet,
) -> Vec<super::headline::Headline> {
    let ids: Vec<&'static str> = metrics::REGISTRY
        .iter()
        .filter(|f| f.set == set)
        .flat_map(|f| f.metrics.iter().map(|m| m.id))
        .collect();
    super::headline::headline(input.rows, &ids, &input.periods, input.thresholds, input.by)
}

/// How many groups (besides `ALL`) a metric table shows before folding the rest away.
pub const SHOWN_GROUPS: usize = 20;

/// Builds the page model of one report.
/// `largest` are the period's groups, largest first ([`super::groups_by_volume`]); `grouped`
/// the period's alerts by metric, ranked ([`crate::alert::groups::by_metric`]).
pub fn page(
    input: &ReportInput<'_>,
    period_rows: &[MetricRow],
    largest: &[&str],
    grouped: &[crate::alert::groups::MetricAlerts<'_>],
    (charts, quality): (Vec<Chart>, Quality),
) -> ReportPage {
    let by = input.by;
    let alerts = input.alerts;
    let group_word = match by {
        Dimension::None => "group".to_owned(),
        other => other.column().to_owned(),
    };
    let findings = grouped
        .iter()
        .take(crate::alert::groups::MAX_FINDINGS)
        .map(|g| Finding {
            severity: g.severity.as_str(),
            metric: g.metric.id().to_owned(),
            sentence: g.sentence(&group_word),
            affected: g.affected,
        })
        .collect();
    let cards = grouped
        .iter()
        .map(|g| {
            let info = g.metric.info();
            let mut seen = std::collections::HashSet::new();
            Card {
                severity: g.severity.as_str(),
                metric: g.metric.id().to_owned(),
                name: info.name.to_owned(),
                definition: info.definition.to_owned(),
                all: g.all.map(|(v, n)| (human(v, info.unit), n)),
                breaches: g
                    .alerts
                    .iter()
                    .map(|a| Breach {
                        severity: a.severity.as_str(),
                        group: printable(&a.group),
                        value: human(a.value, info.unit),
                        threshold: a.threshold_human.clone(),
                        n: a.n,
                    })
                    .collect(),
                drill: g
                    .alerts
                    .iter()
                    .flat_map(|a| a.drill.iter().map(move |d| (a, d)))
                    .filter(|(_, d)| seen.insert(d.conversation_id.clone()))
                    .map(|(a, d)| DrillLine {
                        id: printable(&d.conversation_id),
                        group: printable(&a.group),
                        lane: printable(d.lane.as_deref().unwrap_or_default()),
                        owner: d
                            .owner
                            .as_deref()
                            .map_or_else(|| "(queue)".to_owned(), printable),
                        hours_silent: d
                            .hours_silent
                            .map(|h| format!("{h:.1}"))
                            .unwrap_or_default(),
                        opened_at: d.opened_at.clone(),
                        detail: printable(d.detail.as_deref().unwrap_or_default()),
                    })
                    .collect(),
            }
        })
        .collect();
    let dimension = match by {
        Dimension::None => "group".to_owned(),
        other => other.column().to_owned(),
    };
    let table = |spec: TableSpec| metric_table(input, period_rows, largest, spec);
    let by_dimension = |title: &str| format!("{title} by {dimension}");
    let mut tables = Vec::new();
    if by == Dimension::Owner {
        tables.extend(owner_tables(input, &by_dimension).into_iter().map(table));
    } else {
        tables.push(table(
            TableSpec::set(
                input,
                MetricSet::Core,
                "metric-table",
                &by_dimension("The ten L2 metrics"),
            )
            .notes(input.core_notes.clone()),
        ));
        if input.business_time {
            tables.push(table(
                TableSpec::set(
                    input,
                    MetricSet::BusinessTime,
                    "business-table",
                    &by_dimension(
                        "Business time (FRT, TTS and resolution counted only in open hours)",
                    ),
                )
                .notes(vec![BUSINESS_NOTE.to_owned()]),
            ));
        }
        tables.push(table(
            TableSpec::set(
                input,
                MetricSet::Governance,
                "governance-table",
                &by_dimension("Governance checks"),
            )
            .notes(input.governance_notes.clone()),
        ));
    }
    tables.push(table(
        TableSpec::set(
            input,
            MetricSet::Text,
            "text-table",
            &by_dimension("Did the context survive the handoff?"),
        )
        .notes(input.text_notes.clone()),
    ));
    tables.push(table(
        TableSpec::set(
            input,
            MetricSet::WhatsApp,
            "whatsapp-table",
            &by_dimension("Calls, customer ids and cost"),
        )
        .notes(input.whatsapp.notes.clone()),
    ));
    tables.extend(outcome_tables(input, period_rows));
    if input.sla && by != Dimension::Owner {
        tables.push(table(
            TableSpec::set(
                input,
                MetricSet::Sla,
                "sla-table",
                &by_dimension("SLA attainment"),
            )
            .notes(vec![SLA_NOTE.to_owned()]),
        ));
    }
    ReportPage {
        cost: input.whatsapp.cost.as_ref().map(|c| CostSection {
            currency: c.currency.clone(),
            rows: c.rows.clone(),
            lines: c.lines.clone(),
        }),
        period_kind: alerts.period.to_string(),
        period_start: alerts.period_start.to_string(),
        as_of: crate::time::format_rfc3339(alerts.as_of),
        generated_at: input.generated_at.clone(),
        dimension,
        findings,
        critical: alerts.count(Severity::Critical),
        warning: alerts.count(Severity::Warning),
        quality,
        cards,
        headline: {
            let mut strip = set_headline(input, MetricSet::Core);
            if input.business_time {
                strip.extend(set_headline(input, MetricSet::BusinessTime));
            }
            // Repetition, recall and exposure, when the data has the text to measure them
            // (a metric without a value this period is not in the strip).
            strip.extend(set_headline(input, MetricSet::Text));
            strip
        },
        changes: match input.periods.len().checked_sub(2) {
            Some(i) => super::headline::what_changed(
                input.rows,
                input.periods[i],
                input.period_start,
                input.thresholds,
                by,
                5,
            )
            .into_iter()
            .map(|c| printable(&c.sentence))
            .collect(),
            None => Vec::new(),
        },
        period_note: input.period_note.clone(),
        empty_period: period_rows.is_empty(),
        tables,
        board: BoardSummary {
            open: input.board.len(),
            flags: flags_for_people(crate::board::flag_counts(input.board)),
            window_closed: input
                .board
                .iter()
                .filter(|r| r.flags.contains(&"window_expired"))
                .count(),
        },
        templates: input.templates.as_ref().map(|lines| {
            lines
                .iter()
                .map(|t| TemplateView {
                    name: printable(&t.name),
                    status: t.status.clone(),
                    since: t.since.map(crate::board::instant_text).unwrap_or_default(),
                    sends: t.sends,
                    blocked: t.blocked,
                })
                .collect()
        }),
        charts,
        weeks_back: input.periods.len(),
    }
}

/// Flag counts with each flag's name for people.
fn flags_for_people(
    counts: Vec<(&'static str, usize)>,
) -> Vec<(&'static str, &'static str, usize)> {
    counts
        .into_iter()
        .map(|(f, n)| (f, crate::board::flag_name(f), n))
        .collect()
}

/// One open conversation as the board page shows it (text made printable, times in UTC).
pub struct BoardLine {
    pub id: String,
    pub channel: String,
    pub segment: String,
    pub intent: String,
    pub lane: String,
    pub owner: String,
    pub owner_since: String,
    pub next_action: String,
    pub last_customer_at: String,
    pub window_closes_at: String,
    pub last_agent_at: String,
    pub next_update_due: String,
    pub due_at: String,
    /// (flag, its name for people).
    pub flags: Vec<(&'static str, &'static str)>,
    pub expired: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
pub struct BoardPage {
    pub as_of: String,
    /// (flag, its name for people, open conversations with it).
    pub flags: Vec<(&'static str, &'static str, usize)>,
    pub rows: Vec<BoardLine>,
}

/// The board page of a report.
pub fn board_page(rows: &[crate::board::BoardRow], as_of: &str) -> BoardPage {
    let text = |v: &Option<String>| printable(v.as_deref().unwrap_or_default());
    // Minutes are precise enough to read; board.csv keeps the exact instants.
    let at = |v: Option<i64>| {
        v.map(|ms| {
            let t = crate::board::instant_text(ms);
            format!("{} {}", &t[..10], &t[11..16])
        })
        .unwrap_or_default()
    };
    BoardPage {
        as_of: as_of.to_owned(),
        flags: flags_for_people(crate::board::flag_counts(rows)),
        rows: rows
            .iter()
            .map(|r| BoardLine {
                id: printable(&r.conversation_id),
                channel: text(&r.channel),
                segment: text(&r.segment),
                intent: text(&r.intent),
                lane: printable(&r.lane),
                owner: r
                    .owner
                    .as_deref()
                    .map_or_else(|| "(unclaimed)".to_owned(), printable),
                owner_since: at(r.owner_since),
                next_action: text(&r.next_action),
                last_customer_at: at(r.last_customer_at),
                window_closes_at: at(r.window_closes_at),
                last_agent_at: at(r.last_agent_at),
                next_update_due: at(r.next_update_due),
                due_at: at(r.due_at),
                flags: r
                    .flags
                    .iter()
                    .map(|f| (*f, crate::board::flag_name(f)))
                    .collect(),
                expired: r.flags.contains(&"window_expired"),
            })
            .collect(),
    }
}
