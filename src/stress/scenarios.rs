//! The two scenarios, chaos lookup and bootstrap: the worlds, the
//! generators and what each one draws before its lookups are driven.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::chaos::{chance, draw_lookup_config, Chaos, Inject};
use super::checks::Hang;
use super::event_loop::{Scratch, Session};
use super::report::{reason_index, Scenario, Tally};
use super::world::{Resolved, World};
use super::{Entrants, StressConfig, BOOTSTRAPS_PER_WORLD, LOOKUPS_PER_WORLD};
use crate::contact::Contact;
use crate::id::{NodeId, ID_LEN};
use crate::lookup::{
    EndReason, LookupConfig, LookupMode, LookupSpec, LookupStrategy, StrategyName,
};
use crate::routing::{RoutingConfig, RoutingTable};
use crate::time::Time;

/// Domains of the generators, so that worlds, lookups and bootstraps never
/// share a stream.
const DOMAIN_LOOKUP_WORLD: u64 = 1;
const DOMAIN_LOOKUP: u64 = 2;
const DOMAIN_BOOT_WORLD: u64 = 3;
const DOMAIN_BOOT: u64 = 4;

fn rng_for(seed: u64, domain: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed ^ domain.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17),
    );
    rng.set_stream(index);
    rng
}

/// The built-in strategy of lookup (or bootstrap) `index`: round-robin.
fn strategy_of(index: u64) -> StrategyName {
    StrategyName::ALL[(index % StrategyName::ALL.len() as u64) as usize]
}

fn random_bytes(rng: &mut ChaCha8Rng, len: Range<usize>) -> Vec<u8> {
    let mut v = vec![0; rng.gen_range(len)];
    rng.fill_bytes(&mut v);
    v
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

pub(super) struct Shared<'a> {
    pub(super) config: &'a StressConfig,
    pub(super) entrants: Entrants<'a>,
    pub(super) scratch: Scratch,
    pub(super) tally: Tally,
}

