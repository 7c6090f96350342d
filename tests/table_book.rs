//! A routing table over a shared directory of ids (how every simulated node
//! stores its contacts, 4 bytes each) behaves exactly as one that keeps its
//! contacts itself (how a UDP node does): the same outcome for every call,
//! the same entries in the same order, the same replacements, the same
//! replies. Contacts the directory does not know (forged ones: a directory
//! id at another node's address, or ids from nowhere) are mixed in, because
//! a simulated table must keep those too.

use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::routing::{Directory, Heard, NodeState, RoutingConfig, RoutingTable};
use kadlab::time::Time;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One call on a table; `who` picks a contact of the pool.
#[derive(Clone, Debug)]
enum Op {
    Heard { who: usize, answered: bool },
    Failure { who: usize },
    Ping { who: usize, answered: bool },
    Remove { who: usize },
    Confirm { bucket: usize, count: usize },
    Wait { seconds: u64 },
}

fn op(pool: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..pool, any::<bool>()).prop_map(|(who, answered)| Op::Heard { who, answered }),
        2 => (0..pool).prop_map(|who| Op::Failure { who }),
        2 => (0..pool, any::<bool>()).prop_map(|(who, answered)| Op::Ping { who, answered }),
        1 => (0..pool).prop_map(|who| Op::Remove { who }),
        1 => (150..160usize, 0..6usize).prop_map(|(bucket, count)| Op::Confirm { bucket, count }),
        1 => (0..1200u64).prop_map(|seconds| Op::Wait { seconds }),
    ]
}

/// The directory's nodes (ids crowded into a few far buckets of the local
/// id, so buckets fill and evict), and the pool of contacts the calls pick
/// from: directory contacts, forged ones and foreign ones.
fn world(seed: u64, nodes: usize) -> (NodeId, Directory, Vec<Contact>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let local = NodeId::random(&mut rng);
    let ids: Vec<NodeId> = (0..nodes)
        .map(|i| local.random_in_bucket(150 + i % 10, &mut rng))
        .collect();
    populate(local, ids, &mut rng)
}

/// A world whose ids tie in their first 8 bytes within each bucket: each is
/// the local id with one bit of the first byte flipped (buckets 152 to
/// 159) and its last 12 bytes random, as forged ids crowding a target can
/// be. A table orders contacts by those 8 bytes first and must break every
/// such tie by the whole id.
fn tied_world(seed: u64, nodes: usize) -> (NodeId, Directory, Vec<Contact>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let local = NodeId::random(&mut rng);
    let ids: Vec<NodeId> = (0..nodes)
        .map(|i| {
            let mut id = NodeId::random(&mut rng);
            id.0[..8].copy_from_slice(&local.0[..8]);
            id.0[0] ^= 1 << (i % 8);
            id
        })
        .collect();
    populate(local, ids, &mut rng)
}

/// The pool of contacts over `ids` (see [`world`]).
fn populate(
    local: NodeId,
    ids: Vec<NodeId>,
    rng: &mut ChaCha8Rng,
) -> (NodeId, Directory, Vec<Contact>) {
    let nodes = ids.len();
    let mut pool: Vec<Contact> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Contact::simulated(*id, i as u32))
        .collect();
    // A directory id at another directory node's address.
    pool.push(Contact::simulated(ids[0], 1));
    pool.push(Contact::simulated(ids[2], 3));
    // An id from nowhere at an address beyond the directory, and one at a
    // real node's address; a directory id at a non-simulated address.
    pool.push(Contact::simulated(
        local.random_in_bucket(151, rng),
        nodes as u32 + 5,
    ));
    pool.push(Contact::simulated(local.random_in_bucket(152, rng), 4));
    pool.push(Contact::new(
        ids[5],
        "10.0.0.6:10000".parse().expect("address"),
    ));
    (local, Directory::new(ids), pool)
}

