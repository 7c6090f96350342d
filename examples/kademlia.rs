//! `kademlia` — the Kademlia paper's lookup rule, told step by step.
//!
//! ```sh
//! cargo run --example kademlia
//! ```
//!
//! One FIND_NODE lookup on a small simulated network (128 nodes, about half
//! of them online at any moment, so routing tables still list nodes that
//! have left; k = 8, α = 3), told from the lookup's own events: each
//! `rule:` line is the strategy saying where it stands
//! (`LookupStrategy::phase`, printed whenever it changes), each `→`, `←`
//! and `✗` line a request, a reply or a failure the driver reported, and
//! `■ stopped:` the outcome. The other strategy examples run the very same
//! lookup; `side_by_side` compares them in a table.
//!
//! What to look for:
//! - α requests go out at first, to the closest contacts known; each reply
//!   frees a slot, filled at once with the closest contact not asked yet;
//! - the first reply names much closer nodes that are offline: their
//!   requests time out after 2 s (`✗`), and the lookup carries on around
//!   them in the meantime;
//! - after α replies in a row bring nothing closer, the rule *widens*
//!   (`rule: widened …`) and asks every unasked contact among the k closest
//!   at once;
//! - it stops when the k closest contacts it knows, leaving out those that
//!   failed, have all answered, and returns exactly those: every node in the
//!   result answered, so none of them is a dead entry.

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    narrate::tell(
        out,
        &Contender::from(narrate::lookup(StrategyName::Kademlia)),
    )?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
