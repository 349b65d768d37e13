//! `[input]`: how the exported files are written, for exports that do not follow the data
//! contract's own forms.
//!
//! ```toml
//! [input]
//! timestamp_format = "%d/%m/%Y %H:%M"   # rfc3339 (default) | epoch_s | epoch_ms | rfc2822 | strftime
//! timezone = "Europe/Rome"              # zone of values without an offset (default UTC)
//! null_values = ["?", "NULL"]           # tokens read as null (an empty cell always is)
//! default_channel = "whatsapp"          # channel of a blank cell; "" leaves it blank
//! [input.timestamp_formats]             # per table.column overrides
//! "conversations.closed_at" = "%Y/%m/%d %H:%M:%S"
//! ```

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Deserialize;

use crate::time::EpochUnit;
use crate::timeformat::{TimestampFormat, TimestampReader};

/// The channel of a conversation whose channel cell is blank, unless `[input]` says otherwise.
pub const DEFAULT_CHANNEL: &str = "whatsapp";

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub timestamp_format: TimestampFormat,
    /// `table.column` → its own format.
    pub column_formats: BTreeMap<String, TimestampFormat>,
    pub timezone: Option<chrono_tz::Tz>,
    /// Cell values read as null, compared after trimming.
    pub null_values: Vec<String>,
    /// `None`: a blank channel stays blank.
    pub default_channel: Option<String>,
}

impl Default for Input {
    fn default() -> Input {
        Input {
            timestamp_format: TimestampFormat::Contract,
            column_formats: BTreeMap::new(),
            timezone: None,
            null_values: Vec::new(),
            default_channel: Some(DEFAULT_CHANNEL.to_owned()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInput {
    timestamp_format: Option<String>,
    #[serde(default)]
    timestamp_formats: BTreeMap<String, String>,
    timezone: Option<String>,
    #[serde(default)]
    null_values: Vec<String>,
    default_channel: Option<String>,
}

impl RawInput {
    pub(super) fn resolve(self) -> Result<Input> {
        let mut input = Input::default();
        if let Some(name) = self.timestamp_format {
            input.timestamp_format = TimestampFormat::from_name(&name)
                .map_err(|e| anyhow::anyhow!("[input] timestamp_format: {e}"))?;
        }
        for (key, name) in self.timestamp_formats {
            if key
                .split_once('.')
                .is_none_or(|(t, c)| t.is_empty() || c.is_empty())
            {
                bail!(
                    "[input.timestamp_formats] key `{key}` must name a table and a column, \
                     e.g. \"conversations.opened_at\""
                );
            }
            let format = TimestampFormat::from_name(&name)
                .map_err(|e| anyhow::anyhow!("[input.timestamp_formats] `{key}`: {e}"))?;
            input.column_formats.insert(key.to_lowercase(), format);
        }
        if let Some(zone) = self.timezone {
            input.timezone = Some(zone.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "[input] timezone `{zone}` is not an IANA time zone (e.g. \"Europe/Rome\")"
                )
            })?);
        }
        input.null_values = self
            .null_values
            .into_iter()
            .map(|v| v.trim().to_owned())
            .collect();
        if let Some(channel) = self.default_channel {
            let channel = channel.trim().to_lowercase();
            input.default_channel = (!channel.is_empty()).then_some(channel);
        }
        Ok(input)
    }
}

impl Input {
    /// The reader of one timestamp column.
    pub fn reader(
        &self,
        table: &str,
        column: &str,
        epoch_unit: Option<EpochUnit>,
    ) -> TimestampReader {
        let format = self
            .column_formats
            .get(&format!("{table}.{column}"))
            .unwrap_or(&self.timestamp_format)
            .clone();
        TimestampReader {
            format,
            zone: self.timezone,
            epoch_unit,
        }
    }

    pub fn is_null(&self, text: &str) -> bool {
        let text = text.trim();
        text.is_empty() || self.null_values.iter().any(|v| v == text)
    }

    /// The `table.column` keys of `[input.timestamp_formats]`, to check against the tables.
    pub fn format_keys(&self) -> impl Iterator<Item = &str> {
        self.column_formats.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn input_options_are_read_and_checked() {
        let c = Config::from_toml(
            "[input]\ntimestamp_format = \"%d/%m/%Y %H:%M\"\ntimezone = \"Europe/Rome\"\n\
             null_values = [\"?\"]\ndefault_channel = \"\"\n\
             [input.timestamp_formats]\n\"Conversations.closed_at\" = \"epoch_s\"\n",
        )
        .unwrap();
        assert_eq!(c.input.default_channel, None);
        assert!(c.input.is_null(" ? ") && c.input.is_null("") && !c.input.is_null("x"));
        let closed = c.input.reader("conversations", "closed_at", None);
        assert_eq!(closed.format, TimestampFormat::EpochS);
        let opened = c.input.reader("conversations", "opened_at", None);
        assert_eq!(opened.read("1/7/2026 12:00"), Some(1_782_900_000_000));
        assert_eq!(
            Config::default().input.default_channel.as_deref(),
            Some("whatsapp")
        );
        for (bad, needle) in [
            ("[input]\ntimezone = \"Mars/Base\"\n", "Mars/Base"),
            (
                "[input]\ntimestamp_format = \"dd/mm\"\n",
                "timestamp_format",
            ),
            (
                "[input.timestamp_formats]\nopened_at = \"epoch_s\"\n",
                "opened_at",
            ),
            ("[input]\nnull = []\n", "null"),
        ] {
            let err = Config::from_toml(bad).unwrap_err();
            assert!(format!("{err:#}").contains(needle), "{bad}: {err:#}");
        }
    }
}