impl Shared<'_> {
    pub(super) fn session<'s>(
        &'s mut self,
        world: &'s World,
        scenario: Scenario,
        index: u64,
        mut rng: ChaCha8Rng,
    ) -> Session<'s> {
        self.scratch.new_session(world.len());
        let chaos = Chaos::draw(&mut rng);
        let strategy = strategy_of(index);
        // Built-in strategy `i % 5` is row `i % 5`; contender `i % n`, row
        // `i % n`.
        let entrant = (index % self.entrants.len().max(1) as u64) as usize;
        let value = random_bytes(&mut rng, 1..65);
        let bad_value = random_bytes(&mut rng, 0..81);
        Session {
            config: self.config,
            entrants: self.entrants,
            world,
            scratch: &mut self.scratch,
            tally: &mut self.tally,
            rng,
            chaos,
            scenario,
            index,
            strategy,
            entrant,
            started: Time::ZERO,
            now: Time::ZERO,
            local: NodeId::ZERO,
            lookup_config: self.config.lookup_config(),
            mode: LookupMode::FindNode,
            value,
            bad_value,
        }
    }

    /// Chaos lookup `index`.
    fn chaos_lookup(&mut self, world: &World, index: u64) {
        let config = self.config;
        let rng = rng_for(config.seed, DOMAIN_LOOKUP, index);
        let mut s = self.session(world, Scenario::Lookup, index, rng);
        let mode = if chance(&mut s.rng, 0.3) {
            s.tally.find_value += 1;
            LookupMode::FindValue
        } else {
            LookupMode::FindNode
        };
        let member = world.random_member(&mut s.rng);
        s.local = if chance(&mut s.rng, 0.5) {
            world.ids[member]
        } else {
            NodeId::random(&mut s.rng)
        };
        let stored = NodeId::of_immutable_value(&s.value);
        let target = match (mode, s.rng.gen_range(0..10)) {
            (LookupMode::FindValue, 0) => NodeId::random(&mut s.rng),
            (LookupMode::FindValue, _) => stored,
            (_, 0..=3) => NodeId::random(&mut s.rng),
            (_, 4..=6) => world.ids[world.random_member(&mut s.rng)],
            (_, 7) => s.local,
            (_, 8) => stored,
            _ => {
                let mut id = world.ids[world.random_member(&mut s.rng)];
                id.0[ID_LEN - 1] ^= 1 << s.rng.gen_range(0..8);
                id
            }
        };
        let lookup_config = draw_lookup_config(config, s.strategy, &mut s.rng);
        s.lookup_config = lookup_config.clone();
        s.mode = mode;
        let mut seeds = Vec::new();
        if chance(&mut s.rng, 0.03) {
            s.tally.inject(Inject::NoSeeds);
        } else {
            for _ in 0..s.rng.gen_range(1..=2 * lookup_config.alpha + 2) {
                seeds.push(world.contact(world.random_member(&mut s.rng)));
            }
        }
        if chance(&mut s.rng, 0.05) {
            s.tally.inject(Inject::LocalSeed);
            seeds.push(Contact::simulated(s.local, s.rng.gen()));
        }
        if chance(&mut s.rng, 0.05) && !seeds.is_empty() {
            s.tally.inject(Inject::DuplicateContact);
            seeds.push(seeds[0]);
        }
        if chance(&mut s.rng, 0.05) {
            s.tally.inject(Inject::RandomContact);
            seeds.push(world.outsider(&mut s.rng));
        }
        let spec = lookup_config.spec(s.local, target, mode);
        s.tally.lookups += 1;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let (mut lookup, spec) = s.start(&lookup_config, spec, &seeds, None);
            s.drive(&mut *lookup, &spec, &seeds, None)
        }));
        s.record(result, false);
    }

    /// Bootstrap `index`: bootstrap nodes, self-lookup, refresh.
    fn bootstrap(&mut self, world: &World, index: u64) {
        let config = self.config;
        let rng = rng_for(config.seed, DOMAIN_BOOT, index);
        let mut s = self.session(world, Scenario::Bootstrap, index, rng);
        s.tally.bootstraps += 1;
        s.local = if chance(&mut s.rng, 0.2) {
            world.ids[world.random_member(&mut s.rng)]
        } else {
            NodeId::random(&mut s.rng)
        };
        let lookup_config = draw_lookup_config(config, s.strategy, &mut s.rng);
        s.lookup_config = lookup_config.clone();
        let routing = RoutingConfig {
            k: lookup_config.k,
            replacement_cache: s.rng.gen_range(0..=8),
            bad_after: s.rng.gen_range(1..=5),
            // Now and then every contact questionable at once, so full
            // buckets ping (BEP 5's fifteen minutes are longer than most
            // stress lookups).
            questionable_after: if chance(&mut s.rng, 0.5) {
                Duration::ZERO
            } else {
                crate::routing::BEP5_FRESHNESS
            },
            ping_timeout: Duration::from_millis(s.rng.gen_range(1_000..=15_000)),
            ..RoutingConfig::default()
        };
        let mut table = RoutingTable::new(s.local, routing, s.now);
        let timeout = lookup_config.rpc_timeout();

        // Ask the bootstrap nodes; only those that answer are added, as
        // `node::bootstrap` does.
        s.scratch.clear_lookup(world);
        let mut contacted = s.now;
        for _ in 0..s.rng.gen_range(1..=3) {
            let contact = if chance(&mut s.rng, 0.9) {
                world.contact(world.random_member(&mut s.rng))
            } else {
                world.outsider(&mut s.rng)
            };
            let rtt = s.latency();
            let answered = match world.resolve(&contact) {
                Resolved::Member(i) => {
                    !chance(&mut s.rng, s.chaos.loss)
                        && !chance(&mut s.rng, s.chaos.error)
                        && s.is_alive(i, s.now + rtt / 2)
                }
                _ => false,
            };
            // Some bootstrap nodes answer with our own id: not added.
            if answered && !chance(&mut s.rng, 0.03) {
                let at = s.now + rtt;
                let outcome = table.update(contact, at);
                s.on_update(outcome, timeout);
                contacted = contacted.max(at);
            } else {
                contacted = contacted.max(s.now + timeout);
            }
        }
        s.now = contacted;
        s.drain_pings(Some(&mut table));

        // The self-lookup, then one lookup per bucket not full, from the
        // nearest non-empty one outwards.
        s.bootstrap_lookup(&lookup_config, &mut table, s.local);
        for b in table.buckets_to_fill() {
            let target = s.local.random_in_bucket(b, &mut s.rng);
            s.bootstrap_lookup(&lookup_config, &mut table, target);
        }
        if !table.is_empty() {
            s.tally.joined += 1;
        }
        s.check_table(&table);
    }
}

