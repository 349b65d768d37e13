//! The time values Chatwoot payloads carry: ISO strings, epoch seconds (integer or float),
//! `2020-03-03 13:05:57 UTC` and a browser's `Fri Jul 23 2021 23:32:48 GMT+0530 (…)`.

use serde_json::Value;

use crate::time::parse_timestamp;

/// Milliseconds since the epoch, or `None` for null, 0 (Chatwoot's "not set") and anything
/// unreadable.
pub fn parse(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            let seconds = n.as_f64()?;
            if !seconds.is_finite() || seconds <= 0.0 {
                return None;
            }
            // Epoch milliseconds are 13 digits; seconds 10.
            let ms = if seconds > 1e11 {
                seconds
            } else {
                seconds * 1000.0
            };
            Some(ms.floor() as i64)
        }
        Value::String(s) => parse_text(s),
        _ => None,
    }
}

fn parse_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<f64>() {
        return parse(&serde_json::json!(n));
    }
    if let Some(ms) = parse_timestamp(text, None) {
        return Some(ms);
    }
    if let Some(rest) = text.strip_suffix(" UTC") {
        return parse_timestamp(rest, None);
    }
    // A JavaScript Date string: drop the zone name in parentheses.
    let js = text.split(" (").next().unwrap_or(text);
    chrono::DateTime::parse_from_str(js, "%a %b %d %Y %H:%M:%S GMT%z")
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_rfc3339;

    #[test]
    fn every_form_chatwoot_sends() {
        let t = |v: Value| parse(&v).map(format_rfc3339);
        assert_eq!(
            t(serde_json::json!("2021-07-23T18:02:48.000Z")).as_deref(),
            Some("2021-07-23T18:02:48Z")
        );
        assert_eq!(
            t(serde_json::json!(1627063369)).as_deref(),
            Some("2021-07-23T18:02:49Z")
        );
        assert_eq!(
            t(serde_json::json!(1778141553.25)).as_deref(),
            Some("2026-05-07T08:12:33.250Z")
        );
        assert_eq!(
            t(serde_json::json!("2020-03-03 13:05:57 UTC")).as_deref(),
            Some("2020-03-03T13:05:57Z")
        );
        assert_eq!(
            t(serde_json::json!(
                "Fri Jul 23 2021 23:32:48 GMT+0530 (India Standard Time)"
            ))
            .as_deref(),
            Some("2021-07-23T18:02:48Z")
        );
        assert_eq!(
            t(serde_json::json!(0)),
            None,
            "0 is Chatwoot's empty waiting_since"
        );
        assert_eq!(t(Value::Null), None);
    }
}
