//! Timestamps in the forms real exports use: a named format or a chrono strftime pattern, and a
//! time zone for values that carry no offset.
//!
//! The contract's own forms (RFC 3339, `YYYY-MM-DD HH:MM:SS`) stay the default
//! ([`TimestampFormat::Contract`]); a format is named only when an export writes something else
//! (`29/2/2016 01:16`, `Tue Oct 31 22:10:47 +0000 2017`, an RFC 2822 date, epoch seconds).
//! A local time that a change of clocks skipped is moved forward by the length of the gap
//! (`02:30` on a spring-forward night is `03:30`); a local time that occurs twice is the earlier
//! of the two instants.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::time::{EpochUnit, parse_local_timestamp};

/// How the text of a timestamp column is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// RFC 3339 or `YYYY-MM-DD HH:MM:SS[.fff]`; bare integers only with a named epoch unit.
    #[default]
    Contract,
    EpochS,
    EpochMs,
    Rfc2822,
    /// A chrono strftime pattern (`%d/%m/%Y %H:%M`).
    Pattern(String),
}

impl TimestampFormat {
    /// Reads a format name: `rfc3339`, `epoch_s`, `epoch_ms`, `rfc2822` or a strftime pattern.
    pub fn from_name(name: &str) -> Result<TimestampFormat, String> {
        match name.trim() {
            "rfc3339" | "iso8601" => Ok(TimestampFormat::Contract),
            "epoch_s" => Ok(TimestampFormat::EpochS),
            "epoch_ms" => Ok(TimestampFormat::EpochMs),
            "rfc2822" => Ok(TimestampFormat::Rfc2822),
            pattern if pattern.contains('%') => {
                if StrftimeItems::new(pattern).any(|item| matches!(item, Item::Error)) {
                    return Err(format!(
                        "`{pattern}` is not a valid strftime pattern (see chrono's format \
                         specifiers, e.g. \"%d/%m/%Y %H:%M\")"
                    ));
                }
                Ok(TimestampFormat::Pattern(pattern.to_owned()))
            }
            other => Err(format!(
                "unknown timestamp format `{other}`: use rfc3339, epoch_s, epoch_ms, rfc2822 or a \
                 strftime pattern such as \"%d/%m/%Y %H:%M\""
            )),
        }
    }
}

/// Everything needed to read one timestamp column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimestampReader {
    pub format: TimestampFormat,
    /// The zone of values without an offset; UTC when `None`.
    pub zone: Option<Tz>,
    /// The unit of bare integers under [`TimestampFormat::Contract`].
    pub epoch_unit: Option<EpochUnit>,
}

impl TimestampReader {
    /// The instant in UTC milliseconds, or `None` when the text is not in this format.
    pub fn read(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        match &self.format {
            TimestampFormat::Contract => {
                let (local_ms, offset) = parse_local_timestamp(text, self.epoch_unit)?;
                match (offset, self.zone) {
                    (Some(offset_ms), _) => Some(local_ms - offset_ms),
                    (None, None) => Some(local_ms),
                    (None, Some(zone)) => {
                        let naive = DateTime::from_timestamp_millis(local_ms)?.naive_utc();
                        Some(local_to_utc(zone, naive))
                    }
                }
            }
            TimestampFormat::EpochS => integer(text).and_then(|s| EpochUnit::S.to_ms(s)),
            TimestampFormat::EpochMs => integer(text),
            TimestampFormat::Rfc2822 => DateTime::parse_from_rfc2822(text)
                .ok()
                .map(|t| t.timestamp_millis()),
            TimestampFormat::Pattern(pattern) => {
                if let Ok(t) = DateTime::parse_from_str(text, pattern) {
                    return Some(t.timestamp_millis());
                }
                let naive = NaiveDateTime::parse_from_str(text, pattern).ok()?;
                Some(match self.zone {
                    Some(zone) => local_to_utc(zone, naive),
                    None => naive.and_utc().timestamp_millis(),
                })
            }
        }
    }
}

fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The instant of a wall time in `zone`: the earlier one when the wall time occurs twice, the
/// wall time moved forward by the gap when clocks skipped it.
pub fn local_to_utc(zone: Tz, naive: NaiveDateTime) -> i64 {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(a, b) => a.timestamp_millis().min(b.timestamp_millis()),
        LocalResult::None => {
            // Read the wall time with the offset in force just before the gap: 02:30 with the
            // winter offset is the instant the clocks show as 03:30.
            let mut before = naive;
            for _ in 0..(48 * 60) {
                before -= Duration::minutes(1);
                if let Some(t) = zone.from_local_datetime(&before).earliest() {
                    let offset_ms =
                        t.naive_local().and_utc().timestamp_millis() - t.timestamp_millis();
                    return naive.and_utc().timestamp_millis() - offset_ms;
                }
            }
            naive.and_utc().timestamp_millis()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_rfc3339;

    fn read(format: &str, zone: Option<Tz>, text: &str) -> Option<String> {
        let reader = TimestampReader {
            format: TimestampFormat::from_name(format).unwrap(),
            zone,
            epoch_unit: None,
        };
        reader.read(text).map(format_rfc3339)
    }

    #[test]
    fn real_export_forms() {
        let day_first = "%d/%m/%Y %H:%M";
        assert_eq!(
            read(day_first, None, "29/2/2016 01:16").as_deref(),
            Some("2016-02-29T01:16:00Z"),
            "single-digit months and days parse"
        );
        assert_eq!(
            read(day_first, None, "1/3/2016 9:05").as_deref(),
            Some("2016-03-01T09:05:00Z")
        );
        assert_eq!(read(day_first, None, "31/2/2016 01:16"), None);
        assert_eq!(
            read(
                "%a %b %d %H:%M:%S %z %Y",
                None,
                "Tue Oct 31 22:10:47 +0000 2017"
            )
            .as_deref(),
            Some("2017-10-31T22:10:47Z"),
            "Twitter's created_at"
        );
        assert_eq!(
            read("%Y/%m/%d %H:%M:%S", None, "2012/10/09 14:01:00").as_deref(),
            Some("2012-10-09T14:01:00Z")
        );
        assert_eq!(
            read("rfc2822", None, "Tue, 1 Jul 2003 10:52:37 +0200").as_deref(),
            Some("2003-07-01T08:52:37Z")
        );
        assert_eq!(
            read("epoch_s", None, "1698266945").as_deref(),
            Some("2023-10-25T20:49:05Z")
        );
        assert_eq!(
            read("epoch_ms", None, "1698266945123").as_deref(),
            Some("2023-10-25T20:49:05.123Z")
        );
        assert_eq!(read("epoch_s", None, "16982x"), None);
    }

    #[test]
    fn a_zone_for_values_without_an_offset() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        assert_eq!(
            read("rfc3339", berlin, "2026-07-01 12:00:00").as_deref(),
            Some("2026-07-01T10:00:00Z")
        );
        assert_eq!(
            read("rfc3339", berlin, "2026-07-01T12:00:00Z").as_deref(),
            Some("2026-07-01T12:00:00Z"),
            "an explicit offset wins over the zone"
        );
        assert_eq!(
            read("%d/%m/%Y %H:%M", berlin, "1/1/2026 12:00").as_deref(),
            Some("2026-01-01T11:00:00Z")
        );
        // 2026-03-29 02:30 does not exist in Berlin: moved forward to 03:30 CEST.
        assert_eq!(
            read("rfc3339", berlin, "2026-03-29 02:30:00").as_deref(),
            Some("2026-03-29T01:30:00Z")
        );
        // 2026-10-25 02:30 occurs twice: the earlier, still CEST.
        assert_eq!(
            read("rfc3339", berlin, "2026-10-25 02:30:00").as_deref(),
            Some("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn bad_formats_are_named() {
        assert!(TimestampFormat::from_name("%Q").unwrap_err().contains("%Q"));
        assert!(
            TimestampFormat::from_name("dd/mm")
                .unwrap_err()
                .contains("strftime")
        );
    }
}
