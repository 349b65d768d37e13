//! One cell through its column's rule: timestamps, booleans, enums, defaults.

use std::borrow::Cow;

use super::{Cell, ColumnReader, ColumnSpec, Kind, Reason, Value};
use crate::time::{EpochUnit, format_rfc3339};
use crate::timeformat::{TimestampFormat, TimestampReader};

/// Applies one column's rule to one cell. The error carries the offending text and reason.
#[inline(always)]
pub(super) fn parse<'a, 'r>(
    spec: &ColumnSpec,
    cell: &Cell<'a>,
    reader: &'r ColumnReader,
) -> Result<Value<'a>, (String, Reason)>
where
    'r: 'a,
{
    // Trimmed once; the quarantine shows the text as read.
    let trimmed = match cell {
        Cell::Text(t) => trim(t),
        _ => "",
    };
    let value = match (spec.kind, cell, &reader.timestamp) {
        (_, Cell::Bad { value, reason }, _) => return Err((value.clone(), *reason)),
        (_, Cell::Null, _) => Value::Null,
        (_, Cell::Text(_), _) if trimmed.is_empty() => Value::Null,
        (Kind::Timestamp, Cell::Text(t), Some(ts)) => match ts.read(trimmed) {
            Some(ms) => Value::Ts(ms),
            None => return Err(((*t).to_owned(), Reason::BadTimestamp)),
        },
        (Kind::Timestamp, Cell::Timestamp(ms), _) => Value::Ts(*ms),
        (Kind::Timestamp, Cell::Int(i), Some(ts)) => match epoch_ms(ts, *i) {
            Some(ms) => Value::Ts(ms),
            None => return Err((i.to_string(), Reason::BadTimestamp)),
        },
        (Kind::Timestamp, other, _) => return Err((display(other), Reason::BadTimestamp)),
        (Kind::Bool, Cell::Bool(b), _) => Value::Bool(*b),
        (Kind::Bool, Cell::Int(i @ (0 | 1)), _) => Value::Bool(*i == 1),
        (Kind::Bool, Cell::Text(t), _) => match parse_bool(t) {
            Some(b) => Value::Bool(b),
            None => return Err(((*t).to_owned(), Reason::BadBool)),
        },
        (Kind::Bool, other, _) => return Err((display(other), Reason::BadBool)),
        (Kind::LenientBool, Cell::Bool(b), _) => Value::Bool(*b),
        (Kind::LenientBool, Cell::Int(i @ (0 | 1)), _) => Value::Bool(*i == 1),
        (Kind::LenientBool, Cell::Text(t), _) => {
            parse_bool(t).map_or(Value::Unreadable, Value::Bool)
        }
        (Kind::LenientBool, _, _) => Value::Unreadable,
        (Kind::Seconds, Cell::Int(i), _) if *i >= 0 => Value::Float(*i as f64),
        (Kind::Seconds, Cell::Float(f), _) if *f >= 0.0 && f.is_finite() => Value::Float(*f),
        (Kind::Seconds, Cell::Text(t), _) => match trimmed.parse::<f64>() {
            Ok(f) if f >= 0.0 && f.is_finite() => Value::Float(f),
            _ => return Err(((*t).to_owned(), Reason::BadNumber)),
        },
        (Kind::Seconds, other, _) => return Err((display(other), Reason::BadNumber)),
        (Kind::Spelled(spellings), Cell::Text(t), _) => {
            let lower = lowercase(trimmed);
            match spellings.iter().find(|(s, _)| *s == lower.as_ref()) {
                Some((_, stored)) => Value::Str(Cow::Borrowed(stored)),
                None => return Err(((*t).to_owned(), Reason::UnknownValue)),
            }
        }
        (Kind::Spelled(_), other, _) => return Err((display(other), Reason::UnknownValue)),
        (Kind::LenientEnum(values), Cell::Text(_), _) => {
            let lower = lowercase(trimmed);
            match values.iter().find(|v| **v == lower.as_ref()) {
                Some(v) => Value::Str(Cow::Borrowed(v)),
                None => Value::Unreadable,
            }
        }
        (Kind::LenientEnum(_), _, _) => Value::Unreadable,
        (Kind::Digits, Cell::Int(i), _) if *i >= 0 => Value::Str(Cow::Owned(i.to_string())),
        (Kind::Digits, Cell::Text(_), _) if trimmed.bytes().all(|b| b.is_ascii_digit()) => {
            Value::Str(Cow::Borrowed(trimmed))
        }
        (Kind::Digits, _, _) => Value::Unreadable,
        (Kind::Count, Cell::Int(i), _) if *i >= 0 => Value::Str(Cow::Owned(i.to_string())),
        (Kind::Count, Cell::Text(t), _) => match trimmed.parse::<u32>() {
            Ok(_) => Value::Str(Cow::Borrowed(trimmed)),
            Err(_) => return Err(((*t).to_owned(), Reason::BadCount)),
        },
        (Kind::Count, other, _) => return Err((display(other), Reason::BadCount)),
        (Kind::Text, Cell::Text(_), _) => Value::Str(Cow::Borrowed(trimmed)),
        (Kind::Lowercase { .. } | Kind::Enum { .. }, Cell::Text(_), _) => {
            Value::Str(lowercase(trimmed))
        }
        (_, other, _) => Value::Str(Cow::Owned(display(other))),
    };
    let value = match (spec.kind, value, &reader.default) {
        (Kind::Lowercase { .. } | Kind::Enum { .. }, Value::Null, Some(d)) => {
            Value::Str(Cow::Borrowed(d.as_str()))
        }
        (Kind::Bool, Value::Null, _) => Value::Bool(false),
        (Kind::Enum { values, .. }, Value::Str(s), _) if !values.contains(&s.as_ref()) => {
            return Err((s.into_owned(), Reason::UnknownValue));
        }
        (_, v, _) => v,
    };
    if spec.required && matches!(value, Value::Null) {
        return Err((String::new(), Reason::MissingValue));
    }
    Ok(value)
}

/// An integer cell of a timestamp column: in the column's epoch format, else in the unit the
/// user named.
fn epoch_ms(reader: &TimestampReader, value: i64) -> Option<i64> {
    match reader.format {
        TimestampFormat::EpochS => EpochUnit::S.to_ms(value),
        TimestampFormat::EpochMs => Some(value),
        _ => reader.epoch_unit.and_then(|u| u.to_ms(value)),
    }
}

/// `str::trim`, with a shortcut for the usual text that starts and ends with a visible ASCII
/// character.
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

pub(super) fn display(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(t) => (*t).to_owned(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Timestamp(ms) => format_rfc3339(*ms),
        Cell::Bad { value, .. } => value.clone(),
    }
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" => Some(true),
        "false" | "0" | "no" | "f" => Some(false),
        _ => None,
    }
}