fn config() -> RoutingConfig {
    RoutingConfig {
        k: 4,
        replacement_cache: 3,
        bad_after: 2,
        questionable_after: Duration::from_secs(600),
        refresh_interval: Duration::from_secs(900),
        ping_timeout: Duration::from_secs(10),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_table_over_a_directory_behaves_as_one_that_keeps_its_contacts(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(65), 1..300),
    ) {
        let (local, directory, pool) = world(seed, 60);
        let mut plain = RoutingTable::new(local, config(), Time::ZERO);
        let mut shared = RoutingTable::with_directory(local, config(), Time::ZERO, directory);
        let mut now = Time::ZERO;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 1);
        for op in ops {
            now = now + Duration::from_millis(7);
            match op {
                Op::Heard { who, answered } => {
                    let heard = if answered { Heard::Answered } else { Heard::Queried };
                    let c = pool[who % pool.len()];
                    prop_assert_eq!(plain.update_heard(c, heard, now), shared.update_heard(c, heard, now));
                }
                Op::Failure { who } => {
                    let c = pool[who % pool.len()];
                    prop_assert_eq!(plain.on_failure(&c, now), shared.on_failure(&c, now));
                }
                Op::Ping { who, answered } => {
                    let c = pool[who % pool.len()];
                    plain.on_ping_result(&c, answered, now);
                    shared.on_ping_result(&c, answered, now);
                }
                Op::Remove { who } => {
                    let id = pool[who % pool.len()].id;
                    prop_assert_eq!(plain.remove(&id), shared.remove(&id));
                }
                Op::Confirm { bucket, count } => {
                    plain.confirm_questionable(bucket, count, now);
                    shared.confirm_questionable(bucket, count, now);
                }
                Op::Wait { seconds } => now = now + Duration::from_secs(seconds),
            }
            prop_assert_eq!(plain.len(), shared.len());
            prop_assert!(plain.iter().eq(shared.iter()), "entries differ");
            for b in 150..160 {
                prop_assert_eq!(plain.replacements(b), shared.replacements(b));
            }
            let target = NodeId::random(&mut rng);
            prop_assert_eq!(plain.closest(&target, 6), shared.closest(&target, 6));
            prop_assert_eq!(
                plain.closest_for_reply(&target, 6, now),
                shared.closest_for_reply(&target, 6, now)
            );
        }
    }
}

/// Apply `op` to one table, `Confirm` only `with_confirm`; waits move `now`.
fn apply(table: &mut RoutingTable, op: Op, pool: &[Contact], now: &mut Time, with_confirm: bool) {
    let at = *now;
    match op {
        Op::Heard { who, answered } => {
            let heard = if answered {
                Heard::Answered
            } else {
                Heard::Queried
            };
            let _ = table.update_heard(pool[who % pool.len()], heard, at);
        }
        Op::Failure { who } => {
            let _ = table.on_failure(&pool[who % pool.len()], at);
        }
        Op::Ping { who, answered } => table.on_ping_result(&pool[who % pool.len()], answered, at),
        Op::Remove { who } => {
            let _ = table.remove(&pool[who % pool.len()].id);
        }
        Op::Confirm { bucket, count } if with_confirm => {
            table.confirm_questionable(bucket, count, at)
        }
        Op::Confirm { .. } => {}
        Op::Wait { seconds } => *now = at + Duration::from_secs(seconds),
    }
}

