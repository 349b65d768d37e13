//! Chatwoot webhook events → canonical tables.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{ImportSummary, OutFormat};

/// `[import.chatwoot]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {}

pub fn import_into(
    _inputs: &[PathBuf],
    _options: &Options,
    _format: OutFormat,
    _dir: &Path,
) -> Result<ImportSummary> {
    bail!("the Chatwoot importer is not available yet")
}
