//! `l2lens sample`: write a deterministic sample data set.

use anyhow::{Context, Result};

use crate::Status;
use crate::cli::SampleArgs;
use crate::progress::Progress;
use crate::sample::{SampleSpec, generate};
use crate::time::parse_timestamp;

pub(crate) fn run(args: &SampleArgs, progress: &Progress) -> Result<Status> {
    let end_text = if args.end.len() == 10 {
        format!("{}T00:00:00Z", args.end)
    } else {
        args.end.clone()
    };
    let end = parse_timestamp(&end_text, None)
        .with_context(|| format!("--end `{}` is not a timestamp (try 2026-11-23)", args.end))?;
    let spec = SampleSpec {
        conversations: args.conversations,
        seed: args.seed,
        weeks: args.weeks,
        end,
        format: args.format,
        text: args.text,
    };
    let started = std::time::Instant::now();
    let counts = generate(&args.out, &spec, progress)?;
    progress.say(format!(
        "sample: {} conversations, {} messages, {} assignments, {} handoffs, {} template rows, \
         {} send failures in {} ({:.1} s)",
        counts.conversations,
        counts.messages,
        counts.assignments,
        counts.handoffs,
        counts.templates,
        counts.send_failures,
        args.out.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(Status::Ok)
}
