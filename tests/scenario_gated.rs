//! Scenarios for `gated`, kadlab's own lookup (docs/ALGORITHMS.md §6): α
//! requests in flight among the k closest known that are neither failed
//! nor suspect; stop when the β closest of them have answered; a request
//! unanswered past the hedge is suspect, so the next contact is asked
//! beside it and the suspect is given one more hedge before the lookup
//! stops without it; the result is the k closest of the contacts that
//! answered and those at least `vouches` answering nodes (or the routing
//! table, for a seed) reported, and, with `failed_vouches` set, failed
//! contacts that many answering nodes reported.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: α = 2, β = 2, k = 4, no hedge, one vouch, every reply
//! takes 10 ms, and replies arrive in the order the requests were sent.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Net, Setup,
};
use kadlab::lookup::{EndReason, StrategyName};
use kadlab::time::Time;

fn gated() -> Setup {
    Setup::new(StrategyName::Gated)
}

/// 20 names 5 and 6, which answer with nothing new; 30 answers empty.
fn closer_pair_net() -> Net {
    Net::new()
        .answers(20, &[5, 6])
        .answers(30, &[])
        .answers(5, &[])
        .answers(6, &[])
}

#[test]
fn the_lookup_stops_when_the_beta_closest_have_answered() {
    let trace = gated().run(&[20, 30, 40, 50], &closer_pair_net());

    // The α = 2 closest seeds go out. 20 brings 5 and 6, now the β = 2
    // closest: one slot is free, so 5 goes; 30's empty reply frees the
    // other, so 6 goes. When 5 and 6 have answered the lookup stops, with
    // 40 and 50 never asked: the gate only asks what could change the β
    // closest.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![5], vec![6]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![5, 6, 20, 30]);
    assert!(!trace.asked().contains(&40) && !trace.asked().contains(&50));
}

#[test]
fn with_fewer_than_beta_answering_it_ends_exhausted_with_them() {
    let net = Net::new().answers(20, &[]).fails(30);
    let trace = gated().beta(3).run(&[20, 30], &net);

    assert_eq!(trace.batches, vec![vec![20, 30]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.result(), vec![20]);
}

#[test]
fn an_unasked_contact_enters_the_result_only_when_vouched_for() {
    let net = Net::new().answers(20, &[5, 40]).answers(5, &[40, 45]);
    // α = 1, β = 1: 20, then 5, the closest once 20 named it; 5 answering
    // ends the lookup. 40 was named by both answering nodes, 45 by one, and
    // the seed 30 only by the routing table.
    let setup = gated().alpha(1).beta(1);
    let trace = setup.clone().vouches(2).run(&[20, 30], &net);
    assert_eq!(trace.batches, vec![vec![20], vec![5]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![5, 20, 40]);

    let trace = setup.vouches(1).run(&[20, 30], &net);
    assert_eq!(trace.batches, vec![vec![20], vec![5]]);
    assert_eq!(trace.result(), vec![5, 20, 30, 40]);
}

#[test]
fn a_failed_contact_enters_the_result_only_with_failed_vouches_and_enough_of_them() {
    // α = 1, β = 1: 20 names 5 and 6; 5, the closest, is asked and fails;
    // 6 is then the closest not failed, is asked, names 5 again and
    // answers, which ends the lookup. 5 failed, named by two answering
    // nodes.
    let net = Net::new().answers(20, &[5, 6]).fails(5).answers(6, &[5]);
    let setup = gated().alpha(1).beta(1);
    for (failed_vouches, result) in [
        (0, vec![6, 20, 30]),
        (3, vec![6, 20, 30]),
        (2, vec![5, 6, 20, 30]),
        (1, vec![5, 6, 20, 30]),
    ] {
        let trace = setup
            .clone()
            .failed_vouches(failed_vouches)
            .run(&[20, 30], &net);
        assert_eq!(trace.batches, vec![vec![20], vec![5], vec![6]]);
        assert_eq!(trace.reason(), EndReason::Converged);
        assert_eq!(trace.result(), result, "failed_vouches = {failed_vouches}");
    }
}

#[test]
fn a_silent_contact_is_hedged_and_costs_two_hedges_not_the_timeout() {
    let net = Net::new().silent(20).answers(30, &[]).answers(40, &[]);
    let setup = gated().alpha(1).hedge_ms(100);
    let mut driver = common::Driver::new(&setup, &[20, 30, 40], &net);

    // 20 goes alone (α = 1). At 100 ms it is suspect: it no longer counts
    // against α, so 30 goes beside it.
    driver.run_until(|d| d.batches.len() == 2);
    assert_eq!(driver.batches, vec![vec![20], vec![30]]);
    assert_eq!(driver.now, Time::from_millis(100));
    assert_eq!(driver.lookup.in_flight(), 2);
    assert_eq!(driver.lookup.parallelism(), 2);

    // 30 answers at 110 ms and 40 goes; 40 answers at 120 ms, and 30 and 40
    // are the β = 2 closest not suspect. 20 would enter the result if it
    // answered, so the lookup waits for it to 200 ms, two hedges after it
    // was asked, then stops without it: far sooner than its 2 s timeout.
    let trace = driver.run();
    assert_eq!(trace.batches, vec![vec![20], vec![30], vec![40]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 200);
    assert_eq!(trace.result(), vec![30, 40]);
}

#[test]
fn a_slow_contact_that_answers_within_the_grace_is_in_the_result() {
    let net = Net::new()
        .answers(20, &[])
        .delay(20, 150)
        .answers(30, &[])
        .answers(40, &[]);
    let trace = gated().alpha(1).hedge_ms(100).run(&[20, 30, 40], &net);

    // As above, but 20 answers at 150 ms, inside its grace: it becomes one
    // of the β = 2 closest that answered, and the lookup stops then.
    assert_eq!(trace.batches, vec![vec![20], vec![30], vec![40]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 150);
    assert_eq!(trace.result(), vec![20, 30, 40]);
}

#[test]
fn without_a_hedge_a_silent_contact_is_waited_for_until_it_times_out() {
    let net = Net::new().silent(20).answers(30, &[]).answers(40, &[]);
    let trace = gated().alpha(1).run(&[20, 30, 40], &net);

    // α = 1 and no hedge: 20 holds the only slot until its 2 s timeout.
    assert_eq!(trace.batches, vec![vec![20], vec![30], vec![40]]);
    assert_eq!(trace.finished_ms(), 2_020);
    assert_eq!(trace.result(), vec![30, 40]);
}

#[test]
fn an_empty_table_ends_at_once_with_no_contacts() {
    assert_empty_table_ends_with_no_contacts(&gated());
}

#[test]
fn stray_messages_change_nothing() {
    assert_stray_messages_change_nothing(&gated(), &[20, 30, 40, 50], &closer_pair_net());
}
