//! `kadlab trace`: draw one simulated lookup as an SVG picture (see
//! [`crate::trace`] for what it shows) and summarise it in a paragraph.
//!
//! The network is the one `compare` would build from the same flags, except
//! that it has **2,000 nodes** unless `--nodes` (or `nodes` in the config
//! file's `[sim]` table) says otherwise: enough for a lookup of a few hops,
//! and a picture whose dots can be told apart. The lookup is the `--lookup`-th
//! FIND_NODE task of `compare`'s workload for those flags (same target,
//! origin and start), run alone on the warmed-up network.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;

use crate::cli::compare::{NetworkArgs, Resolved, MAX_LOOKUPS};
use crate::cli::output::check_file;
use crate::cli::usage;
use crate::config::ConfigFile;
use crate::lookup::{LookupMode, StrategyName};
use crate::sim;
use crate::trace::trace_lookup;

/// Nodes of the traced network unless the flags or the file say otherwise.
pub const TRACE_NODES: usize = 2_000;

/// Flags of `kadlab trace`.
#[derive(Args, Debug)]
#[command(
    mut_arg("lookups", |a| a.hide(true)),
    mut_arg("value_lookups", |a| a.hide(true))
)]
pub struct TraceArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// Strategy to trace: delta, query-rest, k-active, kademlia or disjoint.
    #[arg(long)]
    strategy: StrategyName,
    /// Which FIND_NODE lookup of the workload to trace (0 is the first).
    #[arg(long, default_value_t = 0)]
    lookup: usize,
    /// SVG file to draw the lookup in.
    #[arg(long)]
    svg: PathBuf,
}

/// Run `kadlab trace`.
pub fn run(args: &TraceArgs) -> Result<()> {
    let resolved = resolve(args).map_err(usage)?;
    check_file(&args.svg, "--svg")?;
    let net = Arc::new(sim::build_network(&resolved.sim));
    let tasks = sim::make_tasks(&net, &resolved.sim);
    let Some(task) = tasks
        .into_iter()
        .find(|t| t.index == args.lookup && t.mode == LookupMode::FindNode)
    else {
        bail!(
            "lookup {} has no origin: no honest node was up when it would start; try another --lookup or --seed",
            args.lookup
        );
    };
    let config = resolved.lookup.with_strategy(args.strategy);
    let trace = trace_lookup(&net, &task, &config.into());
    trace.write_svg(&args.svg).map_err(anyhow::Error::msg)?;
    println!(
        "{} Network: preset {}, {} nodes, seed {}. Picture: {}",
        trace.summary(),
        resolved.preset,
        resolved.sim.nodes,
        resolved.sim.seed,
        args.svg.display()
    );
    Ok(())
}

/// What `kadlab trace` runs with; every error is the user's to fix.
fn resolve(args: &TraceArgs) -> Result<Resolved> {
    if args.lookup >= MAX_LOOKUPS {
        bail!(
            "--lookup {} is out of range: allowed is 0 to {}",
            args.lookup,
            MAX_LOOKUPS - 1
        );
    }
    let mut network = args.network.clone();
    if network.lookups.is_some() || network.value_lookups.is_some() {
        bail!("trace draws one lookup: choose it with --lookup N (0 is the first) instead of --lookups or --value-lookups");
    }
    if network.nodes.is_none() {
        let file_nodes = match &network.config {
            Some(path) => ConfigFile::load(path)?.sim.nodes,
            None => None,
        };
        network.nodes = Some(file_nodes.unwrap_or(TRACE_NODES));
    }
    // The first lookup + 1 FIND_NODE tasks are those of any longer
    // workload of the same seed.
    network.lookups = Some(args.lookup + 1);
    network.value_lookups = Some(0);
    let resolved = network.resolve(Some(&[args.strategy]))?;
    resolved.one_network("trace")?;
    Ok(resolved)
}
