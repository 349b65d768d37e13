//! JSON Lines reader: one object per line. Keys are matched case-insensitively; a key missing
//! from a line is a null; the row number is the line number, so a reader can jump to it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use super::columns::{check_required, normalize};
use super::validate::{Cell, MAX_COLUMNS, Reason, TableBuilder, ValidatedTable};
use crate::progress::Progress;

pub fn read(
    path: &Path,
    mut builder: TableBuilder<'_>,
    progress: &Progress,
) -> Result<ValidatedTable> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress.bytes(len, &format!("reading {}", path.display()));
    let mut reader = BufReader::with_capacity(1 << 20, bar.wrap_read(file));
    let specs = builder.specs();
    let mut seen = vec![false; specs.len()];
    let mut found: Vec<String> = Vec::new();
    let mut line = Vec::new();
    let mut row: u64 = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{}: read failed after line {row}", path.display()))?;
        if n == 0 {
            break;
        }
        row += 1;
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let bytes = if row == 1 {
            bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
        } else {
            bytes
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            let lossy = String::from_utf8_lossy(bytes);
            builder.reject_row(row, "", &lossy, Reason::InvalidUtf8);
            continue;
        };
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                builder.reject_row(row, "", text, Reason::NotAnObject);
                continue;
            }
            Err(e) => {
                builder.reject_row(row, "", &format!("{e}: {text}"), Reason::BadJson);
                continue;
            }
        };
        // Nested or non-string values of extra columns are kept as their JSON text.
        let rendered: Vec<Option<String>> = object
            .values()
            .map(|v| (!matches!(v, Value::Null | Value::String(_))).then(|| v.to_string()))
            .collect();
        let mut cells: [Cell<'_>; MAX_COLUMNS] = std::array::from_fn(|_| Cell::Null);
        let mut extras: Vec<Cell<'_>> = vec![Cell::Null; builder.extra_count()];
        for ((key, value), text) in object.iter().zip(&rendered) {
            let name = normalize(key);
            if let Some(i) = specs.iter().position(|s| s.name == name) {
                seen[i] = true;
                cells[i] = cell(value);
                continue;
            }
            if !found.contains(&name) {
                found.push(name.clone());
            }
            let stringy = matches!(value, Value::String(_) | Value::Array(_) | Value::Object(_));
            let kept_name = super::columns::extra_name(&name, specs, &[]);
            if builder.withholds(&kept_name, stringy) {
                continue;
            }
            let i = builder.extra_index(&kept_name);
            if extras.len() <= i {
                extras.resize(i + 1, Cell::Null);
            }
            extras[i] = match (value, text) {
                (Value::String(s), _) => Cell::Text(s),
                (_, Some(text)) => Cell::Text(text),
                _ => Cell::Null,
            };
        }
        builder.push(row, &cells[..specs.len()], &extras);
    }
    bar.finish_and_clear();
    if builder.rows_read() > 0 {
        let canonical: Vec<Option<usize>> = seen.iter().map(|s| s.then_some(0)).collect();
        let mut names: Vec<String> = specs
            .iter()
            .zip(&seen)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.name.to_owned())
            .collect();
        names.extend(found);
        check_required(path, specs, &canonical, &names)?;
    }
    Ok(builder.finish()?)
}

fn cell(value: &Value) -> Cell<'_> {
    match value {
        Value::Null => Cell::Null,
        Value::String(s) if s.is_empty() => Cell::Null,
        Value::String(s) => Cell::Text(s),
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => Cell::Bad {
            value: other.to_string(),
            reason: Reason::WrongType,
        },
    }
}
