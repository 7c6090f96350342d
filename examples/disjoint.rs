//! `disjoint` — S/Kademlia's lookup over d disjoint paths, told step by
//! step.
//!
//! ```sh
//! cargo run --example disjoint
//! ```
//!
//! One FIND_NODE lookup on a small simulated network (128 nodes, about half
//! of them online at any moment, so routing tables still list nodes that
//! have left; k = 8, α = 3, d = 4 paths), told from the lookup's own
//! events: each `rule:` line is the strategy saying where it stands
//! (`LookupStrategy::phase`, printed whenever it changes: one status per
//! path), each `→`, `←` and `✗` line a request, a reply or a failure the
//! driver reported, tagged with the path it belongs to, and `■ stopped:`
//! the outcome. The other strategy examples run the very same lookup;
//! `side_by_side` compares them in a table.
//!
//! What to look for:
//! - the k closest contacts of the routing table are dealt round-robin to
//!   the d paths, and each path runs the paper's rule (see the `kademlia`
//!   example) on its own shortlist, with its own α in flight;
//! - a node belongs to the first path that hears of it: replies name nodes
//!   that "belong to other paths", which the replying path ignores — so a
//!   path can run dry early (`path 1 ended Exhausted`) while others go on;
//! - the lookup ends when every path has ended, and returns the k closest
//!   nodes that answered over all paths; it costs more requests than
//!   `kademlia` (compare the `Cost:` lines), a cost that grows with d.
//!
//! The path of each request is read from the strategy itself, after the
//! lookup (`LookupStrategy::path_of`): a node keeps the path that claimed
//! it, so asking after the lookup labels every request exactly.

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    narrate::tell(
        out,
        &Contender::from(narrate::lookup(StrategyName::Disjoint)),
    )?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
