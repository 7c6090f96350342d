//! Scenarios for `delta`, the delta-bounded best-effort lookup
//! (docs/ALGORITHMS.md §1): δ requests in flight, always to the closest
//! contact seen and not yet asked; stop when nothing is left to ask or the
//! budget is spent; return the k closest of everything *seen*, answered or
//! not.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: δ = 2, k = 4, no budget, every reply takes 10 ms, and
//! replies arrive in the order the requests were sent.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Net, Setup, ME,
};
use kadlab::lookup::{Budget, EndReason, StrategyName};

fn delta() -> Setup {
    Setup::new(StrategyName::Delta)
}

#[test]
fn keeps_asking_after_a_reply_brings_nothing_closer_until_the_frontier_is_empty() {
    let net = Net::new()
        .answers(20, &[10, 25])
        .answers(30, &[50, 60]) // nothing closer than what is known
        .answers(10, &[])
        .answers(25, &[])
        .answers(50, &[70])
        .answers(60, &[])
        .answers(70, &[]);
    let trace = delta().run(&[20, 30, 40], &net);

    // The δ = 2 closest of the table (40 is never seen). Then each reply
    // frees one slot, filled with the closest frontier contact at that
    // moment: after 20's reply the frontier is {10, 25} → 10; after 30's it
    // is {25, 50, 60} → 25; then 50, then 60 (30's reply brought nothing
    // closer, yet delta goes on), then 70 (from 50's reply).
    assert_eq!(
        trace.batches,
        vec![
            vec![20, 30],
            vec![10],
            vec![25],
            vec![50],
            vec![60],
            vec![70]
        ]
    );
    // No budget: it stops only when the frontier is empty.
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.result(), vec![10, 20, 25, 30]);
    assert_eq!(trace.stats().requests, 7);
    assert_eq!(trace.stats().responses, 7);
}

#[test]
fn budget_reached_ends_with_budget_spent_and_returns_nodes_never_asked() {
    let net = Net::new()
        .answers(20, &[10, 25])
        .answers(30, &[15])
        .answers(10, &[5]);
    let trace = delta().budget(Budget::Requests(3)).run(&[20, 30], &net);

    // 20 and 30; 20's reply frees a slot and one request of the budget is
    // left: 10, the closest seen. 30's reply frees a slot, but the budget
    // is spent, so the lookup only waits for 10.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10]]);
    assert_eq!(trace.reason(), EndReason::BudgetSpent);
    assert_eq!(trace.stats().requests, 3);
    // The k closest of everything seen: 5 and 15 were never asked.
    assert_eq!(trace.result(), vec![5, 10, 15, 20]);
}

#[test]
fn budget_equal_to_what_the_walk_needs_ends_exhausted() {
    let net = Net::new()
        .answers(20, &[10])
        .answers(30, &[])
        .answers(10, &[]);
    let trace = delta().budget(Budget::Requests(3)).run(&[20, 30], &net);

    // The third request empties the frontier: nothing was left unasked, so
    // the budget did not cut the walk short.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.result(), vec![10, 20, 30]);
}

#[test]
fn failed_and_timed_out_nodes_are_still_returned() {
    let net = Net::new()
        .fails(20)
        .answers(30, &[10, 15])
        .silent(10)
        .answers(15, &[12])
        .answers(12, &[]);
    let trace = delta().run(&[20, 30], &net);

    // 20's error frees a slot but the frontier is empty; 30's reply brings
    // 10 and 15, both asked at once (two free slots). 15's reply brings 12.
    // 10 never answers: the lookup waits for its timeout, sent at 10 ms, so
    // it ends at 2010 ms.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10, 15], vec![12]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 10 + 2000);
    assert_eq!(trace.stats().failures, 2);
    assert_eq!(trace.stats().responses, 3);
    // Rule 5: 10 (timed out) and 20 (error) are returned all the same.
    assert_eq!(trace.result(), vec![10, 12, 15, 20]);
}

