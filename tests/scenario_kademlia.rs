//! Scenarios for `kademlia`, the paper's rule (docs/ALGORITHMS.md §4): α
//! requests in flight among the k closest known contacts not yet asked
//! (failed ones dropped from that window); after α replies in a row that
//! bring nothing closer than the best seen, widen to all not-yet-asked of
//! the k closest, for good (a closer contact later does not narrow it back
//! to α); finish when the k closest known have all answered, and return
//! them.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: α = 2, k = 4, every reply takes 10 ms, and replies arrive
//! in the order the requests were sent.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Driver, Net,
    Setup, ME,
};
use kadlab::lookup::{EndReason, StrategyName};

fn kademlia() -> Setup {
    Setup::new(StrategyName::Kademlia)
}

/// Every reply brings only farther nodes.
fn no_progress_net() -> Net {
    Net::new()
        .answers(20, &[40, 50])
        .answers(30, &[60, 70])
        .answers(40, &[])
        .answers(50, &[])
        .answers(60, &[])
}

#[test]
fn alpha_replies_without_progress_widen_to_all_of_the_k_closest() {
    let trace = kademlia().k(5).run(&[20, 30, 40], &no_progress_net());

    // The α = 2 closest of the table. 20's reply (40, 50) brings nothing
    // closer than 20: one free slot, the closest not asked → 40. 30's reply
    // (60, 70) is the second in a row without progress: widen. The window
    // (k = 5 closest) is 20, 30, 40, 50, 60; every one not asked goes out
    // at once → 50 and 60 (three in flight, more than α). 70 is outside
    // the window and never asked.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![40], vec![50, 60]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![20, 30, 40, 50, 60]);
    assert!(!trace.asked().contains(&70));
}

#[test]
fn the_widened_stage_allows_up_to_k_in_flight() {
    let setup = kademlia().k(5);
    let net = no_progress_net();
    let mut driver = Driver::new(&setup, &[20, 30, 40], &net);
    assert_eq!(driver.lookup.parallelism(), 2);

    driver.run_until(|d| d.batches.len() == 3);
    assert_eq!(driver.batches[2], vec![50, 60]);
    assert_eq!(driver.lookup.parallelism(), 5);
    assert_eq!(driver.lookup.in_flight(), 3);
}

#[test]
fn widening_is_final_a_closer_reply_does_not_narrow_back_to_alpha() {
    let net = no_progress_net()
        .answers(40, &[5, 6, 7])
        .answers(5, &[])
        .answers(6, &[])
        .answers(7, &[]);
    let setup = kademlia().k(5);
    let trace = setup.run(&[20, 30, 40], &net);

    // As in the first test up to the widening: 50 and 60 go out at 10 ms.
    // At 20 ms 40 answers first, with 5, 6 and 7, all closer than the best
    // so far: progress. The window is now 5, 6, 7, 20, 30 and the lookup
    // stays wide, so all three go out at once beside 50 and 60 (five in
    // flight). A rule that narrowed back to α = 2 on progress would send
    // nothing then (50 and 60 fill both slots), and 5, 6 and 7 one at a
    // time as 50, 60 and 5 answer: batches [5], [6], [7], ending at 40 ms.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![40], vec![50, 60], vec![5, 6, 7]]
    );
    // 5, 6 and 7 answer at 30 ms with nothing: the window has all
    // answered.
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 30);
    // 50 and 60 answered but are no longer among the k closest.
    assert_eq!(trace.result(), vec![5, 6, 7, 20, 30]);

    let mut driver = Driver::new(&setup, &[20, 30, 40], &net);
    driver.run_until(|d| d.batches.len() == 4);
    assert_eq!(driver.lookup.in_flight(), 5);
    assert_eq!(driver.lookup.parallelism(), 5);
}

#[test]
fn failed_contacts_are_dropped_from_the_window() {
    let net = Net::new()
        .fails(20)
        .answers(30, &[40, 50, 60, 70])
        .answers(40, &[])
        .silent(50)
        .answers(60, &[])
        .answers(70, &[]);
    let trace = kademlia().run(&[20, 30], &net);

    // 20 answers with an error and leaves the window. 30's reply brings
    // nothing closer than the best seen (20): 40 and 50, the closest not
    // asked. 40's reply is the second without progress: widen; the window
    // of k = 4 is 30, 40, 50, 60 → 60. 50 times out at 10 + 2000 ms and
    // leaves the window, which now reaches 70 → 70.
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![40, 50], vec![60], vec![70]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 2020);
    assert_eq!(trace.stats().failures, 2);
    // The k closest that answered; 20 and 50 are not among them.
    assert_eq!(trace.result(), vec![30, 40, 60, 70]);
}

#[test]
fn fewer_than_k_reachable_nodes_ends_exhausted() {
    let net = Net::new().answers(20, &[25]).answers(30, &[]).silent(25);
    let trace = kademlia().run(&[20, 30], &net);

    assert_eq!(trace.batches, vec![vec![20, 30], vec![25]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 2010);
    assert_eq!(trace.result(), vec![20, 30]);
}

#[test]
fn repeats_and_the_local_node_in_replies_are_never_asked_or_returned() {
    let net = Net::new()
        .answers(20, &[10, 10, ME, 20, 30])
        .answers(30, &[ME, 10, 15])
        .answers(10, &[ME])
        .answers(15, &[]);
    let trace = kademlia().run(&[20, 30], &net);

    // 20 brings 10 (closer; its repeat, the local node, 20 and 30 are not
    // new) → 10. 30 brings only 15 as new, not closer than 10 → 15. The
    // window 10, 15, 20, 30 then answers completely.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 15, 20, 30]);
    assert!(!trace.asked().contains(&ME));
}

#[test]
fn an_empty_routing_table_ends_with_no_contacts() {
    assert_empty_table_ends_with_no_contacts(&kademlia());
}

#[test]
fn replies_from_nodes_without_a_request_in_flight_change_nothing() {
    assert_stray_messages_change_nothing(&kademlia().k(5), &[20, 30, 40], &no_progress_net());
}

#[test]
fn find_value_ends_at_the_first_value_that_verifies() {
    let value = b"kadlab scenario value";
    let net = Net::new()
        .answers(20, &[10])
        .answers_value(30, b"not the value", &[15])
        .answers_value(10, value, &[5])
        .answers(15, &[]);
    let trace = kademlia().find_value(value).run(&[20, 30], &net);

    // 20 brings 10 (closer) → 10. 30's value does not verify (counted,
    // ignored); it brings 15 → 15. 10's value verifies: done.
    assert_eq!(trace.batches, vec![vec![20, 30], vec![10], vec![15]]);
    assert_eq!(trace.reason(), EndReason::ValueFound);
    assert_eq!(trace.outcome.value.as_deref(), Some(&value[..]));
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.finished_ms(), 20);
    // Those that answered.
    assert_eq!(trace.result(), vec![10, 20, 30]);
}
