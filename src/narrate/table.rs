//! [`side_by_side`]: several strategies on the same lookup, in a table and
//! in words.

use std::cmp::Ordering;
use std::io::{self, Write};

use crate::lookup::{Contender, EndReason, StrategyName};

use super::words::{join_words, plural};
use super::{paths_note, reason_words, replay, Recording, Summary, World};

/// Run each of `contenders` on the task of `world`, each on a fresh copy of
/// its network, and compare them on `out`: one row per contender (requests,
/// answers, failures, result size, recall of the true k closest, how long
/// it took, why it stopped), the differences in plain words, and each
/// rule's last words about where it stood. Every figure is read from the
/// lookups' events and outcomes, the same ones [`narrate`](super::narrate)
/// tells, so a row and a story never disagree.
///
/// The differences are measured against the paper's rule when one of the
/// contenders is the built-in `kademlia`, and against the first contender
/// otherwise. Returns the rows' summaries, in the order of `contenders`.
pub fn side_by_side(
    out: &mut impl Write,
    world: &World,
    contenders: &[Contender],
) -> io::Result<Vec<Summary>> {
    writeln!(out, "== every strategy on the same lookup ==")?;
    world.describe(out)?;
    let mut rows: Vec<(&Contender, Summary)> = Vec::new();
    for contender in contenders {
        let trace = Recording::run(world, contender);
        rows.push((contender, replay(&mut io::sink(), world, &trace)?));
    }

    // The strategy column is as wide as the longest name, and at least as
    // wide as the built-in names need, so their table keeps its layout.
    let names = rows
        .iter()
        .map(|(c, _)| c.name().chars().count())
        .max()
        .unwrap_or(0)
        .max(11);
    let width = rows
        .iter()
        .map(|(c, _)| c.params().chars().count())
        .max()
        .unwrap_or(0);
    writeln!(out)?;
    writeln!(
        out,
        "{:<names$} {:<width$} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6} {:>14} {:>6}  ended",
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
    for (contender, s) in &rows {
        writeln!(
            out,
            "{:<names$} {:<width$} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6} {:>14} {:>6}  {}",
            s.strategy,
            contender.params(),
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

    let is_paper = |c: &Contender| {
        c.config()
            .is_some_and(|config| config.strategy == StrategyName::Kademlia)
    };
    let reference = rows
        .iter()
        .find(|(c, _)| is_paper(c))
        .or_else(|| rows.first());
    if let Some((contender, summary)) = reference {
        writeln!(out)?;
        if is_paper(contender) {
            writeln!(
                out,
                "The differences, against {} (the paper's rule):",
                summary.strategy
            )?;
        } else {
            writeln!(out, "The differences, against {}:", summary.strategy)?;
        }
    }
    for (_, s) in &rows {
        writeln!(out, "- {}", difference(s, reference.map(|(_, r)| r)))?;
    }
    let mut reasons: Vec<EndReason> = rows.iter().map(|(_, s)| s.reason).collect();
    reasons.sort();
    reasons.dedup();
    let ends: Vec<String> = reasons
        .iter()
        .map(|&r| {
            let who: Vec<String> = rows
                .iter()
                .filter(|(_, s)| s.reason == r)
                .map(|(_, s)| s.strategy.clone())
                .collect();
            format!(
                "{} stopped with {r} ({})",
                join_words(&who),
                reason_words(r)
            )
        })
        .collect();
    if !ends.is_empty() {
        writeln!(out, "- {}.", ends.join("; "))?;
    }
    for (_, s) in &rows {
        if let Some(note) = paths_note(s.reason, &s.last_phase) {
            writeln!(out, "- {}: {note}.", s.strategy)?;
        }
    }
    if let (Some(fast), Some(slow), Some((reference, _))) = (
        rows.iter().min_by_key(|(_, s)| s.elapsed),
        rows.iter().max_by_key(|(_, s)| s.elapsed),
        reference,
    ) {
        writeln!(
            out,
            "- {} finished first ({} ms), {} last ({} ms): every request to an offline node costs a {} ms timeout, and rules differ in what they wait for.",
            fast.1.strategy,
            fast.1.elapsed.as_millis(),
            slow.1.strategy,
            slow.1.elapsed.as_millis(),
            reference.rpc_timeout().as_millis()
        )?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "Where each rule stood when it stopped, in its own words:"
    )?;
    for (_, s) in &rows {
        let words = if s.last_phase.is_empty() {
            "(it tells nothing of its phase)"
        } else {
            &s.last_phase
        };
        writeln!(out, "- {}: {words}", s.strategy)?;
    }
    out.flush()?;
    Ok(rows.into_iter().map(|(_, s)| s).collect())
}

/// One strategy's difference from `reference`, in a sentence.
fn difference(s: &Summary, reference: Option<&Summary>) -> String {
    let name = &s.strategy;
    let (asked, found) = match reference {
        Some(r) if r.strategy != s.strategy => {
            let asked = match s.requests.cmp(&r.requests) {
                Ordering::Equal => {
                    format!("asked as many nodes as {} ({})", r.strategy, s.requests)
                }
                order => format!(
                    "asked {} {} nodes than {} ({} against {})",
                    s.requests.abs_diff(r.requests),
                    if order == Ordering::Less {
                        "fewer"
                    } else {
                        "more"
                    },
                    r.strategy,
                    s.requests,
                    r.requests
                ),
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
            plural(s.never_answered, "node")
        )
    } else {
        format!(
            "it returned {} that never answered ({} of them never even asked)",
            plural(s.never_answered, "node"),
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
