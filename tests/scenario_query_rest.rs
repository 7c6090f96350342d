//! Scenarios for `query-rest`, the closest-unchanged / query-rest lookup
//! (docs/ALGORITHMS.md §2): rounds over the first α *positions* of the
//! shortlist, asking those not yet asked; a round waits for all its replies
//! (or its round timeout); failed nodes leave the shortlist; when a round
//! leaves shortlist\[0\] unchanged, one last round asks every position not
//! yet asked, and the first k of the shortlist are returned.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: α = 2, k = 4, 2 s request and round timeouts, every reply
//! takes 10 ms, and replies arrive in the order the requests were sent.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Net, Setup, ME,
};
use kadlab::lookup::{EndReason, StrategyName};

fn query_rest() -> Setup {
    Setup::new(StrategyName::QueryRest)
}

/// A walk that converges in two rounds, then queries the rest.
fn converging_net() -> Net {
    Net::new()
        .answers(20, &[10, 25])
        .answers(30, &[15, 35])
        .answers(10, &[12])
        .answers(15, &[])
        .answers(12, &[11])
        .answers(25, &[])
        .answers(35, &[])
}

#[test]
fn a_round_that_brings_nothing_closer_leads_to_one_round_over_every_position() {
    let trace = query_rest().run(&[20, 30, 40], &converging_net());

    // Round 1: the α = 2 closest of the table. Shortlist after it:
    //   [10, 15, 20, 25, 30, 35] — shortlist[0] changed (20 → 10).
    // Round 2: positions 0 and 1, 10 and 15. Shortlist after it:
    //   [10, 12, 15, 20, 25, 30, 35] — shortlist[0] is still 10: query rest.
    // Round 3: every position not yet asked, in shortlist order: 12, 25, 35.
    // 12 brings 11, closer than anything, but the query-rest round is the
    // last one whatever it brings.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![10, 15], vec![12, 25, 35]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    // The first k of the shortlist: 11 arrived in the last round and was
    // never asked; the seed returns it, and so does kadlab (rule 6).
    assert_eq!(trace.result(), vec![10, 11, 12, 15]);
    assert!(!trace.asked().contains(&11));
    assert_eq!(trace.finished_ms(), 30);
}

#[test]
fn a_round_sends_fewer_than_alpha_when_its_positions_were_already_asked() {
    let net = Net::new()
        .answers(20, &[10])
        .answers(30, &[])
        .answers(10, &[5, 25])
        .answers(5, &[])
        .answers(25, &[]);
    let trace = query_rest().run(&[20, 30], &net);

    // Round 1: 20, 30 → shortlist [10, 20, 30]; shortlist[0] changed.
    // Round 2: positions 0 and 1 are 10 and 20; 20 was asked → only 10.
    //   Shortlist [5, 10, 20, 25, 30]; shortlist[0] changed.
    // Round 3: positions 5 and 10; 10 was asked → only 5. Nothing closer.
    // Round 4 (query rest): every position; only 25 was never asked.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![10], vec![5], vec![25]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![5, 10, 20, 25]);
}

