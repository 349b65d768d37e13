//! What differs between the engines the exported SQL runs on. Everything else in the export is
//! portable SQL (window functions, `GROUPING SETS`, `CASE`).

use crate::metrics::{Period, Zone};

/// An engine the exported SQL targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Spark,
}

impl Dialect {
    /// Statements to run before the query.
    pub fn preamble(self) -> &'static str {
        match self {
            Dialect::DuckDb => "",
            // Dates of instants are taken in the session zone after an explicit shift: the
            // session must be UTC.
            Dialect::Spark => "SET spark.sql.session.timeZone = UTC;\n",
        }
    }

    /// A timestamp column as UTC milliseconds since the epoch.
    pub fn ms(self, column: &str) -> String {
        match self {
            Dialect::DuckDb => format!("epoch_ms({column})"),
            Dialect::Spark => format!("unix_millis({column})"),
        }
    }

    /// A timestamp (UTC) from milliseconds since the epoch.
    pub fn timestamp_of_ms(self, ms: &str) -> String {
        match self {
            Dialect::DuckDb => format!("epoch_ms({ms})"),
            Dialect::Spark => format!("timestamp_millis({ms})"),
        }
    }

    /// The local date, in `zone`, of an instant given as milliseconds.
    pub fn local_date(self, ms: &str, zone: Zone) -> String {
        let tz = zone.name();
        match self {
            Dialect::DuckDb => {
                format!("CAST(timezone('{tz}', to_timestamp(({ms}) / 1000.0)) AS DATE)")
            }
            Dialect::Spark => {
                format!("to_date(from_utc_timestamp(timestamp_millis({ms}), '{tz}'))")
            }
        }
    }

    /// The first day of the period holding a local date.
    pub fn period_floor(self, date: &str, period: Period) -> String {
        match period {
            Period::Day => date.to_owned(),
            Period::Week => format!("CAST(date_trunc('week', {date}) AS DATE)"),
            Period::Month => format!("CAST(date_trunc('month', {date}) AS DATE)"),
        }
    }

    /// The first day of the next period.
    pub fn period_next(self, date: &str, period: Period) -> String {
        match (self, period) {
            (Dialect::DuckDb, Period::Day) => format!("CAST({date} + INTERVAL 1 DAY AS DATE)"),
            (Dialect::DuckDb, Period::Week) => format!("CAST({date} + INTERVAL 7 DAY AS DATE)"),
            (Dialect::DuckDb, Period::Month) => format!("CAST({date} + INTERVAL 1 MONTH AS DATE)"),
            (Dialect::Spark, Period::Day) => format!("date_add({date}, 1)"),
            (Dialect::Spark, Period::Week) => format!("date_add({date}, 7)"),
            (Dialect::Spark, Period::Month) => format!("add_months({date}, 1)"),
        }
    }

    /// Local midnight of a date in `zone`, as UTC milliseconds.
    pub fn midnight_ms(self, date: &str, zone: Zone) -> String {
        let tz = zone.name();
        match self {
            Dialect::DuckDb => format!("epoch_ms(timezone('{tz}', CAST({date} AS TIMESTAMP)))"),
            Dialect::Spark => {
                format!("unix_millis(to_utc_timestamp(CAST({date} AS TIMESTAMP), '{tz}'))")
            }
        }
    }

    /// One row per period start from `from` to `to` (local dates, both period starts), as a
    /// table expression with the column `period_start`.
    pub fn period_series(self, from: &str, to: &str, period: Period) -> String {
        let step = match period {
            Period::Day => "1 DAY",
            Period::Week => "7 DAY",
            Period::Month => "1 MONTH",
        };
        match self {
            Dialect::DuckDb => format!(
                "SELECT CAST(unnest(generate_series(CAST({from} AS TIMESTAMP), CAST({to} AS \
                 TIMESTAMP), INTERVAL {step})) AS DATE) AS period_start"
            ),
            Dialect::Spark => {
                format!("SELECT explode(sequence({from}, {to}, INTERVAL {step})) AS period_start")
            }
        }
    }

    /// A text with every run of whitespace collapsed to one space, trimmed and lower-cased (how
    /// placeholders are compared; the stored brief is already NFKC-normalised).
    pub fn normalised_text(self, value: &str) -> String {
        match self {
            Dialect::DuckDb => format!("lower(trim(regexp_replace({value}, '\\s+', ' ', 'g')))"),
            Dialect::Spark => format!("lower(trim(regexp_replace({value}, '\\\\s+', ' ')))"),
        }
    }

    /// A stored text with the token of every marker left out (`[email|j***@e***.com|1f0c…]` →
    /// `[email|j***@e***.com]`): what the board shows of a brief.
    pub fn without_tokens(self, value: &str) -> String {
        match self {
            Dialect::DuckDb => {
                format!("regexp_replace({value}, '\\|([0-9a-f]{{16}})?\\]', ']', 'g')")
            }
            Dialect::Spark => {
                format!("regexp_replace({value}, '\\\\|([0-9a-f]{{16}})?\\\\]', ']')")
            }
        }
    }

    /// Whether `value` matches a regular expression (written without backslashes, which the
    /// two dialects read differently).
    pub fn matches(self, value: &str, pattern: &str) -> String {
        debug_assert!(!pattern.contains('\\'));
        match self {
            Dialect::DuckDb => format!("regexp_matches({value}, '{pattern}')"),
            Dialect::Spark => format!("({value} RLIKE '{pattern}')"),
        }
    }

    /// A continuous quantile with linear interpolation (numpy's default).
    pub fn quantile(self, value: &str, q: f64) -> String {
        match self {
            Dialect::DuckDb => format!("quantile_cont({value}, {q})"),
            Dialect::Spark => format!("percentile({value}, {q})"),
        }
    }
}

impl Dialect {
    /// A string literal. Spark reads backslashes in literals as escapes; DuckDB does not.
    pub fn quote(self, text: &str) -> String {
        let text = text.replace('\'', "''");
        match self {
            Dialect::DuckDb => format!("'{text}'"),
            Dialect::Spark => format!("'{}'", text.replace('\\', "\\\\")),
        }
    }
}
