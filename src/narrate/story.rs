//! The story of one [`Recording`]: every event in words, how the lookup
//! ended, and its result against the truth.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::time::Duration;

use crate::contact::Contact;
use crate::driver::DriverEvent;
use crate::id::{Distance, NodeId};
use crate::lookup::{EndReason, LookupOutcome};
use crate::time::Time;
use crate::transport::TransportError;

use super::words::{list, ordinal, plural, COL};
use super::{Recording, World};

/// Where a contact stands, as the narrator saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    NotAsked,
    Waiting(Time),
    Answered,
    Failed,
}

impl State {
    fn mark(self) -> &'static str {
        match self {
            State::NotAsked => "·",
            State::Waiting(_) => "…",
            State::Answered => "✓",
            State::Failed => "✗",
        }
    }
}

/// What one lookup achieved, as its story's verdict counted it: the
/// figures of a [`side_by_side`](super::side_by_side) row.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Strategy name ([`Contender::name`](crate::lookup::Contender::name)).
    pub strategy: String,
    /// Requests sent.
    pub requests: u32,
    /// Requests answered.
    pub answered: u32,
    /// Requests that failed or timed out.
    pub failed: u32,
    /// Result size.
    pub result: usize,
    /// Result members that are in the true k closest.
    pub hits: usize,
    /// Size of the truth.
    pub truth: usize,
    /// Why it stopped.
    pub reason: EndReason,
    /// Result members that never answered during the lookup.
    pub never_answered: usize,
    /// Of those, the ones never even asked.
    pub never_asked: usize,
    /// Result members offline when the lookup ended.
    pub offline_at_end: usize,
    /// Virtual duration.
    pub elapsed: Duration,
    /// The strategy's last words about its phase.
    pub last_phase: String,
}

/// The narrator's picture of the lookup: every contact heard of, closest
/// first, with its state, and who told us about it.
struct Picture<'w> {
    world: &'w World,
    known: BTreeMap<Distance, Contact>,
    state: HashMap<NodeId, State>,
    paths: &'w HashMap<NodeId, usize>,
    timeout: Duration,
    /// The lookup's result size, which its "k closest" are counted in.
    k: usize,
}

impl<'w> Picture<'w> {
    fn hear(&mut self, c: &Contact) -> bool {
        if self.state.contains_key(&c.id) || c.id == self.world.origin() {
            return false;
        }
        self.known.insert(self.world.distance(&c.id), *c);
        self.state.insert(c.id, State::NotAsked);
        true
    }

    fn state(&self, id: &NodeId) -> State {
        self.state.get(id).copied().unwrap_or(State::NotAsked)
    }

    /// Contacts heard of, closest first, among those of path `path` (all
    /// of them for lookups without paths).
    fn known_in(&self, path: Option<usize>) -> impl Iterator<Item = &Contact> + '_ {
        self.known
            .values()
            .filter(move |c| self.path(&c.id) == path)
    }

    fn top_k(&self, path: Option<usize>) -> Vec<NodeId> {
        self.known_in(path).take(self.k).map(|c| c.id).collect()
    }

    fn closest(&self, path: Option<usize>) -> Option<NodeId> {
        self.known_in(path).next().map(|c| c.id)
    }

    fn path(&self, id: &NodeId) -> Option<usize> {
        self.paths.get(id).copied()
    }

    /// `heard of` or `this path has heard of`.
    fn heard(path: Option<usize>) -> &'static str {
        match path {
            Some(_) => "this path has heard of",
            None => "heard of",
        }
    }

    /// ` [path 2]` for a strategy of several paths (counted from 1, as the
    /// rule's phase counts them), empty otherwise.
    fn path_tag(&self, id: &NodeId) -> String {
        match self.path(id) {
            Some(p) => format!(" [path {}]", p + 1),
            None => String::new(),
        }
    }

    /// Contacts of path `path` heard of and not yet asked, closest first.
    fn unasked_in(&self, path: Option<usize>) -> Vec<NodeId> {
        self.known_in(path)
            .filter(|c| self.state(&c.id) == State::NotAsked)
            .map(|c| c.id)
            .collect()
    }
}

/// Tell the story of `trace` on `out`: the network, where the lookup
/// starts, every event, how it ended, and the result against the truth.
pub fn narrate(out: &mut impl Write, world: &World, trace: &Recording) -> io::Result<Summary> {
    let contender = &trace.contender;
    writeln!(out, "== {} ({}) ==", contender.name(), contender.params())?;
    world.describe(out)?;
    replay(out, world, trace)
}

