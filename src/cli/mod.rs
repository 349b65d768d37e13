//! The command line. Only clap types live here: the core's closed sets (periods, dimensions,
//! formats) get their `ValueEnum` here, and values such as time zones are parsed into typed
//! values at this edge, so the core never re-parses a string.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::metrics::{Dimension, Period, Selection};
use crate::output::TableFormat;
use crate::period::Zone;
use crate::sample::SampleFormat;
use crate::time::EpochUnit;

mod export;
mod import;

pub use export::{CalendarArgs, SqlArgs};
pub use import::{
    ChatwootArgs, ImportFormat, ImportOutput, ImportSource, MappingArgs, WhatsappArgs,
};

/// Gives a core enum its command-line values (`name => Variant: help`).
macro_rules! value_enum {
    ($ty:ty { $($name:literal => $variant:expr, $help:literal;)+ }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                let (name, help) = match self {
                    $(v if *v == $variant => ($name, $help),)+
                    _ => return None,
                };
                Some(PossibleValue::new(name).help(help))
            }
        }
    };
}

value_enum!(Period {
    "day" => Period::Day, "calendar days";
    "week" => Period::Week, "ISO weeks, Monday to Sunday";
    "month" => Period::Month, "calendar months";
});

value_enum!(Dimension {
    "lane" => Dimension::Lane, "the conversation's lane";
    "segment" => Dimension::Segment, "the customer segment";
    "channel" => Dimension::Channel, "the channel (whatsapp, email, ...)";
    "intent" => Dimension::Intent, "the entry intent";
    "owner" => Dimension::Owner, "the last person who held the conversation (else bot or unowned)";
    "none" => Dimension::None, "no grouping: ALL only";
});

value_enum!(Selection {
    "core" => Selection::Core, "the ten L2 metrics";
    "governance" => Selection::Governance, "the governance checks G1-G8";
    "text" => Selection::Text, "repetition, brief recall and card numbers, from message text";
    "whatsapp" => Selection::WhatsApp, "calls, customers known only by a business-scoped id, cost";
    "outcomes" => Selection::Outcomes, "what the bot resolved, abandoned and handed over, and why";
    "sla" => Selection::Sla, "SLA attainment: the share of promises kept (with [sla])";
    "all" => Selection::All, "every metric";
});

value_enum!(TableFormat {
    "csv" => TableFormat::Csv, "CSV with a header";
    "json" => TableFormat::Json, "a JSON array of objects";
    "parquet" => TableFormat::Parquet, "Parquet (to a file, or piped)";
});

value_enum!(MetricsFormat {
    "csv" => MetricsFormat::Csv, "CSV with a header";
    "json" => MetricsFormat::Json, "a JSON array of objects";
    "parquet" => MetricsFormat::Parquet, "Parquet (to a file, or piped)";
    "markdown" => MetricsFormat::Markdown, "Markdown tables (with --list only)";
});

value_enum!(crate::sql::Dialect {
    "duckdb" => crate::sql::Dialect::DuckDb, "DuckDB";
    "spark" => crate::sql::Dialect::Spark, "Apache Spark SQL (spark-sql, PySpark, Databricks)";
});

value_enum!(SampleFormat {
    "csv" => SampleFormat::Csv, "CSV files";
    "jsonl" => SampleFormat::Jsonl, "JSON Lines files";
    "parquet" => SampleFormat::Parquet, "Parquet files";
});

value_enum!(EpochUnit {
    "s" => EpochUnit::S, "seconds since 1970";
    "ms" => EpochUnit::Ms, "milliseconds since 1970";
    "us" => EpochUnit::Us, "microseconds since 1970";
    "ns" => EpochUnit::Ns, "nanoseconds since 1970";
});

fn parse_zone(text: &str) -> Result<Zone, String> {
    Zone::parse(text)
}

