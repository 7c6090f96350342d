//! [`Recording`]: one lookup run on a [`World`] and everything the driver
//! reported about it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::contact::Contact;
use crate::driver::DriverEvent;
use crate::id::NodeId;
use crate::lookup::{Contender, LookupOutcome};

use super::World;

/// One lookup as it happened.
pub struct Recording {
    /// The strategy that ran it, with its name and parameters.
    pub contender: Contender,
    /// The routing-table contacts the narration takes the strategy to start
    /// from (see [`Recording::run`]).
    pub seeds: Vec<Contact>,
    /// Everything the driver reported, in order, phases included.
    pub events: Vec<DriverEvent>,
    /// How it ended.
    pub outcome: LookupOutcome,
    /// For a strategy of several paths: the path that claimed each node,
    /// asked of the strategy after the lookup
    /// ([`LookupStrategy::path_of`](crate::lookup::LookupStrategy::path_of));
    /// a node keeps the path that claimed it, so this labels every request
    /// exactly. Empty for a single-path strategy.
    pub paths: HashMap<NodeId, usize>,
}

impl Recording {
    /// Run the task of `world` with `contender`, on a fresh copy of the
    /// network, through the same driver the simulator and the UDP node use
    /// ([`LookupTask::run_keeping`](crate::sim::LookupTask::run_keeping)).
    ///
    /// A built-in contender's seeds are the ones its configuration takes
    /// ([`LookupConfig::seed_count`](crate::lookup::LookupConfig::seed_count));
    /// an outside strategy is taken to start, as the references do, from
    /// the k closest contacts ([`Contender::k`]) — use
    /// [`Recording::run_seeded`] when it starts from another number. The
    /// seeds only shape how the story ranks contacts: a request to a
    /// contact the narration did not expect is still told, as "not in the
    /// picture".
    pub fn run(world: &World, contender: &Contender) -> Recording {
        let seeds = contender
            .config()
            .map_or(contender.k(), |config| config.seed_count());
        Recording::run_seeded(world, contender, seeds)
    }

    /// [`Recording::run`] for a strategy that starts from the `seeds`
    /// contacts of the routing table closest to the target.
    pub fn run_seeded(world: &World, contender: &Contender, seeds: usize) -> Recording {
        let net = Arc::new(world.net.clone());
        let seeds = world.closest_in_table(seeds);
        let mut events: Vec<DriverEvent> = Vec::new();
        let (outcome, strategy) = world.task.run_keeping(&net, contender, &mut events);
        let paths = net
            .nodes
            .iter()
            .filter_map(|n| Some((n.contact.id, strategy.path_of(&n.contact.id)?)))
            .collect();
        Recording {
            contender: contender.clone(),
            seeds,
            events,
            outcome,
            paths,
        }
    }
}
