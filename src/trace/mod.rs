//! A picture of one lookup: whom it asked, when, how close they were, what
//! came back, and what it returned.
//!
//! [`trace_lookup`] runs one simulated lookup with a [`DriverEvent`]
//! observer; [`Trace::from_events`] turns the events into one
//! [`TracedRequest`] per request; [`Trace::to_svg`] draws them
//! (`kadlab trace` is the command-line shell over this):
//!
//! - **across**: milliseconds since the lookup started; **up**: log2 of the
//!   XOR distance to the target ([`Distance::log2`](crate::id::Distance::log2)),
//!   so the target's neighbourhood is at the bottom;
//! - **one dot per request**, at the time it was sent and the distance of the
//!   node asked, coloured by what became of it: answered, failed or timed out,
//!   or still unanswered when the lookup ended (a thin line of the same
//!   colour runs to the reply, the failure or the end);
//! - **grey lines** from each reply (at the time it arrived) to every contact
//!   it carried: darker for contacts the lookup had not heard of before,
//!   faint for those it already knew;
//! - **grey crosses**: contacts heard of in a reply and never asked;
//! - **black rings**: the members of the result, wherever they are; the
//!   *result* column right of the end line repeats them as squares coloured
//!   by what the lookup knew of them (answered, failed, unanswered, never
//!   asked), next to the *truth* column, the true k closest (green ticks; the
//!   green band spans their distances);
//! - **dashed lines**: the strategy's phase changes ([`DriverEvent::Phase`]),
//!   labelled with the first words of the phase.
//!
//! So `delta`'s result squares show at a glance which of its members were
//! never asked or timed out, and `query-rest`'s last round is a column of
//! dots sent at one instant, after the "query the rest" line.

mod draw;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use crate::contact::Contact;
use crate::driver::DriverEvent;
use crate::id::NodeId;
use crate::lookup::{Contender, LookupOutcome};
use crate::sim::{LookupTask, SimNetwork};
use crate::time::Time;

pub use draw::REQUEST_DOT_RADIUS;

/// What became of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    /// A reply came back and the strategy took it.
    Answered,
    /// An error, an unreachable node, or a timeout (the transport's, or the
    /// lookup giving up on it: its own deadline or a rule's timer).
    Failed,
    /// Neither: the lookup ended while the request was still in flight.
    Unanswered,
}

impl RequestOutcome {
    /// Every outcome, in legend order.
    pub const ALL: [RequestOutcome; 3] = [
        RequestOutcome::Answered,
        RequestOutcome::Failed,
        RequestOutcome::Unanswered,
    ];

    /// Its name in the legend.
    pub fn describe(self) -> &'static str {
        match self {
            RequestOutcome::Answered => "answered",
            RequestOutcome::Failed => "failed or timed out",
            RequestOutcome::Unanswered => "no answer before the lookup ended",
        }
    }
}

/// One request of the lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedRequest {
    /// The node asked.
    pub to: Contact,
    /// When the request was sent.
    pub sent: Time,
    /// When the reply or failure reached the strategy, or the lookup gave
    /// up on it. `None` for [`RequestOutcome::Unanswered`].
    pub done: Option<Time>,
    /// What became of it.
    pub outcome: RequestOutcome,
    /// The contacts of the reply, if it was answered.
    pub returned: Vec<Contact>,
    /// Which path of a multi-path strategy sent it
    /// ([`LookupStrategy::path_of`](crate::lookup::LookupStrategy::path_of)),
    /// 0 first; `None` for a single-path strategy.
    pub path: Option<usize>,
}

/// A contact heard of in a reply and never asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    /// The contact.
    pub contact: Contact,
    /// When the first reply carrying it arrived.
    pub at: Time,
}

/// Where a member of the result stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Membership {
    /// It was asked, with this outcome.
    Asked(RequestOutcome),
    /// It was never asked: the lookup only heard of it.
    NeverAsked,
}

/// One lookup, request by request.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Strategy name.
    pub strategy: String,
    /// Its parameters, as `compare` prints them.
    pub params: String,
    /// The node that looked up.
    pub origin: Contact,
    /// When the lookup started.
    pub start: Time,
    /// Every request, in the order sent.
    pub requests: Vec<TracedRequest>,
    /// Contacts heard of and never asked, in the order first heard of.
    pub learned: Vec<Learned>,
    /// Phase changes: when, and the strategy's description.
    pub phases: Vec<(Time, String)>,
    /// The true k closest, closest first.
    pub truth: Vec<Contact>,
    /// How the lookup finished.
    pub outcome: LookupOutcome,
}