#[test]
fn repeats_and_the_local_node_in_replies_are_never_asked_or_returned() {
    let net = Net::new()
        .answers(20, &[10, 10, ME, 20, 30])
        .answers(30, &[ME, 10, 25])
        .answers(10, &[ME])
        .answers(25, &[]);
    let trace = delta().run(&[20, 30], &net);

    // 20's reply adds only 10 (its repeat, the local node, 20 itself and 30
    // are not new) → 10. 30's reply adds only 25 → 25. Nothing else is new.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![25]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.result(), vec![10, 20, 25, 30]);
    assert!(!trace.asked().contains(&ME));
}

#[test]
fn an_oversized_reply_is_cut_to_its_k_closest_contacts() {
    let net = Net::new()
        .answers(20, &[60, 50, 40, 10, 15, 25]) // six contacts, k = 4
        .answers(30, &[])
        .answers(10, &[])
        .answers(15, &[])
        .answers(25, &[])
        .answers(40, &[]);
    let trace = delta().run(&[20, 30], &net);

    // The lookup keeps only the k = 4 closest of 20's reply (10, 15, 25,
    // 40): 50 and 60 are never seen. Each reply frees a slot for the
    // closest frontier contact: 10, 15, 25, 40.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![10], vec![15], vec![25], vec![40]]
    );
    assert_eq!(trace.stats().truncated_replies, 1);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.result(), vec![10, 15, 20, 25]);
}

#[test]
fn an_empty_routing_table_ends_with_no_contacts() {
    assert_empty_table_ends_with_no_contacts(&delta());
}

#[test]
fn a_reply_after_the_timeout_is_ignored() {
    let net = Net::new()
        .answers(20, &[10])
        .answers(30, &[5])
        .delay(30, 2500) // answers 500 ms after its request timed out
        .answers(10, &[15])
        .delay(10, 1900)
        .answers(15, &[])
        .delay(15, 1000);
    let trace = delta().run(&[20, 30], &net);

    // 20 answers at 10 ms → 10 (answers at 1910 ms) → 15 (answers at
    // 2910 ms). 30 times out at 2000 ms; its reply at 2500 ms is refused, so
    // 5, which only 30 knew, is never seen.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.ignored, vec![30]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 2910);
    assert_eq!(trace.stats().failures, 1);
    assert_eq!(trace.stats().ignored, 1);
    // 30 timed out but was seen, so it is returned (rule 5); 5 is not.
    assert_eq!(trace.result(), vec![10, 15, 20, 30]);
}

#[test]
fn replies_from_nodes_without_a_request_in_flight_change_nothing() {
    let net = Net::new()
        .answers(20, &[10, 25])
        .answers(30, &[15])
        .answers(10, &[])
        .answers(25, &[])
        .answers(15, &[]);
    assert_stray_messages_change_nothing(&delta(), &[20, 30], &net);
}

#[test]
fn find_value_ends_at_the_first_value_that_verifies() {
    let value = b"kadlab scenario value";
    let net = Net::new()
        .answers(20, &[10])
        .answers_value(30, b"not the value", &[15])
        .answers_value(10, value, &[5])
        .answers(15, &[]);
    let trace = delta().find_value(value).run(&[20, 30], &net);

    // The same walk as FIND_NODE: 20 → 10, then 30 → 15. 30's value does
    // not hash to the target: counted, ignored, the walk goes on. 10's
    // value verifies: the lookup ends at once (15 is still in flight).
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.reason(), EndReason::ValueFound);
    assert_eq!(trace.outcome.value.as_deref(), Some(&value[..]));
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.finished_ms(), 20);
    // Everything seen, including 5 from the reply that carried the value.
    assert_eq!(trace.result(), vec![5, 10, 15, 20]);
}

#[test]
fn find_value_with_only_a_bad_value_walks_to_the_end() {
    let value = b"kadlab scenario value";
    let net = Net::new()
        .answers_value(20, b"forged", &[10])
        .answers(30, &[])
        .answers(10, &[]);
    let trace = delta().find_value(value).run(&[20, 30], &net);

    assert_eq!(trace.batches, vec![vec![20, 30], vec![10]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.outcome.value, None);
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.result(), vec![10, 20, 30]);
}
