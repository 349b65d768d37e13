//! Units of metric values and how people read them: seconds as s/min/h/d, rates as
//! percentages. Shared by thresholds, metrics and every renderer.

/// What a metric's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Rate,
    Count,
    PerConversation,
    /// An amount in the rate card's currency.
    Money,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Rate => "fraction 0-1",
            Unit::Count => "conversations",
            Unit::PerConversation => "per conversation",
            Unit::Money => "amount in the rate card's currency",
        }
    }
}

/// A value for people: seconds as s/min/h/d, rates as percentages.
pub fn human(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => {
            let v = value.abs();
            if v < 120.0 {
                format!("{value:.1} s")
            } else if v < 7_200.0 {
                format!("{:.1} min", value / 60.0)
            } else if v < 172_800.0 {
                format!("{:.1} h", value / 3_600.0)
            } else {
                format!("{:.1} d", value / 86_400.0)
            }
        }
        Unit::Rate => format!("{:.1} %", value * 100.0),
        Unit::Count => format!("{value:.0}"),
        Unit::PerConversation => format!("{value:.2}"),
        Unit::Money => format!("{value:.4}"),
    }
}

/// Text for people: control characters (NUL and the other C0 codes but tab and newline, and
/// DEL) become U+FFFD, as an HTML parser would treat them, so a NUL byte in a lane name never
/// reaches a page or a mail. The data itself keeps the bytes it came with.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\t' && c != '\n') || c == '\u{7f}' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_people() {
        assert_eq!(
            printable("tech\0nical\u{1b}[31m"),
            "tech\u{fffd}nical\u{fffd}[31m"
        );
        assert_eq!(printable("a\tb\nc é"), "a\tb\nc é");
    }

    #[test]
    fn human_units() {
        assert_eq!(human(42.5, Unit::Seconds), "42.5 s");
        assert_eq!(human(300.0, Unit::Seconds), "5.0 min");
        assert_eq!(human(7_200.0, Unit::Seconds), "2.0 h");
        assert_eq!(human(259_200.0, Unit::Seconds), "3.0 d");
        assert_eq!(human(0.4444, Unit::Rate), "44.4 %");
        assert_eq!(human(2.0, Unit::Count), "2");
        assert_eq!(human(0.4615, Unit::PerConversation), "0.46");
    }
}
