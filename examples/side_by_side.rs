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

#[allow(dead_code)] // each example uses part of the shared narration
#[path = "common/mod.rs"]
mod common;

use std::io::{self, Write};

use kadlab::lookup::{EndReason, StrategyName};

use common::{Summary, World};

/// Run every strategy and compare them on `out`.
pub fn narrate(out: &mut impl Write) -> io::Result<()> {
    let world = World::build(common::network(), common::TASK);
    writeln!(out, "== every strategy on the same lookup ==")?;
    world.describe(out)?;
    let mut rows: Vec<(String, Summary)> = Vec::new();
    for strategy in StrategyName::ALL {
        let lookup = common::lookup(strategy);
        let trace = common::run(&world, &lookup);
        let summary = common::replay(&mut io::sink(), &world, &trace)?;
        rows.push((lookup.describe(), summary));
    }

    let width = rows.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    writeln!(out)?;
    writeln!(
        out,
        "{:<11} {:<width$} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6} {:>14} {:>6}  ended",
        "strategy",
        "params",
        "requests",
        "answered",
        "failed",
        "still out",
        "result",
        "recall",
        "never answered",
        "ms"
    )?;
    for (params, s) in &rows {
        writeln!(
            out,
            "{:<11} {:<width$} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6} {:>14} {:>6}  {}",
            s.strategy.as_str(),
            params,
            s.requests,
            s.answered,
            s.failed,
            s.requests - s.answered - s.failed,
            s.result,
            format!("{}/{}", s.hits, s.truth),
            s.never_answered,
            s.elapsed.as_millis(),
            s.reason
        )?;
    }
    writeln!(
        out,
        "(recall: how many of the true {} closest the result holds; never answered: result members that gave no answer during the lookup)",
        world.task.truth.len()
    )?;

    writeln!(out)?;
    writeln!(out, "The differences, against kademlia (the paper's rule):")?;
    let reference = rows
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.strategy == StrategyName::Kademlia)
        .cloned();
    for (_, s) in &rows {
        writeln!(out, "- {}", difference(s, reference.as_ref()))?;
    }
    let mut reasons: Vec<EndReason> = rows.iter().map(|(_, s)| s.reason).collect();
    reasons.sort();
    reasons.dedup();
    let ends: Vec<String> = reasons
        .iter()
        .map(|&r| {
            let who: Vec<&str> = rows
                .iter()
                .filter(|(_, s)| s.reason == r)
                .map(|(_, s)| s.strategy.as_str())
                .collect();
            format!(
                "{} stopped with {r} ({})",
                join_words(&who.iter().map(|w| w.to_string()).collect::<Vec<_>>()),
                common::reason_words(r)
            )
        })
        .collect();
    writeln!(out, "- {}.", ends.join("; "))?;
    if let (Some(fast), Some(slow)) = (
        rows.iter().min_by_key(|(_, s)| s.elapsed),
        rows.iter().max_by_key(|(_, s)| s.elapsed),
    ) {
        writeln!(
            out,
            "- {} finished first ({} ms), {} last ({} ms): every request to an offline node costs a {} ms timeout, and rules differ in what they wait for.",
            fast.1.strategy,
            fast.1.elapsed.as_millis(),
            slow.1.strategy,
            slow.1.elapsed.as_millis(),
            common::lookup(StrategyName::Kademlia).rpc_timeout_ms
        )?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "Where each rule stood when it stopped, in its own words:"
    )?;
    for (_, s) in &rows {
        writeln!(out, "- {}: {}", s.strategy, s.last_phase)?;
    }
    out.flush()
}

/// One strategy's difference from `reference`, in a sentence.
fn difference(s: &Summary, reference: Option<&Summary>) -> String {
    let name = s.strategy.as_str();
    let (asked, found) = match reference {
        Some(r) if r.strategy != s.strategy => {
            let asked = match s.requests.cmp(&r.requests) {
                std::cmp::Ordering::Less => format!(
                    "asked {} fewer nodes than {} ({} against {})",
                    r.requests - s.requests,
                    r.strategy,
                    s.requests,
                    r.requests
                ),
                std::cmp::Ordering::Greater => format!(
                    "asked {} more nodes than {} ({} against {})",
                    s.requests - r.requests,
                    r.strategy,
                    s.requests,
                    r.requests
                ),
                std::cmp::Ordering::Equal => {
                    format!("asked as many nodes as {} ({})", r.strategy, s.requests)
                }
            };
            let found = if s.hits == r.hits {
                format!("found as many of the true {} closest ({})", s.truth, s.hits)
            } else {
                format!(
                    "found {} of the true {} closest against {}'s {}",
                    s.hits, s.truth, r.strategy, r.hits
                )
            };
            (asked, found)
        }
        _ => (
            format!("asked {} nodes", s.requests),
            format!("found {} of the true {} closest", s.hits, s.truth),
        ),
    };
    let mut sentence = format!("{name} {asked} and {found}; ");
    sentence += &if s.never_answered == 0 {
        "every node it returned answered".to_string()
    } else if s.never_asked == 0 {
        format!(
            "it returned {} that never answered",
            common::plural(s.never_answered, "node")
        )
    } else {
        format!(
            "it returned {} that never answered ({} of them never even asked)",
            common::plural(s.never_answered, "node"),
            s.never_asked
        )
    };
    let out = s.requests - s.answered - s.failed;
    if out > 0 {
        sentence +=
            &format!("; it stopped with {out} requests still out, without waiting for them");
    }
    sentence + "."
}

/// `a, b and c`.
fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn main() -> io::Result<()> {
    narrate(&mut io::stdout().lock())
}
