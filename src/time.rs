//! Timestamps as l2lens reads and writes them.
//!
//! Every instant inside l2lens is an `i64` count of milliseconds since the Unix epoch, UTC.
//! Input text is accepted in the forms of the data contract:
//! RFC 3339 with `Z` or an offset (`2026-11-16T09:30:00+05:30`), and
//! `YYYY-MM-DD HH:MM:SS[.fff]` or `YYYY-MM-DDTHH:MM:SS[.fff]` without an offset, read as UTC.
//! Fractions finer than a millisecond are truncated towards the past. Bare integers are refused
//! unless the caller names their unit ([`EpochUnit`]), because `1700000000` could be seconds or
//! milliseconds and guessing would silently shift every metric.

use std::fmt::Write as _;

pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_HOUR: i64 = 3_600 * MS_PER_SECOND;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// The unit of integer timestamps, when the user says what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpochUnit {
    S,
    Ms,
    Us,
    Ns,
}

impl EpochUnit {
    /// Converts an epoch count in this unit to milliseconds (floor division, so that a
    /// pre-1970 instant still truncates towards the past).
    pub fn to_ms(self, value: i64) -> Option<i64> {
        match self {
            EpochUnit::S => value.checked_mul(MS_PER_SECOND),
            EpochUnit::Ms => Some(value),
            EpochUnit::Us => Some(value.div_euclid(1_000)),
            EpochUnit::Ns => Some(value.div_euclid(1_000_000)),
        }
    }
}

/// Parses one timestamp cell. `None` means the text is not a timestamp l2lens accepts.
pub fn parse_timestamp(text: &str, epoch_unit: Option<EpochUnit>) -> Option<i64> {
    let (local_ms, offset_ms) = parse_local_timestamp(text, epoch_unit)?;
    Some(local_ms - offset_ms.unwrap_or(0))
}

/// Parses one timestamp cell into its wall time (as milliseconds of a UTC clock) and its
/// offset in milliseconds when the text has one. Epoch integers are instants (offset zero).
pub fn parse_local_timestamp(
    text: &str,
    epoch_unit: Option<EpochUnit>,
) -> Option<(i64, Option<i64>)> {
    let s = text.trim().as_bytes();
    if s.len() >= 19 && s[4] == b'-' {
        return parse_iso(s);
    }
    let unit = epoch_unit?;
    let text = std::str::from_utf8(s).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((unit.to_ms(text.parse().ok()?)?, Some(0)))
}

fn digits(s: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(v)
}

fn parse_iso(s: &[u8]) -> Option<(i64, Option<i64>)> {
    // YYYY-MM-DD?HH:MM:SS
    if s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let year = digits(&s[0..4])?;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let hour = digits(&s[11..13])?;
    let minute = digits(&s[14..16])?;
    let second = digits(&s[17..19])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for i in 0..3 {
            millis = millis * 10
                + frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |b| i64::from(b - b'0'));
        }
        rest = &frac[n..];
    }
    let offset_minutes = match rest {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some((
        seconds * MS_PER_SECOND + millis,
        offset_minutes.map(|m| m * 60 * MS_PER_SECOND),
    ))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// 1970-01-01, day zero of polars' `Date`.
pub fn epoch_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// Appends an instant as `YYYY-MM-DDTHH:MM:SSZ` (with `.fff` when it has milliseconds).
pub fn write_rfc3339(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(MS_PER_SECOND);
    let millis = ms.rem_euclid(MS_PER_SECOND);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3_600,
        sod % 3_600 / 60,
        sod % 60
    );
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
    out.push('Z');
}

/// An instant as RFC 3339 text in UTC.
pub fn format_rfc3339(ms: i64) -> String {
    let mut s = String::with_capacity(24);
    write_rfc3339(&mut s, ms);
    s
}

/// Writes a date as `YYYY-MM-DD` (for `#[serde(serialize_with)]`).
pub fn serialize_date<S: serde::Serializer>(
    date: &chrono::NaiveDate,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

/// Writes an instant in epoch milliseconds as RFC 3339 (for `#[serde(serialize_with)]`).
pub fn serialize_instant<S: serde::Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_rfc3339(*ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_794_821_400_000; // 2026-11-16T09:30:00Z

    #[test]
    fn accepts_every_form_of_the_contract() {
        for text in [
            "2026-11-16T09:30:00Z",
            "2026-11-16T09:30:00z",
            "2026-11-16T15:00:00+05:30",
            "2026-11-16T15:00:00+0530",
            "2026-11-16T04:30:00-05:00",
            "2026-11-16 09:30:00",
            "2026-11-16T09:30:00",
            "  2026-11-16T09:30:00.000Z ",
        ] {
            assert_eq!(parse_timestamp(text, None), Some(T0), "{text}");
        }
    }

    #[test]
    fn keeps_milliseconds_and_truncates_finer_fractions() {
        assert_eq!(
            parse_timestamp("2026-11-16 09:30:00.5", None),
            Some(T0 + 500)
        );
        assert_eq!(
            parse_timestamp("2026-11-16T09:30:00.123456Z", None),
            Some(T0 + 123)
        );
        assert_eq!(
            parse_timestamp("2026-11-16T09:30:00.12+00:00", None),
            Some(T0 + 120)
        );
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for text in [
            "",
            "yesterday",
            "2026-11-16",
            "2026-13-16T09:30:00Z",
            "2026-02-29T09:30:00Z",
            "2026-11-31T09:30:00Z",
            "2026-11-16T24:00:00Z",
            "2026-11-16T09:30:00+25:00",
            "2026-11-16T09:30:00 UTC",
            "2026-11-16T09:30:00.Z",
            "16/11/2026 09:30",
            "1794821400",
        ] {
            assert_eq!(parse_timestamp(text, None), None, "{text}");
        }
        assert!(parse_timestamp("2028-02-29T00:00:00Z", None).is_some());
    }

    #[test]
    fn integers_need_a_named_unit() {
        assert_eq!(parse_timestamp("1794821400", Some(EpochUnit::S)), Some(T0));
        assert_eq!(
            parse_timestamp("1794821400000", Some(EpochUnit::Ms)),
            Some(T0)
        );
        assert_eq!(
            parse_timestamp("1794821400000000", Some(EpochUnit::Us)),
            Some(T0)
        );
        assert_eq!(
            parse_timestamp("1794821400000000000", Some(EpochUnit::Ns)),
            Some(T0)
        );
        assert_eq!(parse_timestamp("17632854x0", Some(EpochUnit::S)), None);
    }

    #[test]
    fn civil_round_trip_and_formatting() {
        for days in [-719_468, -1, 0, 1, 20_408, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_rfc3339(T0), "2026-11-16T09:30:00Z");
        assert_eq!(format_rfc3339(T0 + 7), "2026-11-16T09:30:00.007Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
