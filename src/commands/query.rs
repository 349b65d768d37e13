//! `l2lens query`: run SQL over the tables and print or write the result.

use anyhow::{Context, Result};

use super::analyse;
use crate::Status;
use crate::cli::QueryArgs;
use crate::metrics::Selection;
use crate::output::{Target, write_frame};
use crate::progress::Progress;
use crate::query;

pub(crate) fn run(args: &QueryArgs, progress: &Progress) -> Result<Status> {
    let (sql, source) = match (&args.file, &args.sql) {
        (Some(file), _) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the query file {}", file.display()))?,
            file.display().to_string(),
        ),
        (None, Some(sql)) => (sql.clone(), "--sql".to_owned()),
        (None, None) => anyhow::bail!("give a query file or --sql \"SELECT …\""),
    };
    let analysis = analyse(
        &args.data,
        &args.analysis,
        Selection::All,
        super::Purpose::Query,
        progress,
    )?;
    let mut result = query::run(&analysis, &sql, &source)?;
    let target = Target::from_arg(args.out.as_deref());
    // An aligned table unless a format is named or the file's extension names one.
    let format = super::table_or_format(args.format, &target);
    match format {
        Some(format) => write_frame(&mut result, &target, format)?,
        None => target.write(query::to_table(&result)?.as_bytes())?,
    }
    Ok(Status::Ok)
}
