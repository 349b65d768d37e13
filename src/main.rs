use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = l2lens::cli::Cli::parse();
    match l2lens::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(l2lens::Status::Error.code())
        }
    }
}
