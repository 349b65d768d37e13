use std::process::ExitCode;

use clap::Parser;

/// mimalloc returns freed memory to the system between the large steps of a run (the facts
/// plan, the governance walk, the metrics), where the system allocator keeps it: a lower peak.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = l2lens::cli::Cli::parse();
    match l2lens::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        // `l2lens … | head`: the reader has seen enough; that is not a failure.
        Err(error) if l2lens::output::is_closed_pipe(&error) => {
            ExitCode::from(l2lens::Status::Ok.code())
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(l2lens::Status::Error.code())
        }
    }
}
