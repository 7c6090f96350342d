//! The `kadlab` command line: a thin shell over the library.

pub mod bench_scale;
pub mod compare;
pub mod eclipse;
pub mod hulls;
pub mod net;
pub mod output;
pub mod progress;
pub mod strategy_flags;
pub mod stress;
pub mod sweep;
pub mod trace;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Compare Kademlia lookup algorithms.
#[derive(Parser, Debug)]
#[command(
    name = "kadlab",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 on success, 1 when the work itself failed (a file could not be written, no node answered), 2 for a usage or configuration error (a bad flag, value, config file or output path), reported before any work starts."
)]
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
    /// Run one simulated lookup and draw it as SVG: each request by time and
    /// distance to the target, coloured by outcome, with the result and the
    /// true k closest; prints a one-paragraph summary.
    ///
    /// The network is compare's for the same flags, but with 2,000 nodes
    /// unless --nodes (or the config file) says otherwise; --lookup N picks
    /// the N-th FIND_NODE lookup of compare's workload, run alone.
    Trace(trace::TraceArgs),
    /// Run a real DHT node over UDP (KRPC, BEP 5 / BEP 44) until Ctrl-C.
    Node(net::NodeCommand),
    /// Join through a bootstrap node and run one lookup with a chosen
    /// strategy; prints the nodes found with their distances.
    Lookup(net::LookupCommand),
    /// Store a value as a BEP 44 immutable item; prints its target.
    Put(net::PutCommand),
    /// Find a BEP 44 immutable item by its target.
    Get(net::GetCommand),
    /// Announce that this host serves a torrent on a port (BEP 5
    /// announce_peer to the k nodes closest to its info-hash).
    Announce(net::AnnounceCommand),
    /// List the peers the DHT knows for a torrent's info-hash (BEP 5
    /// get_peers), one IP:PORT a line.
    Peers(net::PeersCommand),
    /// Run N nodes on 127.0.0.1 in one process, to try commands against.
    Swarm(net::SwarmCommand),
    /// Drive every strategy and the bootstrap through loss, deaths, garbage,
    /// duplicate, late and unsolicited replies; fail unless every lookup
    /// ends.
    Stress(stress::StressArgs),
    /// Measure how the simulator grows with the number of nodes: wall
    /// time, peak memory, set-up, µs per lookup and per simulated RPC for
    /// each N (each in a process of its own), and a fit of µs per lookup
    /// against log2 N.
    BenchScale(bench_scale::BenchScaleArgs),
}

/// Parse the command line and run; errors are printed with what to do
/// instead, and give exit code 2 (usage) or 1 (failure).
pub fn main() -> ExitCode {
    // The column legend is written once, in `report`, and shown by
    // `compare --help` as it is under the table; the presets' networks
    // are read from the presets themselves.
    let command = Cli::command().mut_subcommand("compare", |c| {
        c.after_long_help(format!(
            "{}\n{}",
            crate::report::columns_help(),
            compare::presets_help()
        ))
    });
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match &cli.command {
        Command::Compare(args) => compare::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Node(args) => net::node(args),
        Command::Lookup(args) => net::lookup(args),
        Command::Put(args) => net::put(args),
        Command::Get(args) => net::get(args),
        Command::Announce(args) => net::announce(args),
        Command::Peers(args) => net::peers(args),
        Command::Swarm(args) => net::swarm(args),
        Command::Stress(args) => stress::run(args),
        Command::BenchScale(args) => bench_scale::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// An error in what the user asked for (a flag, a config file, an output
/// path), found before any work: exit status 2, as clap gives for a flag
/// it cannot parse, where a failure of the work itself gives 1.
#[derive(Debug)]
pub struct UsageError(anyhow::Error);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The whole chain on one line, once: the source is not repeated.
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for UsageError {}

/// Mark `error` as a usage or configuration error (see [`UsageError`]).
pub fn usage(error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(UsageError(error.into()))
}