/// What `heard` and `confirm` leave behind, compared on two copies.
fn same_tables(a: &RoutingTable, b: &RoutingTable) -> bool {
    a.len() == b.len()
        && a.iter().eq(b.iter())
        && (150..160).all(|i| a.replacements(i) == b.replacements(i))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The simulator's refresh shortcuts are the update rule itself:
    /// `heard_entry(b, pos)` does what `update_heard` does for the contact
    /// at that place, and confirming `count` questionable contacts at once
    /// does what `count` confirmations of one do, on tables in every state
    /// that random calls reach.
    #[test]
    fn the_refresh_shortcuts_are_the_update_rule(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(65), 1..200),
        picks in proptest::collection::vec((150..160usize, 0..5usize, 0..6usize), 200),
    ) {
        let (local, directory, pool) = world(seed, 60);
        let mut table = RoutingTable::with_directory(local, config(), Time::ZERO, directory);
        let mut now = Time::ZERO;
        for (op, &(bucket, pos, count)) in ops.into_iter().zip(&picks) {
            now = now + Duration::from_millis(7);
            apply(&mut table, op, &pool, &mut now, false);

            let held = table.bucket_entries(bucket).nth(pos).map(|e| e.contact);
            let (mut by_place, mut by_rule) = (table.clone(), table.clone());
            prop_assert_eq!(
                by_place.heard_entry(bucket, pos, Heard::Answered, now),
                held.is_some()
            );
            if let Some(contact) = held {
                let _ = by_rule.update_heard(contact, Heard::Answered, now);
            }
            prop_assert!(same_tables(&by_place, &by_rule), "heard_entry differs");
            // A bucket touched now is not due one interval less a
            // millisecond later; one touched at an earlier call is.
            let later = now + Duration::from_millis(900_000 - 1);
            prop_assert_eq!(
                by_place.buckets_to_refresh(later),
                by_rule.buckets_to_refresh(later)
            );

            let (mut at_once, mut one_by_one) = (table.clone(), table.clone());
            at_once.confirm_questionable(bucket, count, now);
            for _ in 0..count {
                one_by_one.confirm_questionable(bucket, 1, now);
            }
            prop_assert!(same_tables(&at_once, &one_by_one), "confirming at once differs");
        }
    }
}

/// `closest_for_reply` written out the slow way: every entry's state and
/// distance, good ones first, each kind closest first, never a bad one.
fn reply_by_sorting(table: &RoutingTable, target: &NodeId, n: usize, now: Time) -> Vec<Contact> {
    let mut ranked: Vec<(bool, kadlab::id::Distance, Contact)> = table
        .iter()
        .filter_map(|e| match table.state_of(&e, now) {
            NodeState::Good => Some((false, e.contact.id.distance(target), e.contact)),
            NodeState::Questionable => Some((true, e.contact.id.distance(target), e.contact)),
            NodeState::Bad => None,
        })
        .collect();
    ranked.sort_by_key(|&(questionable, d, _)| (questionable, d));
    ranked.into_iter().take(n).map(|(_, _, c)| c).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The bucket walk behind replies and lookup seeds, which stops early
    /// and skips buckets that cannot hold a good contact, returns what
    /// sorting the whole table would, on tables in every state (long waits
    /// make whole buckets questionable; failures make contacts bad).
    #[test]
    fn replies_and_seeds_are_the_closest_by_sorting(
        seed in any::<u64>(),
        tied in any::<bool>(),
        ops in proptest::collection::vec(op(65), 1..200),
        sizes in proptest::collection::vec(0..9usize, 200),
    ) {
        let (local, directory, pool) = if tied { tied_world(seed, 60) } else { world(seed, 60) };
        let mut table = RoutingTable::with_directory(local, config(), Time::ZERO, directory);
        let mut now = Time::ZERO;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 2);
        for (op, &n) in ops.into_iter().zip(&sizes) {
            now = now + Duration::from_millis(7);
            apply(&mut table, op, &pool, &mut now, true);
            // A random target, and one inside a bucket the table holds.
            let near = local.random_in_bucket(150 + n % 10, &mut rng);
            for target in [NodeId::random(&mut rng), near] {
                prop_assert_eq!(
                    table.closest_for_reply(&target, n, now),
                    reply_by_sorting(&table, &target, n, now)
                );
                let mut all: Vec<Contact> = table.iter().map(|e| e.contact).collect();
                all.sort_by_key(|c| c.id.distance(&target));
                // "All of them", as the narrator asks.
                prop_assert_eq!(&table.closest(&target, usize::MAX), &all);
                prop_assert_eq!(
                    table.closest_for_reply(&target, usize::MAX, now),
                    reply_by_sorting(&table, &target, usize::MAX, now)
                );
                all.truncate(n);
                prop_assert_eq!(table.closest(&target, n), all);
            }
        }
    }
}
