//! `gated` — kadlab's own lookup, told step by step.
//!
//! ```sh
//! cargo run --example kadlab_lookup
//! ```
//!
//! The same lookup the other strategy examples run (128 simulated nodes,
//! about half of them online, k = 8), with `gated`: α = 3, β = 4 and a
//! hedge of 300 ms, so that each of its ingredients shows. Each `rule:`
//! line is the rule saying where it stands, each `→`, `←` and `✗` line a
//! request, a reply or a failure, and `■ stopped:` the outcome.
//!
//! What to look for:
//! - **the gate**: only the k closest contacts known that are neither
//!   failed nor suspect are ever asked, closest first, α at a time;
//! - **the hedges**: a request unanswered after 300 ms is suspect (the
//!   `rule:` line counts them) and the next contact is asked beside it,
//!   so an offline node costs 300 ms instead of the 2 s timeout;
//! - **the stop**: the lookup ends as soon as the β closest contacts that
//!   are not suspect have answered (after waiting one more hedge for a
//!   suspect that would make the result); the result is the k closest of
//!   those that answered and those a reply (or the routing table) named.

use std::io::{self, Write};

use kadlab::lookup::{Contender, LookupConfig, StrategyName};
use kadlab::narrate;

/// Run the lookup and tell it on `out`.
pub fn story(out: &mut impl Write) -> io::Result<()> {
    let config = LookupConfig {
        beta: 4,
        hedge_ms: 300,
        ..narrate::lookup(StrategyName::Gated)
    };
    narrate::tell(out, &Contender::from(config))?;
    Ok(())
}

fn main() -> io::Result<()> {
    story(&mut io::stdout().lock())
}
