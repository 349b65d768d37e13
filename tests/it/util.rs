//! Helpers: scratch directories, running the binary, writing small inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// A scratch directory removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("l2lens-it-{}-{label}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fixture folder under tests/fixtures (copied into the repository, so a clone alone passes).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The eight governance checks G1-G8, as the spec names them.
pub const GOVERNANCE_CHECKS: [&str; 8] = [
    "duplicate_rate",
    "ownerless_rate",
    "ping_pong_rate",
    "missed_handoff_rate",
    "template_blocked_sends",
    "silent_stall_rate",
    "brief_missing_rate",
    "window_violation_sends",
];

pub fn golden_dir() -> PathBuf {
    fixture("golden")
}

pub fn l2lens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run l2lens")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Reads a CSV file into rows of strings (header excluded).
pub fn read_csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).expect("open csv");
    reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

/// Ingest options with the built-in configuration.
pub fn ingest_options() -> l2lens::ingest::IngestOptions {
    l2lens::ingest::IngestOptions {
        epoch_unit: None,
        known_lanes: l2lens::config::Config::default().known_lanes(),
        input: l2lens::config::Input::default(),
        text: Default::default(),
    }
}

/// `got`'s rows of the ids in `expected` equal `expected`: same keys in the same order, values
/// within 1e-9, same n.
pub fn assert_metric_rows(got: &[Vec<String>], expected: &[Vec<String>]) {
    let ids: Vec<&str> = expected.iter().map(|r| r[2].as_str()).collect();
    let got: Vec<&Vec<String>> = got
        .iter()
        .filter(|r| ids.contains(&r[2].as_str()))
        .collect();
    let mismatch: Vec<String> = expected
        .iter()
        .filter(|e| {
            !got.iter().any(|g| {
                g[..3] == e[..3] && g[4] == e[4] && {
                    let (gv, ev): (f64, f64) = (g[3].parse().unwrap(), e[3].parse().unwrap());
                    (gv - ev).abs() <= 1e-9 * ev.abs().max(1.0)
                }
            })
        })
        .map(|e| format!("{e:?}"))
        .collect();
    let extra: Vec<String> = got
        .iter()
        .filter(|g| !expected.iter().any(|e| g[..3] == e[..3]))
        .map(|g| format!("{g:?}"))
        .collect();
    assert!(
        mismatch.is_empty() && extra.is_empty(),
        "missing or different: {mismatch:#?}\nextra: {extra:#?}"
    );
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g[..3], e[..3], "the same order");
    }
}

/// The metric ids of a report table's columns (the `data-metric` of its header cells); `table`
/// starts at the table.
pub fn metric_headers(table: &str) -> Vec<String> {
    let head = &table[table.find("<thead>").unwrap()..table.find("</thead>").unwrap()];
    head.split("<th data-metric=\"")
        .skip(1)
        .map(|th| th[..th.find('"').unwrap()].to_owned())
        .collect()
}
