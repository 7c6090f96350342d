//! `delta` — the delta-bounded best-effort lookup, told step by step.
//!
//! ```sh
//! cargo run --example delta
//! ```
//!
//! One FIND_NODE lookup on a small simulated network (128 nodes, about half
//! of them online at any moment, so routing tables still list nodes that
//! have left; k = 8, δ = 3, a budget of k = 8 requests), told from the
//! lookup's own events: each `rule:` line is the strategy saying where it
//! stands (`LookupStrategy::phase`, printed whenever it changes), each `→`,
//! `←` and `✗` line a request, a reply or a failure the driver reported,
//! and `■ stopped:` the outcome. The other strategy examples run the very
//! same lookup; `side_by_side` compares them in a table.
//!
//! What to look for:
//! - δ requests in flight, always to the closest contact seen and not yet
//!   asked; the `rule:` line counts what it has seen, what is left to ask
//!   and how much of its budget remains;
//! - it stops asking when the budget is spent (`BudgetSpent`), waits only
//!   for the requests already out, and returns the k closest of
//!   **everything it saw** — answered, timed out or never asked alike;
//! - so its result holds nodes marked `✗` (asked, never answered: offline)
//!   and `·` (never asked), and misses true closest nodes that did answer:
//!   compare its recall with the `kademlia` example's.

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    narrate::tell(out, &Contender::from(narrate::lookup(StrategyName::Delta)))?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