impl Session<'_> {
    fn record(&mut self, result: std::thread::Result<Result<EndReason, Hang>>, bootstrap: bool) {
        let i = self.entrant;
        match result {
            Ok(Ok(reason)) => {
                let ended = if bootstrap {
                    &mut self.tally.bootstrap_ended
                } else {
                    &mut self.tally.ended
                };
                if let Some(row) = ended.get_mut(i) {
                    if let Some(n) = row.get_mut(reason_index(reason)) {
                        *n += 1;
                    }
                }
            }
            Ok(Err(_)) => {} // counted by `drive`
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                self.hung(Hang::Panic, message);
            }
        }
    }

    fn bootstrap_lookup(
        &mut self,
        config: &LookupConfig,
        table: &mut RoutingTable,
        target: NodeId,
    ) {
        self.tally.bootstrap_lookups += 1;
        if let Some(b) = self.local.bucket_index(&target) {
            table.touch_bucket(b, self.now);
        }
        let seeds = match self.entrants {
            Entrants::BuiltIn(_) => table.closest(&target, config.seed_count()),
            // A contender may start from any contact of the table.
            Entrants::Contenders(_) => table.closest(&target, table.len()),
        };
        let spec = config.spec(self.local, target, LookupMode::FindNode);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let (mut lookup, spec) = self.start(config, spec, &seeds, Some(table));
            self.drive(&mut *lookup, &spec, &seeds, Some(table))
        }));
        self.record(result, true);
    }

    /// Start the lookup of `spec`: a built-in strategy from the drawn
    /// `config` and the raw `seeds`, or the session's contender from
    /// `table` (a chaos lookup has none: its seeds, garbage and all, are
    /// put in a fresh table of the local node, as a contender starts from a
    /// table). The spec the checks hold the lookup to comes back with it:
    /// a contender's own k and timeout.
    fn start(
        &self,
        config: &LookupConfig,
        spec: LookupSpec,
        seeds: &[Contact],
        table: Option<&RoutingTable>,
    ) -> (Box<dyn LookupStrategy>, LookupSpec) {
        let contender = match self.entrants {
            Entrants::BuiltIn(factory) => return (factory(config, spec, seeds), spec),
            Entrants::Contenders(all) => &all[self.entrant],
        };
        let spec = LookupSpec {
            k: contender.k(),
            rpc_timeout: contender.rpc_timeout(),
            ..spec
        };
        let lookup = match table {
            Some(table) => contender.start(table, spec.target, spec.mode),
            None => {
                let routing = RoutingConfig {
                    k: contender.k().max(1),
                    ..RoutingConfig::default()
                };
                let mut table = RoutingTable::new(spec.local, routing, self.now);
                for &c in seeds {
                    let _ = table.update(c, self.now);
                }
                contender.start(&table, spec.target, spec.mode)
            }
        };
        (lookup, spec)
    }
}

/// Call `each` for every index of `indices` with the world its group of
/// `per_world` consecutive indices shares, drawn from `domain` once per
/// group.
fn in_worlds(
    seed: u64,
    domain: u64,
    per_world: u64,
    indices: Range<u64>,
    mut each: impl FnMut(&World, u64),
) {
    let mut world: Option<(u64, World)> = None;
    for index in indices {
        let w = index / per_world;
        if world.as_ref().map(|(i, _)| *i) != Some(w) {
            let mut rng = rng_for(seed, domain, w);
            world = Some((w, World::new(&mut rng)));
        }
        if let Some((_, world)) = &world {
            each(world, index);
        }
    }
}

/// Run lookups and bootstraps, on this thread.
pub(super) fn run_task(
    config: &StressConfig,
    entrants: Entrants<'_>,
    lookups: Range<u64>,
    bootstraps: Range<u64>,
) -> Tally {
    let mut shared = Shared {
        config,
        entrants,
        scratch: Scratch::new(),
        tally: Tally::new(entrants.len()),
    };
    in_worlds(
        config.seed,
        DOMAIN_LOOKUP_WORLD,
        LOOKUPS_PER_WORLD,
        lookups,
        |world, i| shared.chaos_lookup(world, i),
    );
    in_worlds(
        config.seed,
        DOMAIN_BOOT_WORLD,
        BOOTSTRAPS_PER_WORLD,
        bootstraps,
        |world, i| shared.bootstrap(world, i),
    );
    shared.tally
}