/// l2lens: weekly L2 handoff metrics for WhatsApp-first support.
///
/// Reads the inbox's exported logs (conversations, messages, routing assignments, handoff
/// briefs, template status), checks every row against the data contract, and measures how well
/// customers are handed from the bot to specialists.
///
/// Exit codes: 0 success; 1 alerts at or above the fail level; 2 error (bad input, bad
/// arguments, I/O).
#[derive(Debug, Parser)]
#[command(name = "l2lens", version, about, long_about)]
pub struct Cli {
    /// No progress bars and no summaries on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a data directory and write a typed Parquet warehouse with a quarantine.
    ///
    /// Writes one Parquet file per table, quarantine.csv and quarantine.parquet (one line per
    /// problem: table,file,row,column,value,reason) and ingest_summary.json.
    Ingest(IngestArgs),
    /// Turn what an inbox exports into a canonical data directory, ready for `ingest` or any
    /// other command.
    ///
    /// Writes conversations, messages and the other tables the source has (CSV, or Parquet
    /// with --format parquet), import_quarantine.csv (input that could not become a row) and
    /// import_summary.json (events read = rows written + rows skipped, by reason).
    #[command(subcommand)]
    Import(ImportSource),
    /// Generate deterministic, realistic sample data in the canonical schema.
    Sample(SampleArgs),
    /// Write the per-conversation facts table (Parquet or CSV, by the --out extension).
    Facts(FactsArgs),
    /// Compute the ten L2 metrics per period and group.
    ///
    /// Output columns: period_start,<dimension>,metric,value,n, one row per non-empty cohort,
    /// sorted by period_start, group, metric; `ALL` is every group together.
    Metrics(MetricsArgs),
    /// Evaluate the alert thresholds for one period and write alerts.json.
    ///
    /// Exit code: 0 when no alert reaches --fail-on, 1 when one does, 2 on error.
    Alerts(AlertsArgs),
    /// Write the HTML report (charts, metric table, alerts, drill-downs) of one period.
    Report(ReportArgs),
    /// Ingest, facts, metrics, alerts and the report in one go (defaults: sample_data →
    /// reports/). Prints the path of the report's index.html on stdout.
    Run(RunArgs),
    /// The board: one row per open conversation at as_of, most urgent first: who owns it, the
    /// next action, and when the next customer update is due. Never message text or customer
    /// ids.
    Board(BoardArgs),
    /// Run SQL (polars dialect) over the tables: conversations, messages, assignments,
    /// handoffs, templates, send_failures, lanes, facts, metrics and board.
    ///
    /// The `facts` table adds ready-made columns: opened_period, closed_period,
    /// first_customer_period, specialist_period (period start dates), frt_s, tts_s, art_s
    /// (seconds), hours_silent (open threads, at as_of) and as_of.
    Query(QueryArgs),
    /// Write the metrics of `l2lens metrics` (or, with --board, the board) as one SQL query for
    /// DuckDB or Spark, with the configuration inlined.
    ///
    /// The query reads tables named conversations, messages, assignments, handoffs, templates
    /// and send_failures (and calendar, for business time) as `l2lens ingest` writes them (register the warehouse's Parquet files under those names) and
    /// returns period_start,<group>,metric,value,n. Without --as-of, the query takes the latest
    /// timestamp in the tables. A selected metric the SQL cannot compute is named, with why, in
    /// the SQL's header and on stderr.
    Sql(SqlArgs),

    /// Write the business-hour calendar the SQL export's business-time metrics read: per
    /// schedule of [business_hours] and UTC day, the open intervals with the open milliseconds
    /// before each. Register it as a table named calendar beside the others.
    Calendar(CalendarArgs),
}