/// The events of `trace` and the verdict, without the introduction; with
/// `io::sink()` it only computes the summary.
pub fn replay(out: &mut impl Write, world: &World, trace: &Recording) -> io::Result<Summary> {
    let mut pic = Picture {
        world,
        known: BTreeMap::new(),
        state: HashMap::new(),
        paths: &trace.paths,
        timeout: trace.contender.rpc_timeout(),
        k: trace.contender.k(),
    };
    let k = pic.k;
    for c in &trace.seeds {
        pic.hear(c);
    }
    writeln!(out)?;
    let names = |ids: &mut dyn Iterator<Item = &Contact>| -> Vec<String> {
        ids.map(|c| world.named(&c.id)).collect()
    };
    if trace.paths.is_empty() || trace.seeds.is_empty() {
        writeln!(
            out,
            "It starts from the {} contacts closest to the target in its own routing table:",
            trace.seeds.len()
        )?;
        list(out, "  ", &names(&mut trace.seeds.iter()))?;
    } else {
        let paths = trace.paths.values().max().map_or(0, |p| p + 1);
        writeln!(
            out,
            "It starts from the {} contacts closest to the target in its own routing table, split over {paths} paths:",
            trace.seeds.len()
        )?;
        for p in 0..paths {
            let mine: Vec<&Contact> = trace
                .seeds
                .iter()
                .filter(|c| pic.path(&c.id) == Some(p))
                .collect();
            writeln!(
                out,
                "  path {}: {}",
                p + 1,
                names(&mut mine.into_iter()).join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "Marks: ✓ answered, ✗ asked but no answer, … waiting for an answer, · not asked (yet)."
    )?;
    writeln!(out)?;

    let mut last_phase = String::new();
    let mut finished: Option<(Time, LookupOutcome)> = None;
    for event in &trace.events {
        let now = match event {
            DriverEvent::Sent(t, _)
            | DriverEvent::Phase(t, _)
            | DriverEvent::Replied(t, ..)
            | DriverEvent::Failed(t, ..)
            | DriverEvent::Finished(t, _) => *t,
        };
        let at = world.at(now);
        match event {
            DriverEvent::Phase(_, phase) => {
                writeln!(out, "{at:>9} rule: {phase}")?;
                last_phase = phase.clone();
            }
            DriverEvent::Sent(_, to) => {
                // Group by path (one group without paths), in path order.
                let mut groups: BTreeMap<Option<usize>, Vec<&Contact>> = BTreeMap::new();
                for c in to {
                    groups.entry(pic.path(&c.id)).or_default().push(c);
                }
                for (path, group) in groups {
                    let unasked = pic.unasked_in(path);
                    let heard = pic.known_in(path).count();
                    let ranks: Vec<usize> = group
                        .iter()
                        .map(|c| unasked.iter().position(|u| *u == c.id).map_or(0, |p| p + 1))
                        .collect();
                    let who = match path {
                        Some(p) => format!("path {} asks", p + 1),
                        None => "asks".to_string(),
                    };
                    let pool = format!("of the {heard} {}", Picture::heard(path));
                    let listed: Vec<String> = group.iter().map(|c| world.named(&c.id)).collect();
                    if ranks.iter().enumerate().all(|(i, &r)| r == i + 1) {
                        let which = if group.len() == 1 {
                            "the closest contact not asked yet".to_string()
                        } else {
                            format!("the {} closest not asked yet", group.len())
                        };
                        writeln!(out, "{at:>9} → {who} {which} ({pool}):")?;
                        list(out, COL, &listed)?;
                    } else {
                        writeln!(out, "{at:>9} → {who} {} contacts ({pool}):", group.len())?;
                        let ranked: Vec<String> = group
                            .iter()
                            .zip(&ranks)
                            .map(|(c, &r)| {
                                let rank = if r == 0 {
                                    "not in the picture".to_string()
                                } else {
                                    format!("{} closest not asked", ordinal(r))
                                };
                                format!("{} — {rank}", world.named(&c.id))
                            })
                            .collect();
                        for line in ranked {
                            writeln!(out, "{COL}{line}")?;
                        }
                    }
                    for c in group {
                        pic.hear(c);
                        pic.state.insert(c.id, State::Waiting(now));
                    }
                }
            }
            DriverEvent::Replied(_, from, contacts) => {
                let sent = match pic.state(&from.id) {
                    State::Waiting(sent) => Some(sent),
                    _ => None,
                };
                pic.state.insert(from.id, State::Answered);
                let path = pic.path(&from.id);
                let before_top = pic.top_k(path);
                let before_best = pic.closest(path);
                let fresh: Vec<Contact> =
                    contacts.iter().filter(|c| pic.hear(c)).copied().collect();
                let took = sent.map_or(String::new(), |s| {
                    format!(" after {} ms", (now - s).as_millis())
                });
                let others = match path {
                    Some(p) => {
                        let n = contacts
                            .iter()
                            .filter(|c| pic.path(&c.id).is_some_and(|q| q != p))
                            .count();
                        format!("; {n} belong to other paths, so this path ignores them")
                    }
                    None => String::new(),
                };
                writeln!(
                    out,
                    "{at:>9} ← {}{} answered{took}: {} contacts, {} new to this lookup{others}",
                    world.named(&from.id),
                    pic.path_tag(&from.id),
                    contacts.len(),
                    fresh.len()
                )?;
                let heard = Picture::heard(path);
                match pic.closest(path) {
                    Some(best) if Some(best) != before_best => writeln!(
                        out,
                        "{COL}closer than anything {} had heard of: {}",
                        if path.is_some() { "this path" } else { "it" },
                        world.named(&best)
                    )?,
                    Some(best) => writeln!(
                        out,
                        "{COL}nothing closer than {}, the closest {heard}",
                        world.named(&best)
                    )?,
                    None => {}
                }
                let after_top = pic.top_k(path);
                let entered: Vec<String> = after_top
                    .iter()
                    .filter(|id| !before_top.contains(id))
                    .map(|id| world.named(id))
                    .collect();
                let left: Vec<String> = before_top
                    .iter()
                    .filter(|id| !after_top.contains(id))
                    .map(|id| world.named(id))
                    .collect();
                if !entered.is_empty() {
                    writeln!(out, "{COL}new among the {k} closest {heard}:")?;
                    list(out, &format!("{COL}  "), &entered)?;
                }
                if !left.is_empty() {
                    writeln!(out, "{COL}pushed out of them:")?;
                    list(out, &format!("{COL}  "), &left)?;
                }
            }
            DriverEvent::Failed(_, to, error) => {
                let sent = match pic.state(&to.id) {
                    State::Waiting(sent) => sent,
                    _ => now,
                };
                pic.state.insert(to.id, State::Failed);
                let waited = now - sent;
                let what = match error {
                    // Only a rule's own timer (a `query-rest` round) gives up
                    // on a request before its timeout.
                    TransportError::Timeout if waited < pic.timeout => format!(
                        "was given up on by the rule after {} ms, before its {} ms timeout ({})",
                        waited.as_millis(),
                        pic.timeout.as_millis(),
                        world.why_silent(to, sent, now)
                    ),
                    TransportError::Timeout => format!(
                        "gave no answer within {} ms ({})",
                        waited.as_millis(),
                        world.why_silent(to, sent, now)
                    ),
                    other => format!("failed: {other}"),
                };
                writeln!(
                    out,
                    "{at:>9} ✗ {}{} {what}",
                    world.named(&to.id),
                    pic.path_tag(&to.id)
                )?;
            }
            DriverEvent::Finished(_, outcome) => {
                finished = Some((now, outcome.clone()));
            }
        }
    }

    let (end, outcome) = finished.unwrap_or((trace.outcome.finished_at, trace.outcome.clone()));
    let at = world.at(end);
    writeln!(
        out,
        "{at:>9} ■ stopped: {} — {}",
        outcome.reason,
        reason_words(outcome.reason)
    )?;
    if !last_phase.is_empty() {
        writeln!(out, "{COL}the rule's last words: {last_phase}")?;
    }
    if let Some(note) = paths_note(outcome.reason, &last_phase) {
        writeln!(out, "{COL}{note}")?;
    }
    let waiting: Vec<String> = pic
        .known
        .values()
        .filter(|c| matches!(pic.state(&c.id), State::Waiting(_)))
        .map(|c| format!("{}{}", world.named(&c.id), pic.path_tag(&c.id)))
        .collect();
    let stats = outcome.stats;
    if !waiting.is_empty() {
        writeln!(
            out,
            "{COL}it did not wait for the {} still out: {}",
            plural(waiting.len(), "request"),
            waiting.join(", ")
        )?;
    }

    // The verdict.
    let truth = world.truth();
    let rank_in_truth = |id: &NodeId| truth.iter().position(|t| t == id);
    let end_net_down = |c: &Contact| {
        world
            .net
            .index_of(c)
            .is_some_and(|n| !world.net.is_up(n, end))
    };
    writeln!(out)?;
    writeln!(out, "The {k} closest contacts heard of when it stopped:")?;
    let top: Vec<String> = pic
        .known
        .values()
        .take(k)
        .map(|c| format!("{}{}", pic.state(&c.id).mark(), world.named(&c.id)))
        .collect();
    list(out, "  ", &top)?;
    if pic
        .known
        .values()
        .take(k)
        .any(|c| pic.state(&c.id) == State::Failed)
    {
        writeln!(
            out,
            "The {k} closest heard of, leaving out those that gave no answer:"
        )?;
        let alive: Vec<String> = pic
            .known
            .values()
            .filter(|c| pic.state(&c.id) != State::Failed)
            .take(k)
            .map(|c| format!("{}{}", pic.state(&c.id).mark(), world.named(&c.id)))
            .collect();
        list(out, "  ", &alive)?;
    }
    writeln!(out, "Its result, closest first:")?;
    let mut never_answered = 0;
    let mut never_asked = 0;
    let mut offline = 0;
    let mut hits = 0;
    for c in &outcome.result {
        let state = pic.state(&c.id);
        let how = match state {
            State::Answered => "answered".to_string(),
            State::Failed => {
                never_answered += 1;
                "asked, never answered".to_string()
            }
            State::Waiting(_) => {
                never_answered += 1;
                "asked, answer still out".to_string()
            }
            State::NotAsked => {
                never_answered += 1;
                never_asked += 1;
                "never asked".to_string()
            }
        };
        let down = if end_net_down(c) {
            offline += 1;
            ", offline now"
        } else {
            ""
        };
        let truth_part = match rank_in_truth(&c.id) {
            Some(r) => {
                hits += 1;
                format!("true #{}", r + 1)
            }
            None => "not in the true k".to_string(),
        };
        writeln!(
            out,
            "  {} {:<24} {truth_part:<18} {how}{down}",
            state.mark(),
            world.named(&c.id),
        )?;
    }
    if outcome.result.is_empty() {
        writeln!(out, "  (empty)")?;
    }
    let missed: Vec<String> = truth
        .iter()
        .enumerate()
        .filter(|(_, id)| !outcome.result.iter().any(|c| c.id == **id))
        .map(|(i, id)| {
            let why = match pic.state.get(id) {
                None => "never heard of",
                Some(State::NotAsked) => "heard of, never asked",
                Some(State::Answered) if outcome.result.len() == k => {
                    "answered, but the result holds k closer nodes"
                }
                Some(State::Answered) => "answered, yet not returned",
                Some(_) => "asked, no answer",
            };
            format!("true #{} {} — {why}", i + 1, world.named(id))
        })
        .collect();
    let elapsed = end - world.task.start;
    writeln!(
        out,
        "Recall: {hits} of the true {} closest ({:.0}%).",
        truth.len(),
        if truth.is_empty() {
            100.0
        } else {
            100.0 * hits as f64 / truth.len() as f64
        }
    )?;
    for m in &missed {
        writeln!(out, "  missed {m}")?;
    }
    if never_answered > 0 {
        writeln!(
            out,
            "{never_answered} of the {} returned nodes never answered during the lookup ({never_asked} never even asked); {offline} are offline now.",
            outcome.result.len()
        )?;
    } else if !outcome.result.is_empty() {
        writeln!(
            out,
            "Every returned node answered during the lookup{}.",
            if offline > 0 {
                format!(" ({offline} went offline since)")
            } else {
                String::new()
            }
        )?;
    }
    writeln!(
        out,
        "Cost: {} requests ({} answered, {} failed), a chain of {} requests deep, {} ms.",
        stats.requests,
        stats.responses,
        stats.failures,
        stats.rounds,
        elapsed.as_millis()
    )?;
    Ok(Summary {
        strategy: trace.contender.name().to_string(),
        requests: stats.requests,
        answered: stats.responses,
        failed: stats.failures,
        result: outcome.result.len(),
        hits,
        truth: truth.len(),
        reason: outcome.reason,
        never_answered,
        never_asked,
        offline_at_end: offline,
        elapsed,
        last_phase,
    })
}

/// Why a multi-path lookup that some of its paths left `Exhausted` still
/// ended `Converged`, from its `reason` and its rule's last words (the
/// phase `disjoint` describes); `None` when nothing needs saying.
///
/// The lookup ends when every path has, each for its own reason, and is
/// `Converged` when the paths found k answering nodes between them: a path
/// that ran out of contacts of its own does not contradict that.
pub fn paths_note(reason: EndReason, last_phase: &str) -> Option<&'static str> {
    (reason == EndReason::Converged && last_phase.contains("ended Exhausted")).then_some(
        "it counts as Converged although some of its paths ended Exhausted (no contact \
         left on that path): its paths had k answers between them",
    )
}

/// What an end reason means, for any strategy.
pub fn reason_words(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Converged => "the rule's stopping condition was met",
        EndReason::Exhausted => {
            "no contact was left to ask before the rule's stopping condition was met"
        }
        EndReason::BudgetSpent => "the request budget was used up",
        EndReason::ValueFound => "a reply carried the value",
        EndReason::NoContacts => "the routing table had no contact to start from",
        EndReason::ContractBroken => "the strategy broke the lookup contract",
    }
}
