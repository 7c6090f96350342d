//! Every strategy on the same lookup, side by side.
//!
//! ```sh
//! cargo run --example side_by_side
//! ```
//!
//! Runs each strategy (`StrategyName::ALL`) on the lookup the strategy
//! examples tell one by one — same network, same node, same target, each on
//! a fresh copy of the warmed-up network — and prints one row per strategy
//! (requests, answers, failures, result size, recall of the true k closest,
//! how long it took, why it stopped), then the differences in plain words,
//! measured against `kademlia`, the paper's rule, and each rule's own last
//! words about where it stood when it stopped. Every figure is read from
//! the lookups' events and outcomes, the same ones the strategy examples
//! narrate.
//!
//! What to look for:
//! - `delta` is the cheapest, and pays for it: its budget runs out, and it
//!   returns nodes that never answered (some never even asked);
//! - `query-rest` returns nodes that never answered too, and is the slowest:
//!   each round waits for its slowest request;
//! - `k-active` and `kademlia` return only nodes that answered; `disjoint`
//!   finds the same for about twice the requests (its cost grows with d).

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate::{self, World};

/// Run every strategy and compare them on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    let world = World::build(narrate::network(), narrate::TASK)?;
    let strategies: Vec<Contender> = StrategyName::ALL
        .into_iter()
        .map(|s| Contender::from(narrate::lookup(s)))
        .collect();
    narrate::side_by_side(out, &world, &strategies)?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