#[test]
fn rounds_that_send_nothing_end_at_once() {
    let net = Net::new().fails(20).answers(30, &[]);
    let trace = query_rest().run(&[20, 30], &net);

    // Round 1: 20 fails and leaves the shortlist, 30 answers with nothing:
    // shortlist [30], and shortlist[0] is no longer `closest` (20), so the
    // next round is an ordinary one. Round 2: position 0 is 30, already
    // asked: nothing sent, and shortlist[0] is now unchanged → query rest.
    // Round 3: every position, all asked: nothing sent → converged.
    assert_eq!(trace.batches, vec![vec![20, 30]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![30]);
    assert_eq!(trace.finished_ms(), 10);
}

#[test]
fn failed_and_timed_out_nodes_leave_the_shortlist() {
    let net = Net::new()
        .answers(20, &[10, 15])
        .answers(30, &[12])
        .fails(10)
        .silent(12)
        .answers(15, &[13])
        .answers(13, &[]);
    let trace = query_rest().run(&[20, 30], &net);

    // Round 1: 20, 30 → shortlist [10, 12, 15, 20, 30].
    // Round 2 (at 10 ms): 10 and 12. 10 answers with an error at 20 ms and
    //   leaves the shortlist; the round waits for 12 until its timeout
    //   (2010 ms), then 12 leaves too → shortlist [15, 20, 30]: changed.
    // Round 3: positions 15 and 20; only 15 was never asked. It brings 13.
    // Round 4: positions 13 and 15 → 13. Nothing closer → query rest.
    // Round 5: every position, all asked → converged.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![10, 12], vec![15], vec![13]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 2030);
    assert_eq!(trace.stats().failures, 2);
    // Neither 10 nor 12 is returned.
    assert_eq!(trace.result(), vec![13, 15, 20, 30]);
}

#[test]
fn kept_quirk_a_failed_node_named_again_by_a_reply_is_returned_but_not_asked() {
    let net = Net::new().fails(20).answers(30, &[20, 25]).answers(25, &[]);
    let trace = query_rest().run(&[20, 30], &net);

    // 20 fails and leaves the shortlist; 30's reply appends it again (the
    // seed checks only the shortlist) together with 25. shortlist[0] is 20
    // again, equal to `closest`: query rest. Round 2 asks 25 only — 20 is
    // never asked twice.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![25]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    // 20 answered with an error, yet it is returned (docs/ALGORITHMS.md keeps
    // the seed's behaviour; see the module docs of `query_rest`).
    assert_eq!(trace.result(), vec![20, 25, 30]);
}

#[test]
fn the_round_timeout_abandons_a_slow_node() {
    let net = Net::new()
        .answers(20, &[10])
        .answers(30, &[5])
        .delay(30, 1000) // slower than a round, faster than a request timeout
        .answers(10, &[15])
        .delay(10, 400)
        .answers(15, &[])
        .delay(15, 400);
    let trace = query_rest().round_timeout_ms(500).run(&[20, 30], &net);

    // Round 1 (0 ms): 20 answers at 10 ms; at 500 ms the round is over and
    //   30 is abandoned (a failure, out of the shortlist) though its own
    //   timeout is 2000 ms. Shortlist [10, 20]: changed.
    // Round 2 (500 ms): 10, answers at 900 ms with 15 → shortlist
    //   [10, 15, 20], unchanged → query rest.
    // Round 3 (900 ms): 15 (answers at 1300 ms) → converged.
    // 30's reply arrives at 1000 ms and is refused: 5 is never seen.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.ignored, vec![30]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 1300);
    assert_eq!(trace.stats().failures, 1);
    assert_eq!(trace.stats().ignored, 1);
    assert_eq!(trace.result(), vec![10, 15, 20]);
}

#[test]
fn repeats_and_the_local_node_in_replies_are_never_asked_or_returned() {
    let net = Net::new()
        .answers(20, &[10, 10, ME, 20, 30, 25])
        .answers(30, &[ME, 10])
        .answers(10, &[ME])
        .answers(25, &[]);
    let trace = query_rest().run(&[20, 30], &net);

    // Round 1 adds 10 and 25 once each → [10, 20, 25, 30]: changed.
    // Round 2: positions 10 and 20 → 10. Unchanged → query rest.
    // Round 3: every position not asked: 25.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![25]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 20, 25, 30]);
    assert!(!trace.asked().contains(&ME));
}

#[test]
fn an_empty_routing_table_ends_with_no_contacts() {
    assert_empty_table_ends_with_no_contacts(&query_rest());
}

#[test]
fn everything_failing_ends_exhausted() {
    let net = Net::new().fails(20).silent(30);
    let trace = query_rest().run(&[20, 30], &net);

    // Both leave the shortlist (30 at its timeout): nothing left.
    assert_eq!(trace.batches, vec![vec![20, 30]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert!(trace.result().is_empty());
    assert_eq!(trace.finished_ms(), 2000);
}

#[test]
fn replies_from_nodes_without_a_request_in_flight_change_nothing() {
    assert_stray_messages_change_nothing(&query_rest(), &[20, 30, 40], &converging_net());
}

#[test]
fn find_value_ends_at_the_first_value_that_verifies() {
    let value = b"kadlab scenario value";
    let net = Net::new()
        .answers(20, &[10])
        .answers_value(30, b"not the value", &[15])
        .answers_value(10, value, &[5])
        .answers(15, &[]);
    let trace = query_rest().find_value(value).run(&[20, 30], &net);

    // Round 1: 20, 30 (30's value does not verify: counted and ignored).
    // Shortlist [10, 15, 20, 30]. Round 2: 10 and 15; 10's value verifies
    // and ends the lookup before 15 answers.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10, 15]]);
    assert_eq!(trace.reason(), EndReason::ValueFound);
    assert_eq!(trace.outcome.value.as_deref(), Some(&value[..]));
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.finished_ms(), 20);
    assert_eq!(trace.result(), vec![5, 10, 15, 20]);
}

#[test]
fn find_value_without_a_value_keeps_the_query_rest_round() {
    // Deliberate deviation from the seed (module docs): FIND_VALUE makes
    // the same walk as FIND_NODE, query-rest round included.
    let find_node = query_rest().run(&[20, 30, 40], &converging_net());
    let find_value = query_rest()
        .find_value_mode()
        .run(&[20, 30, 40], &converging_net());

    assert_eq!(find_value.batches, find_node.batches);
    assert_eq!(find_value.batches.len(), 3);
    assert_eq!(find_value.reason(), EndReason::Converged);
    assert_eq!(find_value.result(), find_node.result());
    assert_eq!(find_value.outcome.value, None);
}