/// Output formats of a query result or the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns for a terminal.
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Args)]
pub struct BoardArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The instant of the board (default: the latest timestamp in the input).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    /// Compute the conversations in N partitions by customer, one after the other: memory is
    /// bounded by a partition instead of the whole history, and the output is the same.
    /// Default: one partition per 2.5 million conversations.
    #[arg(long, value_name = "N")]
    pub customer_partitions: Option<usize>,

    /// Only conversations in this lane.
    #[arg(long)]
    pub lane: Option<String>,

    /// Only conversations owned by this assignee.
    #[arg(long)]
    pub owner: Option<String>,

    /// Only conversations with this flag.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::board::FLAGS))]
    pub flag: Option<String>,

    /// Output format (default: from the --out extension, else an aligned table).
    #[arg(long, value_enum)]
    pub format: Option<QueryFormat>,

    /// Output file, or - for stdout (default).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// A .sql file to run.
    #[arg(
        value_name = "FILE.sql",
        required_unless_present = "sql",
        conflicts_with = "sql"
    )]
    pub file: Option<PathBuf>,

    /// The SQL text to run, instead of a file.
    #[arg(long, value_name = "SQL")]
    pub sql: Option<String>,

    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Output format (default: from the --out extension, else an aligned table).
    #[arg(long, value_enum)]
    pub format: Option<QueryFormat>,

    /// Output file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// When alerts make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Warning,
    Critical,
    Never,
}

/// Alert emails; shared by alerts and run.
#[derive(Debug, Args)]
pub struct EmailArgs {
    /// Mail new, escalated and resolved alerts ([email] in the config says where).
    #[arg(long)]
    pub email: bool,

    /// With --email: print the email on stderr instead of sending it (nothing is recorded).
    #[arg(long, requires = "email")]
    pub dry_run: bool,

    /// With --email: the file that remembers what was mailed (default: [email] state_file,
    /// else alert-state.json beside the reports).
    #[arg(long, value_name = "FILE", requires = "email")]
    pub state: Option<PathBuf>,
}

/// What to compute: the instant, the periods and the groups; shared by every command that
/// computes metrics.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Ignore everything after this instant (default: the latest timestamp in the input).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    /// Reporting period.
    #[arg(long, value_enum, default_value_t = Period::Week)]
    pub period: Period,

    /// Time zone of period boundaries (IANA name, e.g. Europe/Berlin).
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone)]
    pub tz: Zone,

    /// Grouping dimension.
    #[arg(long, value_enum, default_value_t = Dimension::Lane)]
    pub by: Dimension,
    /// Compute the conversations in N partitions by customer, one after the other: memory is
    /// bounded by a partition instead of the whole history, and the output is the same.
    /// Default: one partition per 2.5 million conversations.
    #[arg(long, value_name = "N")]
    pub customer_partitions: Option<usize>,
}

/// The analysis and the one period to report; shared by alerts, report and run.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// The ISO week to report, e.g. 2026-W47 (default: the latest period that ended at or
    /// before as_of, or the latest with data when that one has none).
    #[arg(long, value_name = "YYYY-Www", conflicts_with = "period_start")]
    pub week: Option<String>,

    /// The period to report, by any date in it, e.g. 2026-11-01 with --period month.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub period_start: Option<chrono::NaiveDate>,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date; write YYYY-MM-DD"))
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub period: PeriodArgs,

    /// The lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub email: EmailArgs,

    /// Where the reports are, for the link in the email and the default state file.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,

    /// Output file for alerts.json, or - for stdout (default).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub period: PeriodArgs,

    /// How many periods the trend charts show, ending with the reported one (1-520).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=520))]
    pub weeks_back: u16,

    /// Output folder; the report goes to <out>/<period_start>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    /// The lowest alert severity that makes the exit code 1 (for cron: critical).
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub email: EmailArgs,

    /// Mail the report itself: its top findings and headline, with the chart of the first
    /// finding inline, linking to the report ([email] in the config says where; `[email]
    /// weekly_report = true` does the same on every run).
    #[arg(long)]
    pub email_report: bool,
}

