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
    let key = crate::text::Key::from_env(&config.text)?;
    // Markers written under one key never match identifiers tokenised under another.
    crate::text::check_fingerprint(&output.out, &config.text, key.as_ref())?;
    let text = std::sync::Arc::new(crate::ingest::text::TextPass::new(
        &config.text,
        key.as_ref(),
    )?);
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
                    text: text.clone(),
                };
                whatsapp::import_into(&request, dir)?
            }
            ImportSource::Chatwoot(a) => {
                chatwoot::import_into(&a.inputs, &config, &text, format, dir)?
            }
            ImportSource::Mapping(a) => mapping::import_into(&a.map, &a.input, &text, format, dir)?,
        };
        crate::text::record_fingerprint(dir, key.as_ref())?;
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(dir.join(SUMMARY_FILE), json + "\n")?;
        if let Some(path) = &output.config {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            std::fs::write(
                dir.join(CONFIG_FILE),
                crate::text::without_key(&text, &config.text),
            )
            .with_context(|| format!("cannot copy {}", path.display()))?;
        }
        Ok(())
    })?;
    step.finish_and_clear();
    for line in summary.lines() {
        progress.say(line);
    }
    match &key {
        Some(key) => progress.say(format!("  text key fingerprint {}", key.fingerprint())),
        None => progress.say(format!(
            "  identifiers not tokenised: set {} to a random key of at least {} bytes to \
             measure repetition and brief recall",
            config.text.key_env,
            crate::text::MIN_KEY_BYTES
        )),
    }
    progress.say(format!(
        "  wrote {} (next: l2lens ingest --data {} --out WAREHOUSE)",
        output.out.display(),
        output.out.display()
    ));
    Ok(Status::Ok)
}