/// Run `task` alone on `net` (already warmed up) with `contender`, recording
/// every driver event, and return its trace. The lookup changes the origin's
/// routing table, as a real one would.
pub fn trace_lookup(net: &Arc<SimNetwork>, task: &LookupTask, contender: &Contender) -> Trace {
    let mut events: Vec<DriverEvent> = Vec::new();
    let (_, lookup) = task.run_keeping(net, contender, &mut events);
    let truth = task
        .truth
        .iter()
        .map(|&n| net.nodes[n as usize].contact)
        .collect();
    let origin = net.nodes[task.origin as usize].contact;
    match Trace::from_events(contender, origin, task.start, truth, &events) {
        Some(mut trace) => {
            for r in &mut trace.requests {
                r.path = lookup.path_of(&r.to.id);
            }
            trace
        }
        // run_lookup reports Finished before it returns.
        None => unreachable!("the driver ended a lookup without a Finished event"),
    }
}

impl Trace {
    /// Assemble a trace from the events of one lookup (in the order the
    /// driver reported them). `None` if they hold no
    /// [`DriverEvent::Finished`].
    ///
    /// The driver reports every request's end, the requests the lookup gave
    /// up on by itself included (as [`DriverEvent::Failed`]), so a request
    /// with no reply or failure was still in flight when the lookup ended:
    /// it counts as unanswered.
    pub fn from_events(
        contender: &Contender,
        origin: Contact,
        start: Time,
        truth: Vec<Contact>,
        events: &[DriverEvent],
    ) -> Option<Trace> {
        let outcome = events.iter().find_map(|e| match e {
            DriverEvent::Finished(_, outcome) => Some(outcome.clone()),
            _ => None,
        })?;
        let mut requests: Vec<TracedRequest> = Vec::new();
        let mut by_id: HashMap<NodeId, usize> = HashMap::new();
        let mut phases = Vec::new();
        let mut heard: Vec<(Contact, Time)> = Vec::new();
        for event in events {
            match event {
                DriverEvent::Sent(t, to) => {
                    for c in to {
                        by_id.entry(c.id).or_insert_with(|| {
                            requests.push(TracedRequest {
                                to: *c,
                                sent: *t,
                                done: None,
                                outcome: RequestOutcome::Unanswered,
                                returned: Vec::new(),
                                path: None,
                            });
                            requests.len() - 1
                        });
                    }
                }
                DriverEvent::Replied(t, from, contacts) => {
                    if let Some(&i) = by_id.get(&from.id) {
                        let r = &mut requests[i];
                        r.done = Some(*t);
                        r.outcome = RequestOutcome::Answered;
                        r.returned = contacts
                            .iter()
                            .filter(|c| c.id != origin.id)
                            .copied()
                            .collect();
                        heard.extend(r.returned.iter().map(|c| (*c, *t)));
                    }
                }
                DriverEvent::Failed(t, to, _) => {
                    if let Some(&i) = by_id.get(&to.id) {
                        requests[i].done = Some(*t);
                        requests[i].outcome = RequestOutcome::Failed;
                    }
                }
                DriverEvent::Phase(t, text) => phases.push((*t, text.clone())),
                DriverEvent::Finished(..) => {}
            }
        }
        let mut seen: HashSet<NodeId> = by_id.keys().copied().collect();
        let learned = heard
            .into_iter()
            .filter(|(c, _)| seen.insert(c.id))
            .map(|(contact, at)| Learned { contact, at })
            .collect();
        Some(Trace {
            strategy: contender.name().to_string(),
            params: contender.params().to_string(),
            origin,
            start,
            requests,
            learned,
            phases,
            truth,
            outcome,
        })
    }

    /// The key looked up.
    pub fn target(&self) -> &NodeId {
        &self.outcome.target
    }

    /// Requests with this outcome.
    pub fn count(&self, outcome: RequestOutcome) -> usize {
        self.requests
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    }

    /// |result ∩ truth| / |truth| (1 with no truth).
    pub fn recall(&self) -> f64 {
        if self.truth.is_empty() {
            return 1.0;
        }
        let truth: HashSet<NodeId> = self.truth.iter().map(|c| c.id).collect();
        let hits = self
            .outcome
            .result
            .iter()
            .filter(|c| truth.contains(&c.id))
            .count();
        hits as f64 / truth.len() as f64
    }

    /// Where `contact`, a member of the result, stands.
    pub fn membership(&self, contact: &Contact) -> Membership {
        self.requests
            .iter()
            .find(|r| r.to.id == contact.id)
            .map_or(Membership::NeverAsked, |r| Membership::Asked(r.outcome))
    }

    /// Milliseconds from the start to `t`.
    fn ms(&self, t: Time) -> f64 {
        (t - self.start).as_micros() as f64 / 1000.0
    }

    fn log2(&self, id: &NodeId) -> f64 {
        id.distance(self.target()).log2()
    }

