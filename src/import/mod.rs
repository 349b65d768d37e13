//! Importers: what inboxes really export, turned into a canonical data directory that `ingest`
//! then validates like any other (nothing an importer writes is trusted more than a CSV a person
//! wrote).
//!
//! - [`whatsapp`]: WhatsApp Business Cloud API webhook bodies (JSON Lines).
//! - [`chatwoot`]: Chatwoot webhook events (JSON Lines).
//! - [`mapping`]: any other export, described by a mapping file.
//!
//! Every importer accounts for its input: each event or row read is written or skipped for a
//! named reason, and the summary prints both sides of that sum.

pub mod chatwoot;
pub mod mapping;
pub mod sink;
pub mod whatsapp;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

pub use sink::OutFormat;

/// A table's canonical columns, then the importer's extra columns.
pub fn columns(table: crate::ingest::schema::Table, extras: &[&'static str]) -> Vec<&'static str> {
    table
        .core_columns()
        .iter()
        .map(|c| c.name)
        .chain(extras.iter().copied())
        .collect()
}

/// What an import read, wrote and skipped. `read == written + skipped` for every importer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    pub importer: String,
    /// Input lines or rows read (JSON Lines: one webhook body per line).
    pub lines_read: u64,
    /// Events (or rows) found in the input, by kind.
    pub events: BTreeMap<String, u64>,
    /// Rows written, by canonical table.
    pub written: BTreeMap<String, u64>,
    /// Tables built from the events rather than read (WhatsApp conversations): not part of the
    /// balance.
    pub derived: BTreeMap<String, u64>,
    /// Events that became no row of their own, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Warnings for the person running the import.
    pub warnings: Vec<String>,
}

impl ImportSummary {
    pub fn new(importer: &str) -> ImportSummary {
        ImportSummary {
            importer: importer.to_owned(),
            ..ImportSummary::default()
        }
    }

    pub fn event(&mut self, kind: &str) {
        *self.events.entry(kind.to_owned()).or_default() += 1;
    }

    pub fn skip(&mut self, reason: &str) {
        self.skip_n(reason, 1);
    }

    pub fn skip_n(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.to_owned()).or_default() += n;
        }
    }

    pub fn events_read(&self) -> u64 {
        self.events.values().sum()
    }

    pub fn rows_written(&self) -> u64 {
        self.written.values().sum()
    }

    pub fn rows_skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Whether every event is accounted for.
    pub fn balances(&self) -> bool {
        self.events_read() == self.rows_written() + self.rows_skipped()
    }

    /// The summary as lines for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let list = |map: &BTreeMap<String, u64>| {
            map.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines = vec![
            format!(
                "import {}: {} line(s) or row(s) read; {} event(s): {}",
                self.importer,
                self.lines_read,
                self.events_read(),
                list(&self.events)
            ),
            format!("  written {}: {}", self.rows_written(), list(&self.written)),
            format!("  skipped {}: {}", self.rows_skipped(), list(&self.skipped)),
            format!(
                "  events read {} = rows written {} + skipped {}{}",
                self.events_read(),
                self.rows_written(),
                self.rows_skipped(),
                if self.balances() {
                    ""
                } else {
                    "  (DOES NOT BALANCE)"
                }
            ),
        ];
        if !self.derived.is_empty() {
            lines.insert(2, format!("  built from them: {}", list(&self.derived)));
        }
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        lines
    }
}

/// Opens an input file, decompressing `.gz`.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).with_context(|| {
        format!(
            "cannot open {}; pass --in with an existing file",
            path.display()
        )
    })?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let reader: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// Calls `each(line_number, line)` for every non-blank line of a JSON Lines file (numbers from
/// 1). A line that is not UTF-8 is passed through lossily, so that its JSON parse fails and it is
/// quarantined rather than stopping the import.
pub fn for_each_line(path: &Path, mut each: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let mut reader = open_input(path)?;
    let mut buf = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim();
        if !line.is_empty() {
            each(number, line)?;
        }
    }
}

/// A stable short id: the first 16 hex digits of the SHA-256 of `text`.
pub fn short_hash(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads one importer's `[import.<name>]` section of the configuration into `T`; an unknown key
/// or a wrong type is an error naming the section.
pub fn section<T: serde::de::DeserializeOwned + Default>(
    import: &toml::Table,
    name: &str,
) -> Result<T> {
    match import.get(name) {
        None => Ok(T::default()),
        Some(value) => value
            .clone()
            .try_into()
            .with_context(|| format!("[import.{name}] in the configuration")),
    }
}

/// A fresh scratch folder for a unit test.
#[cfg(test)]
pub(crate) fn scratch_dir(label: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "l2lens-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hash_is_stable() {
        assert_eq!(short_hash("abc"), "ba7816bf8f01cfea");
    }
}
