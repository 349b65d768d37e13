//! Side tables given on the command line: the sending system's own log (`--outbound`) and
//! customer segments (`--customers`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::Outbound;

pub(super) fn read_outbound(path: &Path) -> Result<HashMap<String, Outbound>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read --outbound {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(id) = index("message_id") else {
        bail!(
            "--outbound {}: no message_id column; the side log needs \
             message_id,sender,agent_id,template_name",
            path.display()
        );
    };
    let (sender, agent, template) = (index("sender"), index("agent_id"), index("template_name"));
    let mut map = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("--outbound {} row {}", path.display(), n + 2))?;
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let sender = match get(sender).map(|s| s.to_lowercase()).as_deref() {
            None => None,
            Some("bot") => Some("bot"),
            Some("agent") => Some("agent"),
            Some(other) => bail!(
                "--outbound {} row {}: sender `{other}` is neither bot nor agent",
                path.display(),
                n + 2
            ),
        };
        if let Some(message_id) = get(Some(id)) {
            map.insert(
                message_id,
                Outbound {
                    sender,
                    agent: get(agent),
                    template: get(template),
                },
            );
        }
    }
    Ok(map)
}

pub(super) fn read_customers(path: &Path) -> Result<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read --customers {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id), Some(segment)) = (index("customer_id"), index("segment")) else {
        bail!(
            "--customers {}: needs the columns customer_id,segment",
            path.display()
        );
    };
    let mut map = HashMap::new();
    for record in reader.records() {
        let record = record?;
        if let (Some(c), Some(s)) = (record.get(id), record.get(segment)) {
            map.insert(c.trim().to_owned(), s.trim().to_owned());
        }
    }
    Ok(map)
}
