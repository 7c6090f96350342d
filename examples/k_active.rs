//! `k-active` — the shortlist-until-k-active lookup, told step by step.
//!
//! ```sh
//! cargo run --example k_active
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
//! - **phase 1**: α requests in flight, closest first, until one reply
//!   brings nothing closer — here the second reply already, after a few
//!   milliseconds, with the first requests still out;
//! - **phase 2** (`rule: phase 2 …`): it keeps α requests in flight,
//!   closest first, counting answers, until k nodes have answered; a
//!   timeout costs 2 s but does not stop it;
//! - it stops as soon as the k-th answer arrives (`Converged`), without
//!   waiting for the requests still out, and returns the k closest nodes
//!   that answered: no dead entry in its result.

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    narrate::tell(
        out,
        &Contender::from(narrate::lookup(StrategyName::KActive)),
    )?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
