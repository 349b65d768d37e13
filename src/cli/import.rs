//! The arguments of `l2lens import`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// WhatsApp Business Cloud API webhook bodies, one per line (.jsonl or .jsonl.gz; bare
    /// bodies or {"received_at": ..., "body": {...}}). Options: [import.whatsapp].
    Whatsapp(WhatsappArgs),
    /// Chatwoot webhook events, one per line (.jsonl or .jsonl.gz). Options: [import.chatwoot].
    Chatwoot(ChatwootArgs),
    /// Any other export, described by a mapping file (see examples/mappings/).
    Mapping(MappingArgs),
}

/// What every importer takes.
#[derive(Debug, Args)]
pub struct ImportOutput {
    /// Output data directory (replaced whole).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Format of the canonical tables.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ImportFormat,

    /// Configuration file with the importer's [import.*] section; it is copied into the output
    /// directory as l2lens.toml, so later commands on it use the same lanes.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct WhatsappArgs {
    /// Webhook capture files, read in the order given.
    #[arg(long = "in", value_name = "FILE", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// The sending system's own log (message_id,sender,agent_id,template_name): who sent each
    /// outbound message, which the webhooks do not say.
    #[arg(long, value_name = "FILE")]
    pub outbound: Option<PathBuf>,

    /// Customer segments (customer_id,segment).
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,

    /// The export instant for the close rule (default: the latest event time).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    #[command(flatten)]
    pub output: ImportOutput,
}

#[derive(Debug, Args)]
pub struct ChatwootArgs {
    /// Webhook event files, read in the order given.
    #[arg(long = "in", value_name = "FILE", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub output: ImportOutput,
}

#[derive(Debug, Args)]
pub struct MappingArgs {
    /// The mapping file (TOML).
    #[arg(long, value_name = "FILE.toml")]
    pub map: PathBuf,

    /// The folder holding the files the mapping names.
    #[arg(long = "in", value_name = "DIR")]
    pub input: PathBuf,

    #[command(flatten)]
    pub output: ImportOutput,
}
