use std::process::ExitCode;

use clap::Parser;

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
