//! The `kadlab` command line: a thin shell over the library.

pub mod compare;
pub mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Compare Kademlia lookup algorithms.
#[derive(Parser, Debug)]
#[command(name = "kadlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every lookup strategy on the same simulated network and compare
    /// recall of the true k closest against RPCs, timeouts, rounds and
    /// latency.
    Compare(compare::CompareArgs),
    /// Vary one parameter (α, δ or delta's budget) and draw each strategy's
    /// recall-against-RPCs curve as SVG, with the JSON behind it.
    Sweep(sweep::SweepArgs),
}

/// Parse the command line and run; errors are printed with what to do
/// instead, and give exit code 2 (usage) or 1 (failure).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Compare(args) => compare::run(args),
        Command::Sweep(args) => sweep::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
