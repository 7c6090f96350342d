//! The flags of the strategies' own parameters (δ, delta's budget, d, and
//! gated's β, hedge and vouches, and how many seeds a lookup starts from),
//! shared by the simulator's commands (`compare`, `sweep`, `bench-scale`)
//! and the UDP ones (`node`, `lookup`, `put`, …): each is defined,
//! documented and applied to a [`LookupConfig`] here once, so the two
//! families cannot drift apart. k and α stay with each command, because a
//! simulator preset chooses them too.

use clap::Args;

use crate::lookup::{Budget, LookupConfig};

/// The strategy-parameter flags; each given one overrides the config
/// file's value (or the built-in default).
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct StrategyFlags {
    /// δ: parallelism of delta (1 to 64).
    #[arg(long)]
    pub delta: Option<usize>,
    /// Request budget of delta: a number, "k" (as many as k, the default)
    /// or "none".
    #[arg(long)]
    pub budget: Option<Budget>,
    /// d: number of disjoint paths of disjoint (1 to 16).
    #[arg(long)]
    pub paths: Option<usize>,
    /// β of gated: how many of the closest known contacts must have
    /// answered before it stops (1 to 255; default 20, at most k).
    #[arg(long)]
    pub beta: Option<usize>,
    /// gated's hedge in milliseconds: a request unanswered this long is
    /// suspect and the next contact is asked beside it (0 never; default
    /// 500).
    #[arg(long, value_name = "MS")]
    pub hedge_ms: Option<u64>,
    /// gated: how many answering nodes must have reported an unasked
    /// contact for it to enter the result (1 to 255; default 1).
    #[arg(long)]
    pub vouches: Option<usize>,
    /// gated: how many answering nodes must have reported a contact whose
    /// request failed for it to enter the result all the same (0 never, the
    /// default; 1 to 255). For lossy networks, where a failure is often a
    /// lost datagram.
    #[arg(long, value_name = "N")]
    pub failed_vouches: Option<usize>,
    /// Routing-table contacts a lookup starts from (1 to 255; default α for
    /// query-rest and k-active, δ for delta, k for kademlia, disjoint and
    /// gated).
    #[arg(long)]
    pub seeds: Option<usize>,
}

impl StrategyFlags {
    /// Put every flag given into `lookup`; the others leave its values as
    /// they are. Ranges are checked afterwards, by
    /// [`LookupConfig::validate`], with the config file's values.
    pub fn apply(&self, lookup: &mut LookupConfig) {
        lookup.delta = self.delta.unwrap_or(lookup.delta);
        lookup.budget = self.budget.unwrap_or(lookup.budget);
        lookup.paths = self.paths.unwrap_or(lookup.paths);
        lookup.beta = self.beta.unwrap_or(lookup.beta);
        lookup.hedge_ms = self.hedge_ms.unwrap_or(lookup.hedge_ms);
        lookup.vouches = self.vouches.unwrap_or(lookup.vouches);
        lookup.failed_vouches = self.failed_vouches.unwrap_or(lookup.failed_vouches);
        lookup.seeds = self.seeds.or(lookup.seeds);
    }
}
