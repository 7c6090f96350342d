//! The contract every strategy keeps, and what happens when one breaks it.
//!
//! A driver can only trust a strategy that keeps three promises: every
//! `Send` names contacts never asked before in this lookup (and never the
//! local node); a `Wait` is only returned while a request is in flight, and
//! never for a moment already past; the result holds only contacts the
//! lookup heard of. Together they make every lookup end: each wait ends at
//! a request's deadline at the latest, and a finite network has finitely
//! many contacts to ask.
//!
//! A strategy written outside this crate can get them wrong. Rather than
//! spin (a `Send` that sends nothing, a deadline in the past) or hang (a
//! `Wait(None)` with nothing that could ever wake it), the lookup ends at
//! once with [`EndReason::ContractBroken`](crate::lookup::EndReason) and the
//! [`Breach`] in its outcome, so the record is counted like any other. Both
//! [`Lookup`](crate::lookup::Lookup) and the shared driver
//! ([`crate::driver::run_lookup`], for strategies that implement
//! [`LookupStrategy`](crate::lookup::LookupStrategy) directly) apply the
//! checks below; they are written once, here.

use std::fmt;

use serde::Serialize;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::time::Time;

/// Which promise a strategy broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Breach {
    /// A `Send` with no contact in it: the driver would poll again at once,
    /// forever.
    EmptySend,
    /// A `Send` to a contact already asked in this lookup (or named twice in
    /// one batch): it would be believed in flight and never answered.
    AskedTwice,
    /// A `Send` to the local node.
    AskedSelf,
    /// A `Wait` with no request in flight: nothing is left that could end
    /// it but the strategy's own timer, which a lookup must not depend on.
    WaitedForNothing,
    /// A `Wait` for a deadline at or before now: the driver would wake at
    /// once, forever, without the clock moving.
    WaitedForPast,
    /// The result holds a contact the lookup never heard of (not a seed, not
    /// in any reply).
    UnknownResult,
    /// The result is not sorted by distance, holds a contact twice, or holds
    /// the local node.
    BadResult,
}

impl Breach {
    /// What was broken, in words, for reports and logs.
    pub fn describe(self) -> &'static str {
        match self {
            Breach::EmptySend => "sent to no contact",
            Breach::AskedTwice => "asked a contact already asked",
            Breach::AskedSelf => "asked the local node",
            Breach::WaitedForNothing => "waited with no request in flight",
            Breach::WaitedForPast => "waited for a deadline already past",
            Breach::UnknownResult => "returned a contact it never heard of",
            Breach::BadResult => "returned an unsorted or repeated result, or the local node",
        }
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Check a batch to send: not empty, no local node, nothing asked before
/// (`asked`) and nothing named twice.
pub fn check_send(
    contacts: &[Contact],
    local: &NodeId,
    asked: impl Fn(&NodeId) -> bool,
) -> Result<(), Breach> {
    if contacts.is_empty() {
        return Err(Breach::EmptySend);
    }
    for (i, c) in contacts.iter().enumerate() {
        if c.id == *local {
            return Err(Breach::AskedSelf);
        }
        if asked(&c.id) || contacts[..i].iter().any(|d| d.id == c.id) {
            return Err(Breach::AskedTwice);
        }
    }
    Ok(())
}

/// Check a wait: something in flight, and a deadline (if any) after `now`.
pub fn check_wait(deadline: Option<Time>, in_flight: usize, now: Time) -> Result<(), Breach> {
    if in_flight == 0 {
        return Err(Breach::WaitedForNothing);
    }
    match deadline {
        Some(d) if d <= now => Err(Breach::WaitedForPast),
        _ => Ok(()),
    }
}

/// Check a result: sorted by distance to `target`, distinct, without the
/// local node, and made only of contacts the lookup `heard_of`.
pub fn check_result(
    result: &[Contact],
    target: &NodeId,
    local: &NodeId,
    heard_of: impl Fn(&NodeId) -> bool,
) -> Result<(), Breach> {
    let sorted = result
        .windows(2)
        .all(|w| (w[0].id.distance(target), w[0].id) < (w[1].id.distance(target), w[1].id));
    if !sorted || result.iter().any(|c| c.id == *local) {
        return Err(Breach::BadResult);
    }
    if result.iter().any(|c| !heard_of(&c.id)) {
        return Err(Breach::UnknownResult);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(n: u8) -> Contact {
        Contact::simulated(NodeId::from_sha1(&[n]), u32::from(n))
    }

    #[test]
    fn a_send_is_refused_for_each_broken_promise() {
        let local = NodeId::from_sha1(b"local");
        let me = Contact::simulated(local, 0);
        let (a, b) = (contact(1), contact(2));
        let never = |_: &NodeId| false;
        assert_eq!(check_send(&[], &local, never), Err(Breach::EmptySend));
        assert_eq!(check_send(&[a, me], &local, never), Err(Breach::AskedSelf));
        assert_eq!(
            check_send(&[a, b, a], &local, never),
            Err(Breach::AskedTwice)
        );
        assert_eq!(
            check_send(&[a, b], &local, |id| *id == b.id),
            Err(Breach::AskedTwice)
        );
        assert_eq!(check_send(&[a, b], &local, never), Ok(()));
    }

    #[test]
    fn a_wait_needs_a_request_in_flight_and_a_future_deadline() {
        let now = Time::from_millis(100);
        assert_eq!(check_wait(None, 0, now), Err(Breach::WaitedForNothing));
        assert_eq!(
            check_wait(Some(Time::from_millis(200)), 0, now),
            Err(Breach::WaitedForNothing)
        );
        assert_eq!(check_wait(Some(now), 1, now), Err(Breach::WaitedForPast));
        assert_eq!(check_wait(None, 1, now), Ok(()));
        assert_eq!(check_wait(Some(Time::from_millis(101)), 1, now), Ok(()));
    }

    #[test]
    fn a_result_must_be_sorted_distinct_known_and_not_local() {
        let target = NodeId::from_sha1(b"target");
        let local = NodeId::from_sha1(b"local");
        let mut sorted: Vec<Contact> = (1..=4).map(contact).collect();
        sorted.sort_by_key(|c| c.id.distance(&target));
        let all = |_: &NodeId| true;
        assert_eq!(check_result(&sorted, &target, &local, all), Ok(()));
        let mut reversed = sorted.clone();
        reversed.reverse();
        assert_eq!(
            check_result(&reversed, &target, &local, all),
            Err(Breach::BadResult)
        );
        let repeated = [sorted[0], sorted[0]];
        assert_eq!(
            check_result(&repeated, &target, &local, all),
            Err(Breach::BadResult)
        );
        let with_local = [Contact::simulated(local, 9)];
        assert_eq!(
            check_result(&with_local, &target, &local, all),
            Err(Breach::BadResult)
        );
        let first = sorted[0].id;
        assert_eq!(
            check_result(&sorted, &target, &local, |id| *id == first),
            Err(Breach::UnknownResult)
        );
    }
}
