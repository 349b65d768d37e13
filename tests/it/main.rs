//! The integration tests: the built binary and the library on real files.

mod append;
mod business;
mod email;
mod governance;
mod hardening;
mod import;
mod ingest;
mod ingest_stream;
mod layers;
mod metrics;
mod outcomes;
mod partitions;
mod query;
mod report;
mod report_views;
mod sample;
mod sql;
mod text;
mod util;
mod whatsapp;
