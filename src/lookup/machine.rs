//! [`Lookup`]: the shared state machine around a strategy's [`Rule`].

use tracing::{debug, trace, warn};

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::context::{LookupContext, LookupSpec};
use crate::lookup::contract::{self, Breach};
use crate::lookup::outcome::{EndReason, LookupOutcome, LookupStats};
use crate::lookup::{LookupAction, LookupMode, LookupStrategy, Reply};
use crate::time::Time;

/// What a rule decides when polled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ask these contacts (closest first, by the rule's own order).
    Send(Vec<Contact>),
    /// Wait for replies, or until this deadline of the rule's own (a round
    /// timer); request deadlines are added by [`Lookup`].
    Wait(Option<Time>),
    /// Stop, for this reason; the result comes from [`Rule::result`].
    Finish(EndReason),
}

/// A strategy's decisions, and nothing else.
///
/// A rule sees replies already cleaned by [`Lookup`] (no local node, no
/// repeats, only from nodes it asked) and never has to track timeouts,
/// statistics or who was asked: [`LookupContext`] holds those.
pub trait Rule: Send {
    /// Name as configured and reported.
    const NAME: &'static str;

    /// `from` answered with these (cleaned) contacts.
    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]);

    /// The request to `from` failed or timed out.
    fn on_failure(&mut self, ctx: &LookupContext, from: Contact);

    /// Decide what to do at `now`. May use `ctx` to abandon requests the
    /// rule no longer waits for (see [`LookupContext`]).
    fn step(&mut self, ctx: &mut LookupContext, now: Time) -> Step;

    /// The rule's answer so far; [`Lookup`] sorts it, removes repeats and
    /// cuts it to k.
    fn result(&self, ctx: &LookupContext) -> Vec<Contact>;

    /// Requests the rule allows in flight right now.
    fn parallelism(&self) -> usize;

    /// Where the rule stands, in words, for narration: the examples and
    /// traces print it whenever it changes, so what they say is what the
    /// rule decides on, not a retelling of it.
    fn phase(&self, ctx: &LookupContext) -> String;

    /// Which path of a multi-path rule node `id` belongs to (see
    /// [`LookupStrategy::path_of`]); single-path rules keep the default.
    fn path_of(&self, _id: &NodeId) -> Option<usize> {
        None
    }
}

/// A lookup run by rule `R`; implements [`LookupStrategy`].
#[derive(Debug)]
pub struct Lookup<R> {
    ctx: LookupContext,
    rule: R,
    outcome: Option<LookupOutcome>,
    value: Option<Vec<u8>>,
}

impl<R: Rule> Lookup<R> {
    /// Wrap `rule`, built for `spec` from the routing table's `seeds`.
    pub fn new(spec: LookupSpec, seeds: &[Contact], rule: R) -> Lookup<R> {
        debug!(
            strategy = R::NAME,
            target = %spec.target,
            seeds = seeds.len(),
            "lookup started"
        );
        Lookup {
            ctx: LookupContext::new(spec, seeds),
            rule,
            outcome: None,
            value: None,
        }
    }

    /// The rule, for inspection in tests and narration.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// The shared state, for inspection in tests and narration.
    pub fn context(&self) -> &LookupContext {
        &self.ctx
    }

    fn finish(&mut self, reason: EndReason, now: Time) -> LookupOutcome {
        self.finish_with(reason, None, now)
    }

    /// End the lookup because the rule broke the contract: no spin, no
    /// hang, and a record that says why.
    fn broken(&mut self, breach: Breach, now: Time) -> LookupOutcome {
        warn!(strategy = R::NAME, target = %self.ctx.target(), %breach, "strategy broke the lookup contract");
        self.finish_with(EndReason::ContractBroken, Some(breach), now)
    }

