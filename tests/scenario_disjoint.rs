//! Scenarios for `disjoint`, S/Kademlia's d disjoint paths
//! (docs/ALGORITHMS.md §5): the k closest routing-table contacts are dealt
//! round-robin to d paths (contact i, closest first, to path i mod d); each
//! path runs the paper's rule (`kademlia`) with its own shortlist and its
//! own α in flight; a node is used by at most one path, the first to claim
//! it (on learning of it); the lookup ends when every path has ended, and
//! returns the k closest nodes that answered, over all paths.
//!
//! Node `n` is at distance `n` from the target (see `common`). Unless a test
//! says otherwise: α = 2, k = 4, d = 2 paths, every reply takes 10 ms, and
//! replies arrive in the order the requests were sent. One poll asks every
//! path in order, so a batch lists path 0's contacts (closest first), then
//! path 1's, and so on.

mod common;

use common::{
    assert_empty_table_ends_with_no_contacts, assert_stray_messages_change_nothing, Driver, Net,
    Setup, Trace,
};
use kadlab::lookup::disjoint::{Disjoint, DisjointParams};
use kadlab::lookup::kademlia::{Kademlia, KademliaParams, PeerState};
use kadlab::lookup::{EndReason, Lookup, LookupAction, LookupStrategy, StrategyName};
use kadlab::time::Time;

fn disjoint() -> Setup {
    Setup::new(StrategyName::Disjoint)
}

fn kademlia() -> Setup {
    Setup::new(StrategyName::Kademlia)
}

/// The lookup `setup.start(table)` starts, with its concrete type, so that
/// a test can look at the paths.
fn start_disjoint(setup: &Setup, table: &[u32]) -> Box<Lookup<Disjoint>> {
    let seeds = setup.seed_contacts(table);
    let params = DisjointParams {
        alpha: setup.config.alpha,
        paths: setup.config.paths,
    };
    let rule = Disjoint::new(params, setup.config.k, setup.ids.target, &seeds);
    Box::new(Lookup::new(setup.spec(), &seeds, rule))
}

/// Run `setup` from `table` over `net`, and return the trace and the
/// finished lookup. Checks on the way that it is the lookup the
/// configuration starts (same batches, same outcome).
fn run_inspected(setup: &Setup, table: &[u32], net: &Net) -> (Trace, Box<Lookup<Disjoint>>) {
    let mut driver = Driver::with_lookup(setup, start_disjoint(setup, table), net);
    let trace = driver.run();
    let configured = setup.run(table, net);
    assert_eq!(trace.batches, configured.batches);
    assert_eq!(trace.outcome, configured.outcome);
    (trace, driver.lookup)
}

/// Path `p`'s shortlist, as node numbers (closest first).
fn shortlist(setup: &Setup, lookup: &Lookup<Disjoint>, p: usize) -> Vec<u32> {
    lookup.rule().paths()[p]
        .shortlist()
        .map(|(c, _)| setup.ids.number(&c.id))
        .collect()
}

/// Path `p`'s nodes that answered (closest first).
fn responders(setup: &Setup, lookup: &Lookup<Disjoint>, p: usize) -> Vec<u32> {
    lookup.rule().paths()[p]
        .shortlist()
        .filter(|(_, s)| *s == PeerState::Succeeded)
        .map(|(c, _)| setup.ids.number(&c.id))
        .collect()
}

/// The path that owns node `n`.
fn owner(setup: &Setup, lookup: &Lookup<Disjoint>, n: u32) -> Option<usize> {
    lookup.rule().owner(&setup.ids.id(n))
}

/// Every node answers `nodes`.
fn all_answer(nodes: &[u32], with: &[u32]) -> Net {
    nodes
        .iter()
        .fold(Net::new(), |net, &n| net.answers(n, with))
}