    /// One paragraph for people: strategy, target, requests and their
    /// outcomes, why and when it ended, recall, and what the result is made
    /// of.
    pub fn summary(&self) -> String {
        let o = &self.outcome;
        let mut members: HashMap<Membership, usize> = HashMap::new();
        for c in &o.result {
            *members.entry(self.membership(c)).or_default() += 1;
        }
        let member = |m: Membership| members.get(&m).copied().unwrap_or(0);
        let truth: HashSet<NodeId> = self.truth.iter().map(|c| c.id).collect();
        let hits = o.result.iter().filter(|c| truth.contains(&c.id)).count();
        let mut s = format!(
            "{} ({}) looked up {} from node {}, starting at virtual time {}: it sent {} requests ({} answered, {} failed or timed out, {} still unanswered at the end) and ended with {} after {} ms.",
            self.strategy,
            self.params,
            self.target(),
            self.origin.id,
            self.start,
            self.requests.len(),
            self.count(RequestOutcome::Answered),
            self.count(RequestOutcome::Failed),
            self.count(RequestOutcome::Unanswered),
            o.reason,
            (o.finished_at - self.start).as_millis(),
        );
        let _ = write!(
            s,
            " Recall {:.2}: its {} results hold {hits} of the true {} closest; {} of them answered, {} failed, {} were still unanswered and {} were never asked.",
            self.recall(),
            o.result.len(),
            self.truth.len(),
            member(Membership::Asked(RequestOutcome::Answered)),
            member(Membership::Asked(RequestOutcome::Failed)),
            member(Membership::Asked(RequestOutcome::Unanswered)),
            member(Membership::NeverAsked),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::{EndReason, LookupStats};
    use std::time::Duration;

    use crate::transport::TransportError;

    fn contact(name: &str, index: u32) -> Contact {
        Contact::simulated(NodeId::from_sha1(name.as_bytes()), index)
    }

    /// Four requests: one answered (with a new contact, the origin and a
    /// known one), one failed, one the lookup timed out itself (the driver
    /// reports it at its deadline), one still out when the lookup ended.
    fn scripted() -> Trace {
        let config = crate::lookup::LookupConfig::default();
        let timeout = config.rpc_timeout();
        let origin = contact("origin", 0);
        let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|i| contact(&format!("n{i}"), i));
        let start = Time::from_millis(1_000);
        let late = start + timeout + timeout;
        let outcome = LookupOutcome {
            target: NodeId::from_sha1(b"target"),
            result: vec![a, e, b],
            reason: EndReason::Converged,
            stats: LookupStats::default(),
            value: None,
            finished_at: late,
            breach: None,
        };
        let events = vec![
            DriverEvent::Phase(start, "round 1: asking".into()),
            DriverEvent::Sent(start, vec![a, b, c]),
            DriverEvent::Replied(Time::from_millis(1_100), a, vec![e, origin, b]),
            DriverEvent::Failed(Time::from_millis(1_200), b, TransportError::Timeout),
            DriverEvent::Failed(start + timeout, c, TransportError::Timeout),
            DriverEvent::Sent(start + timeout + Duration::from_millis(1_990), vec![d]),
            DriverEvent::Finished(late, outcome),
        ];
        Trace::from_events(&config.into(), origin, start, vec![a, e], &events).unwrap()
    }

    #[test]
    fn events_become_one_request_each_with_its_outcome() {
        let trace = scripted();
        let outcomes: Vec<RequestOutcome> = trace.requests.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                RequestOutcome::Answered,
                RequestOutcome::Failed,
                RequestOutcome::Failed,
                RequestOutcome::Unanswered
            ]
        );
        // The lookup timed c out itself, at its deadline.
        let c = &trace.requests[2];
        assert_eq!(
            c.done,
            Some(c.sent + crate::lookup::LookupConfig::default().rpc_timeout())
        );
        assert_eq!(trace.requests[3].done, None);
        // The origin is dropped from replies; only e was heard of and never
        // asked.
        assert_eq!(trace.requests[0].returned.len(), 2);
        let learned: Vec<u32> = trace
            .learned
            .iter()
            .filter_map(|l| l.contact.simulated_index())
            .collect();
        assert_eq!(learned, [5]);
        assert_eq!(trace.recall(), 1.0);
        let e = trace.outcome.result[1];
        assert_eq!(trace.membership(&e), Membership::NeverAsked);
        let b = trace.outcome.result[2];
        assert_eq!(
            trace.membership(&b),
            Membership::Asked(RequestOutcome::Failed)
        );
    }

    #[test]
    fn the_svg_has_one_dot_per_request_and_a_ring_per_located_member() {
        let trace = scripted();
        let svg = trace.to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{svg:.80}");
        assert!(svg.trim_end().ends_with("</svg>"));
        // 4 dots, 3 rings, 4 legend circles.
        assert_eq!(svg.matches("<circle").count(), 4 + 3 + 4);
        assert_eq!(svg.matches(r#" r="5""#).count(), 4);
        assert_eq!(svg.matches(r#" r="8""#).count(), 3);
        let summary = trace.summary();
        for needle in ["4 requests", "1 answered", "2 failed", "1 still unanswered"] {
            assert!(summary.contains(needle), "{needle}: {summary}");
        }
    }
}
