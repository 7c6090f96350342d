//! `query-rest` — the closest-unchanged / query-rest lookup, told step by
//! step.
//!
//! ```sh
//! cargo run --example query_rest
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
//! - the lookup goes in **rounds**: a round asks the first α positions of
//!   the shortlist (fewer when some were asked already) and waits for all
//!   of them, so one offline node holds the whole round up for its 2 s
//!   timeout;
//! - when a round brings nothing closer, the rule says `query the rest` and
//!   asks every contact left in the shortlist at once, then stops
//!   (`Converged`);
//! - failed nodes leave the shortlist, but a later reply can bring them
//!   back: the result can hold nodes marked `✗` that never answered.

use std::io::{self, Write};

use kadlab::lookup::{Contender, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    narrate::tell(
        out,
        &Contender::from(narrate::lookup(StrategyName::QueryRest)),
    )?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
