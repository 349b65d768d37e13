//! The module layering of src/ (lib.rs documents it): data flows one way, lower layers never
//! import higher ones, and only the command layer knows clap.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layers, lowest first. A module may import from its own layer or below.
const LAYERS: &[&[&str]] = &[
    &[
        "time",
        "timeformat",
        "units",
        "period",
        "atomic",
        "progress",
        "config",
        "text",
        "calendar",
    ],
    &[
        "ingest",
        "import",
        "warehouse",
        "dataset",
        "partition",
        "sample",
    ],
    &["facts"],
    &["metrics", "board", "tally"],
    &["alert"],
    &["analysis", "partitioned"],
    &["report", "query", "output", "sql"],
    &["cli", "commands", "lib", "main"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of tests/it/layers.rs"))
}

/// Top-level module → the top-level modules its files name as `crate::<module>`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let module = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            // Test support is compiled for unit tests only.
            if module == "testing" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = graph.entry(module.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module && name != "testing" {
                    deps.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let mut upward = Vec::new();
    for (module, deps) in imports() {
        for dep in deps {
            // `crate::Status` and other items of lib.rs itself.
            if dep.chars().next().is_some_and(char::is_uppercase) {
                continue;
            }
            if layer(&dep) > layer(&module) {
                upward.push(format!("{module} -> {dep}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layering: {upward:?}"
    );
}

#[test]
fn there_is_no_import_cycle() {
    let graph = imports();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(dep, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let cycle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}

#[test]
fn only_the_command_layer_knows_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let allowed = relative.starts_with("cli/")
                || relative == "main.rs"
                || relative.starts_with("commands/");
            if !allowed && std::fs::read_to_string(&path).unwrap().contains("clap") {
                offenders.push(relative);
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "clap outside the command layer: {offenders:?}"
    );
}
