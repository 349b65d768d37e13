//! The mapping file: its grammar, read and checked before any input is opened. Every error
//! names the key it is about.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;

use crate::ingest::schema::{Kind, Table};
use crate::timeformat::{TimestampFormat, TimestampReader};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    mapping: RawHead,
    #[serde(default)]
    lookups: BTreeMap<String, RawLookup>,
    #[serde(default)]
    tables: BTreeMap<String, Vec<RawBlock>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    id_prefix: Option<String>,
    timestamp: Option<String>,
    timezone: Option<String>,
    null_values: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLookup {
    file: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlock {
    file: String,
    explode: Option<String>,
    #[serde(rename = "where", default)]
    filter: BTreeMap<String, Vec<toml::Value>>,
    mode: Option<String>,
    key: Option<String>,
    order: Option<String>,
    track: Option<Vec<String>>,
    time: Option<String>,
    field: Option<String>,
    value: Option<String>,
    fields: Option<BTreeMap<String, String>>,
    clears: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    columns: BTreeMap<String, toml::Value>,
}

/// A checked mapping.
#[derive(Debug)]
pub struct Mapping {
    pub id_prefix: String,
    pub null_values: Vec<String>,
    pub lookups: BTreeMap<String, Lookup>,
    /// Blocks in table order (conversations first), then file order.
    pub blocks: Vec<Block>,
}

#[derive(Debug)]
pub struct Lookup {
    pub file: String,
    pub key: String,
}

#[derive(Debug)]
pub struct Block {
    pub table: Table,
    /// `tables.<name>[<n>]`, for messages.
    pub name: String,
    pub file: String,
    pub explode: Option<String>,
    pub filter: Vec<(String, Vec<String>)>,
    pub mode: Mode,
    /// Canonical or extra output column → how it is computed.
    pub columns: Vec<(String, ColumnSpec)>,
}

#[derive(Debug)]
pub enum Mode {
    Rows,
    Changes {
        key: String,
        order: String,
        track: Vec<String>,
    },
    FieldHistory {
        key: String,
        time: String,
        field: String,
        value: String,
        /// Output column → the `field` value that sets it.
        fields: Vec<(String, String)>,
        /// Output column → columns it empties when it changes.
        clears: Vec<(String, Vec<String>)>,
    },
    Group {
        key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    First,
    Last,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    Keep,
    Null,
    Error,
}

/// How one output column is computed from an input row.
#[derive(Debug)]
pub struct ColumnSpec {
    pub source: Source,
    pub aggregate: Option<Aggregate>,
    pub lookup: Option<(String, String)>,
    /// Lower-cased keys.
    pub map: Option<BTreeMap<String, String>>,
    pub other: Other,
    pub when: Vec<(String, Vec<String>)>,
    /// For timestamp columns: how the value is read.
    pub timestamp: Option<TimestampReader>,
    /// Whether `id_prefix` applies (conversation, message, customer and assignee ids).
    pub prefixed: bool,
}

#[derive(Debug)]
pub enum Source {
    Column(String),
    Const(String),
    Template(String),
}

/// Columns whose values are ids and get `id_prefix`.
pub const ID_COLUMNS: &[&str] = &[
    "conversation_id",
    "message_id",
    "customer_id",
    "assignee_id",
];

fn text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn table_by_name(name: &str) -> Option<Table> {
    Table::ALL.into_iter().find(|t| t.name() == name)
}

pub fn parse(text_toml: &str) -> Result<Mapping> {
    let raw: RawMapping = toml::from_str(text_toml)?;
    let head = raw.mapping;
    let default_format = match &head.timestamp {
        Some(name) => {
            TimestampFormat::from_name(name).map_err(|e| anyhow!("[mapping] timestamp: {e}"))?
        }
        None => TimestampFormat::Contract,
    };
    let zone = match &head.timezone {
        Some(z) => Some(z.trim().parse::<chrono_tz::Tz>().map_err(|_| {
            anyhow!("[mapping] timezone `{z}` is not an IANA time zone (e.g. \"Europe/Rome\")")
        })?),
        None => None,
    };
    let lookups: BTreeMap<String, Lookup> = raw
        .lookups
        .into_iter()
        .map(|(name, l)| {
            (
                name,
                Lookup {
                    file: l.file,
                    key: l.key,
                },
            )
        })
        .collect();
    let mut blocks = Vec::new();
    let mut tables: Vec<(String, Vec<RawBlock>)> = raw.tables.into_iter().collect();
    tables.sort_by_key(|(name, _)| table_by_name(name).map_or(usize::MAX, |t| t as usize));
    for (name, raw_blocks) in tables {
        let table = table_by_name(&name).ok_or_else(|| {
            anyhow!(
                "[tables.{name}] is not a canonical table; use one of {}",
                Table::ALL.map(|t| t.name()).join(", ")
            )
        })?;
        for (n, raw_block) in raw_blocks.into_iter().enumerate() {
            let label = format!("tables.{name}[{n}]");
            blocks.push(block(
                table,
                &label,
                raw_block,
                &default_format,
                zone,
                &lookups,
            )?);
        }
    }
    if !blocks.iter().any(|b| b.table == Table::Conversations) {
        bail!(
            "the mapping has no [[tables.conversations]] block; every import needs conversations"
        );
    }
    Ok(Mapping {
        id_prefix: head.id_prefix.unwrap_or_default(),
        null_values: head
            .null_values
            .unwrap_or_else(|| vec![String::new()])
            .into_iter()
            .map(|v| v.trim().to_owned())
            .collect(),
        lookups,
        blocks,
    })
}

fn block(
    table: Table,
    label: &str,
    raw: RawBlock,
    default_format: &TimestampFormat,
    zone: Option<chrono_tz::Tz>,
    lookups: &BTreeMap<String, Lookup>,
) -> Result<Block> {
    let need = |value: Option<String>, key: &str, mode: &str| {
        value.ok_or_else(|| anyhow!("[{label}] mode = \"{mode}\" needs `{key}`"))
    };
    let mode = match raw.mode.as_deref().unwrap_or("rows") {
        "rows" => Mode::Rows,
        "changes" => Mode::Changes {
            key: need(raw.key, "key", "changes")?,
            order: need(raw.order, "order", "changes")?,
            track: raw.track.filter(|t| !t.is_empty()).ok_or_else(|| {
                anyhow!("[{label}] mode = \"changes\" needs `track`, a list of output columns")
            })?,
        },
        "field_history" => Mode::FieldHistory {
            key: need(raw.key, "key", "field_history")?,
            time: need(raw.time, "time", "field_history")?,
            field: need(raw.field, "field", "field_history")?,
            value: need(raw.value, "value", "field_history")?,
            fields: raw
                .fields
                .filter(|f| !f.is_empty())
                .ok_or_else(|| anyhow!("[{label}] mode = \"field_history\" needs `fields`"))?
                .into_iter()
                .collect(),
            clears: raw.clears.unwrap_or_default().into_iter().collect(),
        },
        "group" => Mode::Group {
            key: need(raw.key, "key", "group")?,
        },
        other => {
            bail!("[{label}] mode `{other}` is unknown; use rows, changes, field_history or group")
        }
    };
    if let Mode::FieldHistory { fields, clears, .. } = &mode {
        for (column, _) in clears {
            if !fields.iter().any(|(f, _)| f == column) {
                bail!("[{label}] clears `{column}` is not one of `fields`");
            }
        }
    }
    let specs = table.columns();
    let mut columns = Vec::new();
    for (name, value) in raw.columns {
        let key = format!("{label}.columns.{name}");
        let canonical = specs.iter().find(|s| s.name == name);
        let is_timestamp = canonical.is_some_and(|s| s.kind == Kind::Timestamp);
        let is_enum = canonical.is_some_and(|s| matches!(s.kind, Kind::Enum { .. }));
        let spec = column(
            &key,
            &value,
            is_timestamp,
            is_enum,
            default_format,
            zone,
            lookups,
        )?;
        if spec.aggregate.is_some() != matches!(mode, Mode::Group { .. }) {
            bail!(
                "[{key}] first/last/min/max are for mode = \"group\" (and needed there instead of `col`)"
            );
        }
        columns.push((
            name.clone(),
            ColumnSpec {
                prefixed: ID_COLUMNS.contains(&name.as_str()),
                ..spec
            },
        ));
    }
    let produced = |c: &str| {
        columns.iter().any(|(n, _)| n == c)
            || matches!(&mode, Mode::FieldHistory { fields, .. } if fields.iter().any(|(f, _)| f == c))
    };
    for spec in specs.iter().filter(|s| s.required) {
        if !produced(spec.name) {
            bail!(
                "[{label}] does not produce the required column `{}` of {}; add it under \
                 [{label}.columns] (as a column name, or {{ const = \"...\" }})",
                spec.name,
                table.name()
            );
        }
    }
    if let Mode::Changes { track, .. } = &mode {
        for t in track {
            if !produced(t) {
                bail!("[{label}] track `{t}` is not an output column of the block");
            }
        }
    }
    Ok(Block {
        table,
        name: label.to_owned(),
        file: raw.file,
        explode: raw.explode,
        filter: condition(label, "where", raw.filter)?,
        mode,
        columns,
    })
}

fn condition(
    label: &str,
    key: &str,
    raw: BTreeMap<String, Vec<toml::Value>>,
) -> Result<Vec<(String, Vec<String>)>> {
    raw.into_iter()
        .map(|(col, values)| {
            let values = values
                .iter()
                .map(|v| {
                    text(v).ok_or_else(|| {
                        anyhow!("[{label}] {key}.{col}: values must be strings or numbers")
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((col, values))
        })
        .collect()
}

fn column(
    key: &str,
    value: &toml::Value,
    is_timestamp: bool,
    is_enum: bool,
    default_format: &TimestampFormat,
    zone: Option<chrono_tz::Tz>,
    lookups: &BTreeMap<String, Lookup>,
) -> Result<ColumnSpec> {
    let reader = |format: &TimestampFormat| {
        is_timestamp.then(|| TimestampReader {
            format: format.clone(),
            zone,
            epoch_unit: None,
        })
    };
    let mut spec = ColumnSpec {
        source: Source::Const(String::new()),
        aggregate: None,
        lookup: None,
        map: None,
        other: if is_enum { Other::Error } else { Other::Keep },
        when: Vec::new(),
        timestamp: reader(default_format),
        prefixed: false,
    };
    let table = match value {
        toml::Value::String(col) => {
            spec.source = Source::Column(col.clone());
            return Ok(spec);
        }
        toml::Value::Table(t) => t,
        _ => bail!("[{key}] must be a column name or a table such as {{ col = \"...\" }}"),
    };
    let mut sources = Vec::new();
    for (k, v) in table {
        let as_text = || text(v).ok_or_else(|| anyhow!("[{key}] `{k}` must be a string"));
        match k.as_str() {
            "col" => sources.push((Source::Column(as_text()?), None)),
            "const" => sources.push((Source::Const(as_text()?), None)),
            "template" => sources.push((Source::Template(as_text()?), None)),
            "first" | "last" | "min" | "max" => {
                let aggregate = match k.as_str() {
                    "first" => Aggregate::First,
                    "last" => Aggregate::Last,
                    "min" => Aggregate::Min,
                    _ => Aggregate::Max,
                };
                sources.push((Source::Column(as_text()?), Some(aggregate)));
            }
            "map" => {
                let toml::Value::Table(m) = v else {
                    bail!("[{key}] map must be a table such as {{ \"from\" = \"to\" }}");
                };
                let mut map = BTreeMap::new();
                for (from, to) in m {
                    let to =
                        text(to).ok_or_else(|| anyhow!("[{key}] map.{from} must be a string"))?;
                    map.insert(from.to_lowercase(), to);
                }
                spec.map = Some(map);
            }
            "other" => {
                spec.other = match as_text()?.as_str() {
                    "keep" => Other::Keep,
                    "null" => Other::Null,
                    "error" => Other::Error,
                    o => bail!("[{key}] other = \"{o}\": use keep, null or error"),
                }
            }
            "format" => {
                if !is_timestamp {
                    bail!("[{key}] format is only for timestamp columns");
                }
                let format = TimestampFormat::from_name(&as_text()?)
                    .map_err(|e| anyhow!("[{key}] format: {e}"))?;
                spec.timestamp = reader(&format);
            }
            "lookup" => {
                let name = as_text()?;
                if !lookups.contains_key(&name) {
                    bail!("[{key}] lookup `{name}` is not defined under [lookups]");
                }
                let field = match table.get("field") {
                    Some(f) => {
                        text(f).ok_or_else(|| anyhow!("[{key}] `field` must be a string"))?
                    }
                    None => bail!("[{key}] lookup needs `field`, the lookup column to take"),
                };
                spec.lookup = Some((name, field));
            }
            "field" => {
                if !table.contains_key("lookup") {
                    bail!("[{key}] `field` is only used with `lookup`");
                }
            }
            "when" => {
                let toml::Value::Table(w) = v else {
                    bail!("[{key}] when must be a table such as {{ status = [\"solved\"] }}");
                };
                let raw = w
                    .iter()
                    .map(|(c, vs)| match vs {
                        toml::Value::Array(a) => Ok((c.clone(), a.clone())),
                        other => Ok((c.clone(), vec![other.clone()])),
                    })
                    .collect::<Result<BTreeMap<_, _>>>()?;
                spec.when = condition(key, "when", raw)?;
            }
            other => bail!(
                "[{key}] unknown key `{other}`; a column takes col, const, template, first, last, \
                 min, max, map, other, format, lookup, field, when"
            ),
        }
    }
    match sources.len() {
        1 => {
            let (source, aggregate) = sources.pop().expect("one source");
            spec.source = source;
            spec.aggregate = aggregate;
        }
        0 => bail!(
            "[{key}] names no source: give col, const, template (or first/last/min/max in group mode)"
        ),
        _ => bail!("[{key}] has more than one of col, const, template, first, last, min, max"),
    }
    Ok(spec)
}
