//! One lookup on a small simulated network, told step by step.
//!
//! Run with `cargo run --example one_lookup [STRATEGY]` (default `kademlia`;
//! also `delta`, `query-rest`, `k-active`). It builds a 64-node static
//! network (seed 7), runs one FIND_NODE lookup through the same driver the
//! simulator and UDP node use, and prints what the strategy asked for and
//! what came back, then compares the result with the true k closest.
//! Look for: how many requests each batch sends (α or δ), and whether the
//! result holds nodes that never answered.

use std::sync::Arc;

use kadlab::driver::{Clock, DriverEvent};
use kadlab::id::NodeId;
use kadlab::lookup::{LookupConfig, LookupMode, StrategyName};
use kadlab::sim::{self, ChurnModel, SimConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let strategy: StrategyName = match std::env::args().nth(1) {
        Some(name) => name.parse()?,
        None => StrategyName::Kademlia,
    };
    let config = SimConfig {
        nodes: 64,
        k: 8,
        lookups: 1,
        value_lookups: 0,
        churn: ChurnModel::None,
        loss: 0.0,
        seed: 7,
        ..SimConfig::default()
    };
    let net = Arc::new(sim::build_network(&config));
    let task = sim::make_tasks(&net, &config).remove(0);
    let lookup_config = LookupConfig {
        strategy,
        k: config.k,
        ..LookupConfig::default()
    };
    let short = |id: &NodeId| format!("{:.8}", id.to_string());
    let dist = |id: &NodeId| format!("2^{:.1}", id.distance(&task.target).log2());
    println!(
        "{strategy} ({}) looks up {} from node {}",
        lookup_config.describe(),
        short(&task.target),
        short(&net.nodes[task.origin as usize].contact.id)
    );

    let mut events: Vec<DriverEvent> = Vec::new();
    let outcome = sim::virtual_time_runtime().block_on(async {
        let clock = Clock::starting_now();
        tokio::time::sleep_until(clock.instant(task.start)).await;
        let mode = LookupMode::FindNode;
        sim::lookup_from(
            &net,
            task.origin,
            task.target,
            mode,
            &lookup_config,
            clock,
            &mut events,
        )
        .await
    });

    for event in &events {
        match event {
            DriverEvent::Sent(t, to) => {
                let names: Vec<String> = to
                    .iter()
                    .map(|c| format!("{} ({})", short(&c.id), dist(&c.id)))
                    .collect();
                println!("{t}  ask {}", names.join(", "));
            }
            DriverEvent::Replied(t, from, contacts) => println!(
                "{t}  {} answered with {} contacts, closest {}",
                short(&from.id),
                contacts.len(),
                contacts
                    .iter()
                    .map(|c| dist(&c.id))
                    .min()
                    .unwrap_or_else(|| "-".into())
            ),
            DriverEvent::Failed(t, to, error) => println!("{t}  {} failed: {error}", short(&to.id)),
            DriverEvent::Phase(t, phase) => println!("{t}  [{phase}]"),
            DriverEvent::Finished(..) => {}
        }
    }
    let truth: Vec<NodeId> = task
        .truth
        .iter()
        .map(|&n| net.nodes[n as usize].contact.id)
        .collect();
    let found = outcome
        .result
        .iter()
        .filter(|c| truth.contains(&c.id))
        .count();
    println!(
        "stopped: {} after {} requests; {found} of the true {} closest found",
        outcome.reason,
        outcome.stats.requests,
        truth.len()
    );
    Ok(())
}