    fn finish_with(
        &mut self,
        mut reason: EndReason,
        mut breach: Option<Breach>,
        now: Time,
    ) -> LookupOutcome {
        let local = self.ctx.spec().local;
        let mut result: Vec<Contact> = self
            .rule
            .result(&self.ctx)
            .into_iter()
            .filter(|c| c.id != local)
            .collect();
        result.sort_by_key(|c| (self.ctx.distance(&c.id), c.id));
        result.dedup_by_key(|c| c.id);
        result.truncate(self.ctx.k());
        if breach.is_none() {
            if let Err(b) = contract::check_result(&result, self.ctx.target(), &local, |id| {
                self.ctx.heard_of(id)
            }) {
                warn!(strategy = R::NAME, target = %self.ctx.target(), breach = %b, "strategy broke the lookup contract");
                (reason, breach) = (EndReason::ContractBroken, Some(b));
            }
        }
        let outcome = LookupOutcome {
            target: *self.ctx.target(),
            result,
            reason,
            stats: self.ctx.stats,
            value: self.value.take(),
            finished_at: now,
            breach,
        };
        debug!(
            strategy = R::NAME,
            target = %outcome.target,
            reason = %reason,
            results = outcome.result.len(),
            requests = outcome.stats.requests,
            responses = outcome.stats.responses,
            failures = outcome.stats.failures,
            rounds = outcome.stats.rounds,
            "lookup finished"
        );
        self.outcome = Some(outcome.clone());
        outcome
    }

    fn value_verifies(&self, value: &[u8]) -> bool {
        self.ctx.spec().mode == LookupMode::FindValue
            && NodeId::of_immutable_value(value) == *self.ctx.target()
    }
}

impl<R: Rule> LookupStrategy for Lookup<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn target(&self) -> &NodeId {
        self.ctx.target()
    }

    fn on_response(&mut self, from: &NodeId, reply: Reply<'_>, now: Time) -> bool {
        if self.outcome.is_some() {
            return false;
        }
        let Some(sender) = self.ctx.finish_request(from, true) else {
            self.ctx.stats.ignored += 1;
            trace!(strategy = R::NAME, from = %from, "reply ignored: no request in flight");
            return false;
        };
        let contacts = self.ctx.admit_contacts(from, reply.contacts);
        trace!(
            strategy = R::NAME,
            from = %from,
            contacts = contacts.len(),
            "reply"
        );
        self.rule.on_response(&self.ctx, sender, &contacts);
        if let Some(value) = reply.value {
            if self.value_verifies(value) {
                self.value = Some(value.to_vec());
                self.finish(EndReason::ValueFound, now);
            } else if self.ctx.spec().mode == LookupMode::FindValue {
                self.ctx.stats.bad_values += 1;
            }
        }
        true
    }

    fn on_failure(&mut self, from: &NodeId, _now: Time) -> bool {
        if self.outcome.is_some() {
            return false;
        }
        let Some(contact) = self.ctx.finish_request(from, false) else {
            self.ctx.stats.ignored += 1;
            return false;
        };
        trace!(strategy = R::NAME, to = %from, "request failed");
        self.rule.on_failure(&self.ctx, contact);
        true
    }

    fn poll(&mut self, now: Time) -> LookupAction {
        if let Some(outcome) = &self.outcome {
            return LookupAction::Finished(outcome.clone());
        }
        for contact in self.ctx.expire(now) {
            trace!(strategy = R::NAME, to = %contact.id, "request timed out");
            self.rule.on_failure(&self.ctx, contact);
        }
        match self.rule.step(&mut self.ctx, now) {
            Step::Finish(reason) => LookupAction::Finished(self.finish(reason, now)),
            Step::Send(contacts) => {
                let local = self.ctx.spec().local;
                if let Err(breach) =
                    contract::check_send(&contacts, &local, |id| self.ctx.was_contacted(id))
                {
                    return LookupAction::Finished(self.broken(breach, now));
                }
                for contact in &contacts {
                    self.ctx.start_request(*contact, now);
                    trace!(strategy = R::NAME, to = %contact.id, "request sent");
                }
                LookupAction::Send(contacts)
            }
            Step::Wait(rule_deadline) => {
                if let Err(breach) = contract::check_wait(rule_deadline, self.ctx.in_flight(), now)
                {
                    return LookupAction::Finished(self.broken(breach, now));
                }
                let deadline = match (rule_deadline, self.ctx.next_deadline()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                LookupAction::Wait(deadline)
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.ctx.in_flight()
    }

    fn parallelism(&self) -> usize {
        self.rule.parallelism()
    }

    fn stats(&self) -> LookupStats {
        self.ctx.stats
    }

    fn phase(&self) -> String {
        self.rule.phase(&self.ctx)
    }

    fn take_gave_up(&mut self) -> Vec<Contact> {
        self.ctx.take_gave_up()
    }

    fn path_of(&self, id: &NodeId) -> Option<usize> {
        self.rule.path_of(id)
    }
}