#[test]
fn seeds_are_dealt_round_robin_and_each_path_sends_its_own_alpha_batch() {
    let setup = disjoint().k(5);
    let table = [10, 20, 30, 40, 50, 60, 70];
    let net = all_answer(&table, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // The k = 5 closest of the table, dealt closest first: 10 → path 0,
    // 20 → 1, 30 → 0, 40 → 1, 50 → 0. 60 and 70 are not dealt. Each path
    // sends its α = 2 closest: path 0 10 and 30, path 1 20 and 40 (four in
    // flight, α per path). 10's reply brings nothing: path 0 has one free
    // slot → 50. Then 30, 20, 40 and 50 answer with nothing new: each path
    // has asked all it knows, fewer than k, and ends Exhausted; together
    // they found k = 5 answering nodes, so the lookup converged.
    assert_eq!(trace.batches, vec![vec![10, 30, 20, 40], vec![50]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 20, 30, 40, 50]);
    assert_eq!(trace.finished_ms(), 20);
    assert_eq!(shortlist(&setup, &lookup, 0), vec![10, 30, 50]);
    assert_eq!(shortlist(&setup, &lookup, 1), vec![20, 40]);
    for (n, p) in [(10, 0), (20, 1), (30, 0), (40, 1), (50, 0)] {
        assert_eq!(owner(&setup, &lookup, n), Some(p), "node {n}");
    }
    assert_eq!(owner(&setup, &lookup, 60), None);
    assert_eq!(
        lookup.rule().ended(),
        &[Some(EndReason::Exhausted), Some(EndReason::Exhausted)]
    );
}

#[test]
fn the_first_batch_has_alpha_in_flight_per_path() {
    let setup = disjoint().k(5);
    let table = [10, 20, 30, 40, 50];
    let net = all_answer(&table, &[]);
    let mut driver = Driver::new(&setup, &table, &net);

    driver.run_until(|d| !d.batches.is_empty());
    assert_eq!(driver.batches[0], vec![10, 30, 20, 40]);
    assert_eq!(driver.lookup.in_flight(), 4);
    // d × α while no path has widened.
    assert_eq!(driver.lookup.parallelism(), 4);
}

#[test]
fn three_paths_with_alpha_one() {
    let setup = disjoint().k(6).paths(3).alpha(1);
    let table = [10, 20, 30, 40, 50, 60, 70];
    let net = all_answer(&table, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // 10, 40 → path 0; 20, 50 → path 1; 30, 60 → path 2 (70 is not among
    // the k = 6 closest). One request per path: 10, 20, 30. Each reply
    // brings nothing (α = 1 reply without progress: the path widens) and
    // its path asks its other contact, one batch per reply.
    assert_eq!(
        trace.batches,
        vec![vec![10, 20, 30], vec![40], vec![50], vec![60]]
    );
    // Every path ends Exhausted with two nodes; together they have k = 6.
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![10, 20, 30, 40, 50, 60]);
    assert_eq!(shortlist(&setup, &lookup, 0), vec![10, 40]);
    assert_eq!(shortlist(&setup, &lookup, 1), vec![20, 50]);
    assert_eq!(shortlist(&setup, &lookup, 2), vec![30, 60]);
}

#[test]
fn a_node_returned_to_two_paths_is_used_only_by_the_first_to_claim_it() {
    let setup = disjoint();
    let table = [10, 20, 30, 40];
    let net = Net::new()
        .answers(10, &[5])
        .answers(30, &[])
        .answers(20, &[5, 7, 10, 30])
        .answers(40, &[])
        .answers(5, &[])
        .answers(7, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // Path 0 (10, 30) and path 1 (20, 40). 10's reply brings 5 to path 0,
    // which claims and asks it. 20's reply brings 5 again, and 10 and 30,
    // all path 0's: path 1 keeps only 7, and asks it. 30 and 40 bring
    // nothing; 5 and 7 bring nothing: each path has asked all it holds,
    // three each, fewer than k: each ends Exhausted, but together they
    // found k = 4 answering nodes → Converged.
    assert_eq!(trace.batches, vec![vec![10, 30, 20, 40], vec![5], vec![7]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.result(), vec![5, 7, 10, 20]);
    assert_eq!(trace.asked().iter().filter(|&&n| n == 5).count(), 1);
    assert_eq!(owner(&setup, &lookup, 5), Some(0));
    assert_eq!(owner(&setup, &lookup, 7), Some(1));
    // Path 1 never added what path 0 had claimed.
    assert_eq!(shortlist(&setup, &lookup, 0), vec![5, 10, 30]);
    assert_eq!(shortlist(&setup, &lookup, 1), vec![7, 20, 40]);
}

#[test]
fn the_first_to_claim_is_the_first_to_hear_not_the_lowest_path() {
    let setup = disjoint();
    let table = [10, 20, 30, 40];
    let net = Net::new()
        .answers(10, &[5])
        .delay(10, 50)
        .answers(30, &[])
        .answers(20, &[5, 7, 10, 30])
        .answers(40, &[])
        .answers(5, &[])
        .answers(7, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // 10 is slow (50 ms). 20's reply comes first and path 1 claims 5 and 7:
    // it asks 5 (its second slot), then 7 when 40 has answered. 5 and 7
    // bring nothing; path 1's window 5, 7, 20, 40 has answered: Converged.
    // At 50 ms 10 brings 5, path 1's: path 0 ignores it and ends with 10
    // and 30 (Exhausted). One path converged: the lookup converged.
    assert_eq!(trace.batches, vec![vec![10, 30, 20, 40], vec![5], vec![7]]);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 50);
    assert_eq!(trace.result(), vec![5, 7, 10, 20]);
    assert_eq!(owner(&setup, &lookup, 5), Some(1));
    assert_eq!(shortlist(&setup, &lookup, 0), vec![10, 30]);
    assert_eq!(shortlist(&setup, &lookup, 1), vec![5, 7, 20, 40]);
    assert_eq!(
        lookup.rule().ended(),
        &[Some(EndReason::Exhausted), Some(EndReason::Converged)]
    );
}

/// Path 0 (10, 30) meets a silent node and an error; path 1 (20, 40) has
/// everything it needs.
fn one_bad_path_net() -> Net {
    Net::new()
        .silent(10)
        .fails(30)
        .answers(20, &[25, 27])
        .answers(40, &[])
        .answers(25, &[])
        .answers(27, &[])
}

#[test]
fn one_paths_failures_do_not_hold_up_the_others() {
    let setup = disjoint();
    let table = [10, 20, 30, 40];
    let net = one_bad_path_net();

    // 30 fails at once; 10 stays silent. Meanwhile path 1 goes on: 20
    // brings 25 and 27 (nothing closer than 20) → 25; 40 brings nothing,
    // the second reply without progress: widen → 27. By 20 ms path 1's
    // window 20, 25, 27, 40 has answered: it converged, with path 0 still
    // waiting for 10; the lookup waits for 10's deadline.
    let mut driver = Driver::with_lookup(&setup, start_disjoint(&setup, &table), &net);
    driver.run_until(|d| d.delivered.last() == Some(&27));
    assert_eq!(driver.now.as_millis(), 20);
    assert_eq!(
        driver.lookup.poll(driver.now),
        LookupAction::Wait(Some(Time::from_millis(2000)))
    );
    assert_eq!(
        driver.lookup.rule().ended(),
        &[None, Some(EndReason::Converged)]
    );
    assert_eq!(driver.lookup.in_flight(), 1);
    assert_eq!(driver.lookup.rule().paths()[0].waiting(), 1);

    // The lookup ends only when path 0 has: 10 times out at 2000 ms, and
    // path 0, left with no contact, ends Exhausted.
    let trace = driver.run();
    assert_eq!(
        trace.batches,
        vec![vec![10, 30, 20, 40], vec![25], vec![27]]
    );
    assert_eq!(trace.finished_ms(), 2000);
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.stats().failures, 2);
    assert_eq!(trace.result(), vec![20, 25, 27, 40]);
    assert_eq!(
        driver.lookup.rule().ended(),
        &[Some(EndReason::Exhausted), Some(EndReason::Converged)]
    );
    assert_eq!(trace.outcome, setup.run(&table, &net).outcome);
}

#[test]
fn the_result_is_the_k_closest_responders_over_all_paths() {
    let setup = disjoint().k(3);
    let table = [10, 20, 30];
    let net = Net::new()
        .answers(10, &[15])
        .answers(30, &[])
        .answers(20, &[25, 35])
        .answers(15, &[])
        .answers(25, &[])
        .answers(35, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // Path 0 (10, 30) learns 15 and asks it; path 1 (20) learns 25 and 35
    // and asks both (its two free slots). Both paths converge with three
    // answers each: 10, 15, 30 and 20, 25, 35. The result is the k = 3
    // closest of those six, from both paths, in order.
    assert_eq!(
        trace.batches,
        vec![vec![10, 30, 20], vec![15], vec![25, 35]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(responders(&setup, &lookup, 0), vec![10, 15, 30]);
    assert_eq!(responders(&setup, &lookup, 1), vec![20, 25, 35]);
    assert_eq!(trace.result(), vec![10, 15, 20]);
}

#[test]
fn more_paths_than_seeds_the_extra_paths_end_at_once() {
    let setup = disjoint().paths(6);
    let table = [10, 20, 30];
    let net = all_answer(&table, &[]);
    let mut driver = Driver::with_lookup(&setup, start_disjoint(&setup, &table), &net);

    // One seed each for paths 0, 1, 2; paths 3, 4, 5 have none and end at
    // the first poll, while the others send.
    driver.run_until(|d| !d.batches.is_empty());
    assert_eq!(driver.batches[0], vec![10, 20, 30]);
    let no = Some(EndReason::NoContacts);
    assert_eq!(
        driver.lookup.rule().ended(),
        &[None, None, None, no, no, no]
    );

    // Each remaining path asks its one node and ends with it, Exhausted;
    // so does the lookup (not NoContacts: it had contacts).
    let trace = driver.run();
    assert_eq!(trace.batches, vec![vec![10, 20, 30]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 10);
    assert_eq!(trace.result(), vec![10, 20, 30]);
    assert_eq!(trace.outcome, setup.run(&table, &net).outcome);
}

#[test]
fn every_seed_failing_ends_exhausted_with_nothing() {
    let net = Net::new().fails(10).silent(20);
    let trace = disjoint().run(&[10, 20], &net);

    // Path 0's only node fails at 10 ms: it ends. Path 1's times out at
    // 2000 ms: it ends, and so does the lookup, with no answer at all.
    assert_eq!(trace.batches, vec![vec![10, 20]]);
    assert_eq!(trace.reason(), EndReason::Exhausted);
    assert_eq!(trace.finished_ms(), 2000);
    assert_eq!(trace.stats().failures, 2);
    assert!(trace.result().is_empty());
}

/// A path that has ended asks nobody again, so it must not claim what a
/// late reply brings: that would keep the contact from the paths still
/// running, which would ask it.
#[test]
fn a_path_that_has_ended_claims_nothing_more() {
    let setup = disjoint().k(3);
    let table = [10, 20, 30];
    let net = Net::new()
        .answers(10, &[4, 5])
        .answers(30, &[25])
        .delay(30, 100)
        .answers(4, &[])
        .answers(5, &[])
        .answers(20, &[25])
        .delay(20, 200)
        .answers(25, &[3])
        .answers(3, &[]);
    let (trace, lookup) = run_inspected(&setup, &table, &net);

    // Path 0 (10, 30): 10 brings 4 and 5, asked one at a time beside 30,
    // which is slow. By 30 ms 4, 5 and 10 have answered: the k = 3 closest
    // path 0 knows, so it converged, with 30 still in flight (outside its
    // window). 30's late reply (100 ms) brings 25: path 0 will never ask
    // it, and leaves it unclaimed. Path 1 (20) hears of 25 at 200 ms,
    // claims and asks it, and so finds 3, the closest node of all.
    assert_eq!(
        trace.batches,
        vec![vec![10, 30, 20], vec![4], vec![5], vec![25], vec![3]]
    );
    assert_eq!(trace.reason(), EndReason::Converged);
    assert_eq!(trace.finished_ms(), 220);
    assert_eq!(trace.result(), vec![3, 4, 5]);
    assert_eq!(owner(&setup, &lookup, 25), Some(1));
    assert_eq!(shortlist(&setup, &lookup, 0), vec![4, 5, 10, 30]);
    assert_eq!(shortlist(&setup, &lookup, 1), vec![3, 20, 25]);
}

#[test]
fn an_empty_routing_table_ends_with_no_contacts() {
    for d in [1, 2, 16] {
        assert_empty_table_ends_with_no_contacts(&disjoint().paths(d));
    }
}

#[test]
fn replies_from_nodes_without_a_request_in_flight_change_nothing() {
    let table = [10, 20, 30, 40];
    let claimed_twice = Net::new()
        .answers(10, &[5])
        .answers(30, &[])
        .answers(20, &[5, 7, 10, 30])
        .answers(40, &[])
        .answers(5, &[])
        .answers(7, &[]);
    assert_stray_messages_change_nothing(&disjoint(), &table, &claimed_twice);
    assert_stray_messages_change_nothing(&disjoint(), &table, &one_bad_path_net());
}

#[test]
fn find_value_ends_the_whole_lookup_at_the_first_value_that_verifies() {
    let value = b"kadlab scenario value";
    let setup = disjoint().find_value(value);
    let table = [10, 20, 30, 40];
    let net = Net::new()
        .answers(10, &[5])
        .answers(30, &[])
        .delay(30, 500)
        .answers(20, &[15])
        .answers_value(40, b"not the value", &[])
        .answers(5, &[])
        .answers_value(15, value, &[]);
    let mut driver = Driver::new(&setup, &table, &net);
    let trace = driver.run();

    // Path 0 (10, 30) learns 5 and asks it; path 1 (20, 40) learns 15 and
    // asks it. 40's value does not verify (counted, ignored). At 20 ms 5
    // answers, then 15 with the value: the lookup ends although path 0 is
    // still waiting for 30.
    assert_eq!(trace.batches, vec![vec![10, 30, 20, 40], vec![5], vec![15]]);
    assert_eq!(trace.reason(), EndReason::ValueFound);
    assert_eq!(trace.outcome.value.as_deref(), Some(&value[..]));
    assert_eq!(trace.stats().bad_values, 1);
    assert_eq!(trace.finished_ms(), 20);
    // The k closest that answered, over both paths (40 answered too).
    assert_eq!(trace.result(), vec![5, 10, 15, 20]);
    // 30's reply, still to come, is refused.
    assert!(!driver.inject_reply(30, &[]));
}

// d = 1: the paper's rule.

/// Run `kademlia` and `disjoint` with one path from the same table (of at
/// most α nodes, so both start from the same contacts) and check they do
/// exactly the same; returns the trace.
fn assert_one_path_is_kademlia(kademlia: Setup, table: &[u32], net: &Net) -> Trace {
    let mut one_path = kademlia.clone();
    one_path.config.strategy = StrategyName::Disjoint;
    one_path.config.paths = 1;
    assert_eq!(one_path.seed_contacts(table), kademlia.seed_contacts(table));

    let expected = kademlia.run(table, net);
    let trace = one_path.run(table, net);
    assert_eq!(trace.batches, expected.batches);
    assert_eq!(trace.outcome, expected.outcome);
    trace
}

#[test]
fn with_one_path_it_does_what_kademlia_does() {
    let no_progress = Net::new()
        .answers(20, &[40, 50])
        .answers(30, &[60, 70])
        .answers(40, &[])
        .answers(50, &[])
        .answers(60, &[]);
    let trace = assert_one_path_is_kademlia(kademlia().k(5), &[20, 30], &no_progress);
    assert_eq!(trace.batches, vec![vec![20, 30], vec![40], vec![50, 60]]);
    assert_eq!(trace.reason(), EndReason::Converged);

    let closer_late = no_progress.answers(40, &[5]).answers(5, &[]);
    let trace = assert_one_path_is_kademlia(kademlia().k(5), &[20, 30], &closer_late);
    assert_eq!(
        trace.batches,
        vec![vec![20, 30], vec![40], vec![50, 60], vec![5]]
    );

    let failures = Net::new()
        .fails(20)
        .answers(30, &[40, 50, 60, 70])
        .answers(40, &[])
        .silent(50)
        .answers(60, &[])
        .answers(70, &[]);
    let trace = assert_one_path_is_kademlia(kademlia(), &[20, 30], &failures);
    assert_eq!(trace.finished_ms(), 2020);
    assert_eq!(trace.result(), vec![30, 40, 60, 70]);

    let few = Net::new().answers(20, &[25]).answers(30, &[]).silent(25);
    let trace = assert_one_path_is_kademlia(kademlia(), &[20, 30], &few);
    assert_eq!(trace.reason(), EndReason::Exhausted);

    let value = b"kadlab scenario value";
    let with_value = Net::new()
        .answers(20, &[10])
        .answers_value(30, b"not the value", &[15])
        .answers_value(10, value, &[5])
        .answers(15, &[]);
    let trace = assert_one_path_is_kademlia(kademlia().find_value(value), &[20, 30], &with_value);
    assert_eq!(trace.reason(), EndReason::ValueFound);
}

#[test]
fn with_one_path_the_rule_is_kademlias_from_the_same_contacts() {
    // Built directly, both rules start from the same k contacts.
    let setup = disjoint().paths(1).k(5);
    let table = [20, 30, 40, 50, 60];
    let net = Net::new()
        .answers(20, &[45, 70])
        .answers(30, &[])
        .answers(40, &[8])
        .silent(45)
        .answers(50, &[])
        .answers(60, &[])
        .answers(70, &[])
        .fails(8);
    let seeds = setup.seed_contacts(&table);
    let kademlia = Kademlia::new(
        KademliaParams { alpha: 2 },
        setup.config.k,
        setup.ids.target,
        &seeds,
    );
    let kademlia = Box::new(Lookup::new(setup.spec(), &seeds, kademlia));
    let expected = Driver::with_lookup(&setup, kademlia, &net).run();
    let (trace, _) = run_inspected(&setup, &table, &net);

    assert_eq!(trace.batches, expected.batches);
    assert_eq!(trace.outcome, expected.outcome);
    assert!(trace.batches.len() > 2, "a walk worth comparing");
}

#[test]
fn with_one_path_it_is_kademlia_and_both_start_from_k_contacts() {
    // Both reference rules start from the k closest of the table by
    // default, so with one path `disjoint` walks exactly as `kademlia`;
    // `kademlia` started from only α contacts (the paper's own start)
    // never hears of the third.
    let table = [20, 30, 40];
    let net = all_answer(&table, &[]);

    let paper = kademlia().run(&table, &net);
    assert_eq!(paper.batches, vec![vec![20, 30], vec![40]]);
    assert_eq!(paper.result(), vec![20, 30, 40]);

    let one_path = disjoint().paths(1).run(&table, &net);
    assert_eq!(one_path.batches, paper.batches);
    assert_eq!(one_path.result(), paper.result());

    let from_alpha = kademlia().seeds(2).run(&table, &net);
    assert_eq!(from_alpha.batches, vec![vec![20, 30]]);
    assert_eq!(from_alpha.result(), vec![20, 30]);
}
