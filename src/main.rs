//! Thin entry point: parse the command line, run a subcommand or open the window.

use std::process::ExitCode;

use clap::Parser;
use survival_explorer::cli::{run_analysis, warning_lines, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Analyze(args)) => match run_analysis(&args) {
            Ok(report) => {
                for w in warning_lines(&report) {
                    eprintln!("warning: {w}");
                }
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => {
                        println!("{json}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: cannot write the report as JSON: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        None => {
            eprintln!(
                "The window is not built yet. Use: survival-explorer analyze FILE [options]\n(see survival-explorer --help)"
            );
            ExitCode::SUCCESS
        }
    }
}
