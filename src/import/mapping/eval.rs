//! Column specs applied to input rows, and the field-history mode.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use anyhow::Result;

use super::Output;
use super::source::Row;
use super::spec::{Block, ColumnSpec, Mapping, Mode, Other, Source};
use crate::time::format_rfc3339;

/// A computed value: text, or an instant for timestamp columns (so min/max compare instants).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Instant(i64),
    Text(String),
}

impl Value {
    pub fn text(self) -> String {
        match self {
            Value::Instant(ms) => format_rfc3339(ms),
            Value::Text(t) => t,
        }
    }
}

/// A value the mapping cannot translate: (value, reason).
pub type Untranslatable = (String, String);

/// One untranslatable cell of a row: (column, value, reason).
pub type BadCell = (String, String, String);

pub struct EvalContext<'a> {
    pub mapping: &'a Mapping,
    pub lookups: &'a HashMap<String, HashMap<String, Row>>,
}

impl EvalContext<'_> {
    /// An empty cell, or one of `null_values`.
    pub fn is_null(&self, text: &str) -> bool {
        let text = text.trim();
        text.is_empty() || self.mapping.null_values.iter().any(|v| v == text)
    }

    fn get(&self, row: &Row, column: &str) -> Option<String> {
        row.get(column).filter(|v| !self.is_null(v))
    }

    /// Whether the row's value of each column is one of the listed values.
    pub fn matches(&self, row: &Row, condition: &[(String, Vec<String>)]) -> bool {
        condition.iter().all(|(column, values)| {
            self.get(row, column)
                .is_some_and(|v| values.iter().any(|x| x.trim() == v.trim()))
        })
    }

    /// One column of one row (aggregates aside).
    pub fn value(&self, spec: &ColumnSpec, row: &Row) -> Result<Option<Value>, Untranslatable> {
        if !spec.when.is_empty() && spec.aggregate.is_none() && !self.matches(row, &spec.when) {
            return Ok(None);
        }
        let raw = match &spec.source {
            Source::Column(c) => self.get(row, c),
            Source::Const(v) => Some(v.clone()),
            Source::Template(t) => self.template(t, row),
        };
        let Some(mut value) = raw.map(|v| v.trim().to_owned()) else {
            return Ok(None);
        };
        if let Some((lookup, field)) = &spec.lookup {
            let found = self.lookups.get(lookup).and_then(|rows| rows.get(&value));
            match found.and_then(|r| self.get(r, field)) {
                Some(v) => value = v.trim().to_owned(),
                None => return Ok(None),
            }
        }
        if let Some(map) = &spec.map {
            match map.get(&value.to_lowercase()) {
                Some(to) => value = to.clone(),
                None => match spec.other {
                    Other::Keep => {}
                    Other::Null => return Ok(None),
                    Other::Error => {
                        return Err((value, "unknown_value: not in the map".to_owned()));
                    }
                },
            }
        }
        if let Some(reader) = &spec.timestamp {
            return match reader.read(&value) {
                Some(ms) => Ok(Some(Value::Instant(ms))),
                None => Err((
                    value,
                    "bad_timestamp: not in the column's format".to_owned(),
                )),
            };
        }
        if spec.prefixed {
            value = format!("{}{value}", self.mapping.id_prefix);
        }
        Ok(Some(Value::Text(value)))
    }

    /// `{name}` replaced by the row's value; null when any named value is null.
    fn template(&self, template: &str, row: &Row) -> Option<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            out.push_str(&self.get(row, &rest[start + 1..end])?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// Every column of a block for one row, or every problem of the row.
    pub fn row_values(
        &self,
        block: &Block,
        row: &Row,
    ) -> Result<BTreeMap<String, String>, Vec<BadCell>> {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, spec) in &block.columns {
            match self.value(spec, row) {
                Ok(Some(v)) => {
                    values.insert(name.clone(), v.text());
                }
                Ok(None) => {}
                Err((value, reason)) => errors.push((name.clone(), value, reason)),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }
}

/// Orders snapshot rows by a column: numerically when both values are numbers.
pub fn compare_order(a: Option<String>, b: Option<String>) -> Ordering {
    match (&a, &b) {
        (Some(x), Some(y)) => match (x.trim().parse::<f64>(), y.trim().parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => x.cmp(y),
        },
        _ => a.cmp(&b),
    }
}

/// Long field-history rows → one row per (key, time) where a tracked field changed; the state
/// carries forward, and `clears` empties other fields when one changes.
pub fn field_history(
    block: &Block,
    ctx: &EvalContext<'_>,
    out: &mut Output<'_>,
    rows: Vec<(u64, Row)>,
) -> Result<()> {
    let Mode::FieldHistory {
        key,
        time,
        field,
        value,
        fields,
        clears,
    } = &block.mode
    else {
        unreachable!("field_history is called for its mode");
    };
    let reader = crate::timeformat::TimestampReader {
        format: block
            .columns
            .iter()
            .find_map(|(_, s)| s.timestamp.as_ref().map(|r| r.format.clone()))
            .unwrap_or_default(),
        zone: block
            .columns
            .iter()
            .find_map(|(_, s)| s.timestamp.as_ref().and_then(|r| r.zone)),
        epoch_unit: None,
    };
    let mut tracked: Vec<(u64, i64, Row)> = Vec::new();
    for (number, row) in rows {
        let Some(name) = ctx.get(&row, field) else {
            out.summary.skip("other_fields");
            continue;
        };
        if !fields.iter().any(|(_, f)| f.trim() == name.trim()) {
            out.summary.skip("other_fields");
            continue;
        }
        let raw_time = ctx.get(&row, time).unwrap_or_default();
        let Some(at) = reader.read(&raw_time) else {
            out.summary.skip("quarantined");
            out.problem(
                number,
                time,
                &raw_time,
                "bad_timestamp: not in the column's format",
            );
            continue;
        };
        tracked.push((number, at, row));
    }
    let keyed: Vec<(u64, Row)> = tracked
        .iter()
        .map(|(n, at, row)| (*n, with_values(row, &[("\u{0}at", Some(at.to_string()))])))
        .collect();
    for mut group in super::by_key(out, keyed, key, ctx) {
        let at_of = |row: &Row| {
            row.get("\u{0}at")
                .and_then(|t| t.parse::<i64>().ok())
                .unwrap_or(0)
        };
        group.sort_by_key(|(n, row)| (at_of(row), *n));
        let mut state: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut i = 0;
        while i < group.len() {
            let at = at_of(&group[i].1);
            let mut j = i;
            let mut changed = false;
            while j < group.len() && at_of(&group[j].1) == at {
                let row = &group[j].1;
                let name = ctx.get(row, field).unwrap_or_default();
                let new = ctx.get(row, value);
                for (column, _) in fields.iter().filter(|(_, f)| f.trim() == name.trim()) {
                    if state.get(column).cloned().flatten() != new {
                        state.insert(column.clone(), new.clone());
                        changed = true;
                        for (source, cleared) in clears {
                            if source == column {
                                for c in cleared {
                                    state.insert(c.clone(), None);
                                }
                            }
                        }
                    }
                }
                j += 1;
            }
            let (number, last) = &group[j - 1];
            if changed {
                out.summary.skip_n("merged_history", (j - i) as u64 - 1);
                let extra: Vec<(&str, Option<String>)> =
                    state.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let row = with_values(last, &extra);
                match ctx.row_values(block, &row) {
                    Ok(mut values) => {
                        for (column, v) in &state {
                            if !block.columns.iter().any(|(n, _)| n == column)
                                && let Some(v) = v
                            {
                                let prefixed = super::spec::ID_COLUMNS.contains(&column.as_str());
                                let v = if prefixed {
                                    format!("{}{v}", ctx.mapping.id_prefix)
                                } else {
                                    v.clone()
                                };
                                values.insert(column.clone(), v);
                            }
                        }
                        out.write(&values)?;
                    }
                    Err(errors) => {
                        out.summary.skip("quarantined");
                        for (column, value, reason) in errors {
                            out.problem(*number, &column, &value, &reason);
                        }
                    }
                }
            } else {
                out.summary.skip_n("unchanged_history", (j - i) as u64);
            }
            i = j;
        }
    }
    Ok(())
}

/// The row with extra named values (a JSON object, so that the names can be addressed).
fn with_values(row: &Row, extra: &[(&str, Option<String>)]) -> Row {
    let mut map = match row {
        Row::Json(serde_json::Value::Object(m)) => m.clone(),
        Row::Json(_) => serde_json::Map::new(),
        Row::Flat { index, values } => index
            .iter()
            .map(|(name, &i)| (name.clone(), serde_json::Value::String(values[i].clone())))
            .collect(),
    };
    for (name, value) in extra {
        map.insert(
            (*name).to_owned(),
            value
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::String),
        );
    }
    Row::Json(serde_json::Value::Object(map))
}