/// Where the input is and how to read it; shared by every command that reads data.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// A raw data directory (conversations.*, messages.*, assignments.*, handoffs.*, optional
    /// templates.*) or a warehouse written by `l2lens ingest`.
    #[arg(long, value_name = "DIR", default_value = "sample_data")]
    pub data: PathBuf,

    /// Configuration file (lanes and tiers, rule parameters). Default: l2lens.toml in the data
    /// directory when present, else the built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Unit of integer timestamps. Without it, integer timestamps are refused.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub epoch_unit: Option<EpochUnit>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Output warehouse directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Add the export in --data to the existing warehouse --out instead of replacing it: rows
    /// already stored are skipped, a row whose id is stored with other content replaces it
    /// (the later export wins), the batch is recorded in ingest_summary.json.
    #[arg(long)]
    pub append: bool,

    /// Also store the tables split in N partitions by customer (default: one per 2.5 million
    /// conversations; none below that), which `metrics`, `board`, `alerts`, `report` and
    /// `run` read instead of splitting the warehouse again when they run in as many.
    #[arg(long, value_name = "N")]
    pub customer_partitions: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Number of conversations to generate.
    #[arg(long, default_value_t = 5_000)]
    pub conversations: u64,

    /// Random seed: the same arguments always give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Number of weeks of activity, ending at --end.
    #[arg(long, default_value_t = 6)]
    pub weeks: u32,

    /// The export instant: nothing at or after it is written (RFC 3339 or YYYY-MM-DD, UTC).
    /// The default is a Monday morning, when a weekly export would run.
    #[arg(long, default_value = "2026-11-23T08:00:00Z")]
    pub end: String,

    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// File format of the tables.
    #[arg(long, value_enum, default_value_t = SampleFormat::Csv)]
    pub format: SampleFormat,

    /// Give messages a `text` column: support-chat sentences with a few order numbers,
    /// e-mail addresses, phone numbers, test card numbers and IBANs per thousand messages.
    #[arg(long)]
    pub text: bool,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Ignore everything after this instant (default: the latest timestamp in the input).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    /// Compute the conversations in N partitions by customer, one after the other: memory is
    /// bounded by a partition instead of the whole history, and the output is the same.
    /// Default: one partition per 2.5 million conversations.
    #[arg(long, value_name = "N")]
    pub customer_partitions: Option<usize>,

    /// Output file (.csv, .json or .parquet), - for stdout, or with --partition a folder.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Output format (default: from the --out extension, else csv).
    #[arg(long, value_enum, conflicts_with = "partition")]
    pub format: Option<TableFormat>,

    /// Write Hive-partitioned Parquet: <out>/period_start=YYYY-MM-DD/part-0.parquet, by the
    /// period of opened_at (and part-1.parquet, … for each further 1,048,576 conversations).
    #[arg(long)]
    pub partition: bool,

    /// The period of the partitions.
    #[arg(long, value_enum, default_value_t = Period::Week)]
    pub period: Period,

    /// Time zone of period boundaries (IANA name).
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_zone)]
    pub tz: Zone,
}

/// `l2lens metrics --format`: a table format, or Markdown for `--list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    Csv,
    Json,
    Parquet,
    Markdown,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Output format (default: from the --out extension, else csv); with --list, markdown
    /// prints the registry's tables.
    #[arg(long, value_enum)]
    pub format: Option<MetricsFormat>,

    /// Output file, or - for stdout (default).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write Hive-partitioned Parquet to the --out folder:
    /// <out>/period_start=YYYY-MM-DD/part-0.parquet.
    #[arg(long, requires = "out")]
    pub partition: bool,

    /// Which metrics: the ten L2 metrics (default), the governance checks, or all. The report
    /// and alerts always have all of them.
    #[arg(long, value_enum, default_value_t = Selection::Core)]
    pub select: Selection,

    /// List every metric (name, definition, cohort, unit, default thresholds) and exit.
    #[arg(long)]
    pub list: bool,
}
