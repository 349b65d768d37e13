//! `l2lens import whatsapp|chatwoot|mapping`: an inbox's export → a canonical data directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Status;
use crate::atomic::replace_dir;
use crate::cli::{ImportFormat, ImportOutput, ImportSource};
use crate::config::{CONFIG_FILE, Config};
use crate::import::sink::SUMMARY_FILE;
use crate::import::{ImportSummary, OutFormat, chatwoot, mapping, section, whatsapp};
use crate::progress::Progress;

pub(crate) fn run(source: &ImportSource, progress: &Progress) -> Result<Status> {
    let (output, inputs): (&ImportOutput, Vec<PathBuf>) = match source {
        ImportSource::Whatsapp(a) => (&a.output, a.inputs.clone()),
        ImportSource::Chatwoot(a) => (&a.output, a.inputs.clone()),
        ImportSource::Mapping(a) => (&a.output, vec![a.input.clone(), a.map.clone()]),
    };
    for input in &inputs {
        if !input.exists() {
            bail!("--in {} does not exist", input.display());
        }
    }
    let config = match &output.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    let format = match output.format {
        ImportFormat::Csv => OutFormat::Csv,
        ImportFormat::Parquet => OutFormat::Parquet,
    };
    let step = progress.step("importing");
    let keep: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let mut summary = ImportSummary::default();
    replace_dir(&output.out, "the imported data", &keep, |dir| {
        summary = match source {
            ImportSource::Whatsapp(a) => {
                let request = whatsapp::Request {
                    inputs: a.inputs.clone(),
                    outbound: a.outbound.clone(),
                    customers: a.customers.clone(),
                    as_of: super::parse_as_of(a.as_of.as_deref())?,
                    format,
                    options: section(&config.import, "whatsapp")?,
                };
                whatsapp::import_into(&request, dir)?
            }
            ImportSource::Chatwoot(a) => chatwoot::import_into(&a.inputs, &config, format, dir)?,
            ImportSource::Mapping(a) => mapping::import_into(&a.map, &a.input, format, dir)?,
        };
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(dir.join(SUMMARY_FILE), json + "\n")?;
        if let Some(path) = &output.config {
            std::fs::copy(path, dir.join(CONFIG_FILE))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
        Ok(())
    })?;
    step.finish_and_clear();
    for line in summary.lines() {
        progress.say(line);
    }
    progress.say(format!(
        "  wrote {} (next: l2lens ingest --data {} --out WAREHOUSE)",
        output.out.display(),
        output.out.display()
    ));
    Ok(Status::Ok)
}
