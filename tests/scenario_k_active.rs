//! Scenarios for `k-active`, the shortlist-until-k-active lookup
//! (docs/ALGORITHMS.md §3). Phase 1 keeps α requests in flight, closest
//! first, and ends at the first reply that brings nothing closer (or when
//! nothing is in flight). Phase 2 keeps α in flight until k nodes have
//! answered. Only nodes that answered are returned.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: α = 2, k = 4, every reply takes 10 ms, and replies arrive
//! in the order the requests were sent.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Net, Setup, ME,
};
use kadlab::lookup::{EndReason, StrategyName};

fn k_active() -> Setup {
    Setup::new(StrategyName::KActive)
}

#[test]
fn after_a_reply_that_brings_nothing_closer_it_asks_on_until_k_answered() {
    let net = Net::new()
        .answers(20, &[25, 35]) // nothing closer than 20: phase 2
        .answers(30, &[40])
        .answers(25, &[])
        .answers(35, &[])
        .answers(40, &[]);
    let trace = k_active().run(&[20, 30, 40], &net);

    // The α = 2 closest of the table. 20's reply ends phase 1; in phase 2
    // each reply frees a slot, filled with the closest queued node: 25
    // (queue {25, 35}), then 35 (queue {35, 40}), then 40. When 35 answers,
    // k = 4 nodes have answered (20, 30, 25, 35): done, with 40 in flight.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![25], vec![35], vec![40]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![20, 25, 30, 35]);
    assert_eq!(trace.finished_ms(), 20);
}

#[test]
fn phase_one_ends_at_the_first_reply_bringing_nothing_closer_even_with_requests_in_flight() {
    let net = Net::new()
        .answers(20, &[10]) // closer: phase 1 goes on
        .answers(30, &[]) // nothing closer: phase 1 ends, 10 still in flight
        .answers(10, &[5]);
    let trace = k_active().k(2).run(&[20, 30], &net);

    // 20's reply brings 10, asked at once. 30's reply brings nothing
    // closer: phase 2 begins, and k = 2 nodes have answered, so the lookup
    // is over without waiting for 10.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 10);
    // 10 never answered: not returned, although it is the closest known.
    assert_eq!(trace.result(), vec![20, 30]);
}

#[test]
fn phase_one_goes_on_past_k_answers_while_replies_bring_closer_nodes() {
    // The same network, except that 30 now brings something closer.
    let net = Net::new()
        .answers(20, &[10])
        .answers(30, &[5])
        .answers(10, &[])
        .answers(5, &[]);
    let trace = k_active().k(2).run(&[20, 30], &net);

    // 20 → 10 (closer), 30 → 5 (closer): still phase 1, though k = 2 nodes
    // have answered, so 5 is asked. 10 brings nothing: phase 2, and with 3
    // answers the lookup is over (5 still in flight).
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![5]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 20]);
}

#[test]
fn a_failure_does_not_end_phase_one() {
    let net = Net::new()
        .answers(20, &[10, 15]) // closer: phase 1 goes on
        .fails(30)
        .answers(10, &[5]) // closer again
        .answers(15, &[]) // nothing closer: phase 1 ends
        .answers(5, &[]);
    let trace = k_active().k(2).run(&[20, 30], &net);

    // 20 brings 10 and 15 → 10 (one free slot). 30's error frees a slot →
    // 15; phase 1 goes on. 10 brings 5, closer: still phase 1 although
    // k = 2 nodes have answered → 5. 15 brings nothing closer: phase 2, and
    // with 3 answers the lookup is over. (Had the error ended phase 1, the
    // lookup would have stopped at 10's reply, before asking 5.)
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![10], vec![15], vec![5]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 15]);
}

#[test]
fn only_nodes_that_answered_are_returned() {
    let net = Net::new()
        .fails(20)
        .answers(30, &[10, 25])
        .answers(10, &[5])
        .silent(5)
        .answers(25, &[]);
    let trace = k_active().run(&[20, 30], &net);

    // 20 answers with an error; 30's reply then leaves nothing in flight,
    // which ends phase 1 although it brought 10, closer. Phase 2 tops up to
    // α: 10 and 25. 10 brings 5 → 5. With 3 answers of the 4 wanted and
    // nothing queued, the lookup waits for 5, which times out at
    // 20 + 2000 ms, and ends with nothing left to ask.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10, 25], vec![5]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 2020);
    assert_eq!(trace.stats().failures, 2);
    // 20 (error) and 5 (timeout), the closest known, are not returned.
    assert_eq!(trace.result(), vec![10, 25, 30]);
}

#[test]
fn phase_one_ends_when_nothing_is_in_flight() {
    let net = Net::new()
        .answers(20, &[10])
        .answers(10, &[5])
        .answers(5, &[]);
    let trace = k_active().alpha(1).k(2).run(&[20, 30], &net);

    // α = 1: the lookup starts from 20 alone. Its reply brings 10, closer,
    // but leaves nothing in flight, and that ends phase 1 (as in the seed,
    // whose phase-1 loop runs only while a request is out). Phase 2 asks
    // 10; with 2 answers it stops, so 5 is never asked.
    assert_eq!(trace.batches, vec![vec![20], vec![10]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 20]);
}

#[test]
fn repeats_and_the_local_node_in_replies_are_never_asked_or_returned() {
    let net = Net::new()
        .answers(20, &[10, 10, ME, 20, 30])
        .answers(30, &[ME, 10, 15])
        .answers(10, &[ME])
        .answers(15, &[]);
    let trace = k_active().run(&[20, 30], &net);

    // 20 brings 10 (closer; its repeat, the local node, 20 and 30 are not
    // new) → 10. 30 brings only 15 as new, not closer than 10: phase 2 → 15.
    // 10 and 15 answer: 4 answers.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 15, 20, 30]);
    assert!(!trace.asked().contains(&ME));
}

#[test]
fn an_empty_routing_table_ends_with_no_contacts() {
    assert_empty_table_ends_with_no_contacts(&k_active());
}

#[test]
fn replies_from_nodes_without_a_request_in_flight_change_nothing() {
    let net = Net::new()
        .answers(20, &[25, 35])
        .answers(30, &[40])
        .answers(25, &[])
        .answers(35, &[])
        .answers(40, &[]);
    assert_stray_messages_change_nothing(&k_active(), &[20, 30, 40], &net);
}

#[test]
fn find_value_ends_at_the_first_value_that_verifies() {
    let value = b"kadlab scenario value";
    let net = Net::new()
        .answers(20, &[10])
        .answers_value(30, b"not the value", &[15])
        .answers_value(10, value, &[5])
        .answers(15, &[]);
    let trace = k_active().find_value(value).run(&[20, 30], &net);

    // 20 brings 10 (closer) → 10. 30's value does not verify (counted,
    // ignored); its 15 is not closer: phase 2 → 15. 10's value verifies.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.reason(), EndReason::ValueFound);
    assert_eq!(trace.outcome.value.as_deref(), Some(&value[..]));
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.finished_ms(), 20);
    // The nodes that answered.
    assert_eq!(trace.result(), vec![10, 20, 30]);
}
