//! Matching a file's column names to the canonical ones (case-insensitive, trimmed).

use std::path::Path;

use anyhow::{Result, bail};

use super::schema::{CONVERSATION_KEY, ColumnSpec, SOURCE_ROW};

/// Names l2lens adds to every ingested table; an input column with one of them is kept
/// under another name rather than overwriting them.
pub const RESERVED: &[&str] = &[SOURCE_ROW, CONVERSATION_KEY];

/// The name an extra (non-canonical) column is kept under: its own, unless that would clash
/// with a canonical column, a column l2lens adds, or an extra already named so.
pub fn extra_name(name: &str, specs: &[ColumnSpec], taken: &[String]) -> String {
    let mut kept = name.to_owned();
    while specs.iter().any(|s| s.name == kept)
        || RESERVED.contains(&kept.as_str())
        || taken.contains(&kept)
    {
        kept.push_str("_input");
    }
    kept
}

/// Where each canonical column sits in a file, and which of the file's columns are extras.
pub struct ColumnMap {
    /// For each canonical column, its position in the file.
    pub canonical: Vec<Option<usize>>,
    /// (position in the file, name to keep) of every other column.
    pub extras: Vec<(usize, String)>,
}

pub fn normalize(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_lowercase()
}

impl ColumnMap {
    /// Maps the names of a file with a fixed header (CSV, Parquet). Fails, naming the file, when
    /// a required column is missing or a canonical column appears twice.
    pub fn from_header(path: &Path, specs: &[ColumnSpec], names: &[String]) -> Result<ColumnMap> {
        let mut canonical = vec![None; specs.len()];
        let mut extras: Vec<(usize, String)> = Vec::new();
        for (pos, raw) in names.iter().enumerate() {
            let name = normalize(raw);
            match specs.iter().position(|s| s.name == name) {
                Some(i) if canonical[i].is_some() => bail!(
                    "{}: column `{}` appears twice in the header; keep one of them",
                    path.display(),
                    specs[i].name
                ),
                Some(i) => canonical[i] = Some(pos),
                None => {
                    let name = if name.is_empty() {
                        format!("column_{}", pos + 1)
                    } else {
                        name
                    };
                    let taken: Vec<String> = extras.iter().map(|(_, n)| n.clone()).collect();
                    extras.push((pos, extra_name(&name, specs, &taken)));
                }
            }
        }
        check_required(path, specs, &canonical, names)?;
        Ok(ColumnMap { canonical, extras })
    }
}

/// Fails when a required column has no position, listing what the file has instead.
pub fn check_required(
    path: &Path,
    specs: &[ColumnSpec],
    canonical: &[Option<usize>],
    found: &[String],
) -> Result<()> {
    let missing: Vec<&str> = specs
        .iter()
        .zip(canonical)
        .filter(|(s, pos)| s.required && pos.is_none())
        .map(|(s, _)| s.name)
        .collect();
    if !missing.is_empty() {
        let expected: Vec<&str> = specs.iter().map(|s| s.name).collect();
        bail!(
            "{}: missing required column{} `{}`. The file has: {}. Expected columns: {} \
             (names are matched case-insensitively; rename the column in the export or add it)",
            path.display(),
            if missing.len() > 1 { "s" } else { "" },
            missing.join("`, `"),
            if found.is_empty() {
                "no columns".to_owned()
            } else {
                found.join(", ")
            },
            expected.join(", ")
        );
    }
    Ok(())
}
