//! The `kadlab` command-line tool.

use clap::{Parser, Subcommand};

/// Compare Kademlia lookup algorithms.
#[derive(Parser, Debug)]
#[command(name = "kadlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every lookup strategy on the same simulated network and compare
    /// recall against RPCs.
    Compare,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Compare => {
            println!("kadlab compare: the simulator lands with the next issue; nothing to compare yet.");
        }
    }
}
