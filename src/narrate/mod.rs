//! The narrator: one lookup told step by step, in words.
//!
//! A narration builds a small simulated network ([`World`]), runs one
//! lookup on it through the same driver the simulator and the UDP node use
//! ([`Recording::run`]), and tells the story of that lookup from the
//! driver's own events ([`narrate`]); [`side_by_side`] runs several
//! strategies on the same lookup and compares them in a table. The
//! examples (`cargo run --example kademlia`, …) are a few lines each on top
//! of this module.
//!
//! It takes any [`Contender`], built-in or written outside this crate, and
//! knows no strategy's rule: what a strategy decided is read from its
//! [`DriverEvent`](crate::driver::DriverEvent)s (whom it asked, what came
//! back, what failed, how it ended), and *why* it decided so is the
//! strategy's own words, [`LookupStrategy::phase`], printed whenever they
//! change. A strategy of several paths (`disjoint`) has each request
//! labelled with its path, read from the strategy after the lookup
//! ([`LookupStrategy::path_of`]). What the narrator adds are facts only it
//! can see: each contact's distance and rank among the contacts heard of so
//! far, what the simulator knows about a silent node (offline, or a lost
//! datagram), and how the result compares with the true k closest.
//!
//! Every request ends in exactly one `Replied` or `Failed` event, unless the
//! lookup finished while it was still in flight. That includes the requests
//! the lookup gives up on by itself (at its own deadline, or by a rule's
//! timer: a `query-rest` round timeout shorter than the request timeout),
//! which come as a `Failed` timeout at the moment it gave up; one that came
//! sooner than the request timeout was the rule giving up early.
//!
//! ```
//! use kadlab::lookup::{Contender, StrategyName};
//! use kadlab::narrate;
//!
//! let mut story = Vec::new();
//! let kademlia = Contender::from(narrate::lookup(StrategyName::Kademlia));
//! let summary = narrate::tell(&mut story, &kademlia)?;
//! let story = String::from_utf8(story).expect("the narration is UTF-8");
//! assert!(story.starts_with("== kademlia (alpha=3 seeds=8 k=8) =="));
//! assert!(story.contains("■ stopped: Converged"));
//! assert_eq!(summary.strategy, "kademlia");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`LookupStrategy::phase`]: crate::lookup::LookupStrategy::phase
//! [`LookupStrategy::path_of`]: crate::lookup::LookupStrategy::path_of

mod record;
mod story;
mod table;
mod words;
mod world;

use std::io::{self, Write};
use std::time::Duration;

pub use record::Recording;
pub use story::{narrate, paths_note, reason_words, replay, Summary};
pub use table::side_by_side;
pub use words::plural;
pub use world::World;

use crate::lookup::{Budget, Contender, LookupConfig, StrategyName};
use crate::sim::{ChurnModel, SimConfig};

/// Which FIND_NODE task of [`network`] the examples tell.
pub const TASK: usize = 3;

/// The network every example runs on, so that their stories can be
/// compared line by line: 128 nodes with exponential sessions of an hour
/// (and equal downtimes, so about half are offline at any moment), an hour
/// of churn with a bucket refresh every 15 minutes, then the lookup within
/// the next minute. Routing tables therefore hold some contacts that have
/// left, which is where the strategies differ. No datagram loss, so every
/// silent node is an offline one. Seed 7, task [`TASK`]: a lookup whose
/// first replies point at closer nodes that turn out to be offline.
pub fn network() -> SimConfig {
    SimConfig {
        nodes: 128,
        k: 8,
        lookups: TASK + 1,
        value_lookups: 0,
        loss: 0.0,
        churn: ChurnModel::Exponential {
            mean: Duration::from_secs(3600),
        },
        lookup_window: Duration::from_secs(60),
        seed: 7,
        ..SimConfig::default()
    }
}

/// The lookup settings of the examples: `strategy` with the k of
/// [`network`] (8, for short stories), and the defaults otherwise (α = 3,
/// δ = 3, d = 4 paths, 2 s timeouts), except `delta`'s budget, k as in
/// docs/ALGORITHMS.md.
pub fn lookup(strategy: StrategyName) -> LookupConfig {
    let k = network().k;
    LookupConfig {
        strategy,
        k,
        budget: Budget::Requests(k as u32),
        ..LookupConfig::default()
    }
}

/// Build [`network`], run `contender` on its task [`TASK`], and tell it on
/// `out`: what every strategy example does.
///
/// # Errors
/// Whatever writing to `out` returns.
pub fn tell(out: &mut impl Write, contender: &Contender) -> io::Result<Summary> {
    let world = World::build(network(), TASK)?;
    let trace = Recording::run(&world, contender);
    let summary = narrate(out, &world, &trace)?;
    out.flush()?;
    Ok(summary)
}
