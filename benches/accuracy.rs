//! What each lookup strategy costs and misses, measured the way criterion
//! measures time: `cargo bench --bench accuracy`.
//!
//! Two custom criterion [`Measurement`]s replace the wall clock:
//!
//! - [`Rpcs`]: requests a lookup sends (`LookupStats::requests`);
//! - [`Misses`]: k − |result ∩ true k closest|, the true k closest being
//!   the honest nodes (other than the origin) answering when the lookup
//!   starts (`LookupTask::truth`).
//!
//! A measurement's `start()`/`end()` cannot see a lookup, so every
//! benchmark uses `iter_custom`: for `iters` iterations it runs the next
//! `iters` lookups of a fixed, seeded task list, one after the other, each
//! at its own start time in virtual time, and returns their summed RPCs (or
//! misses). Criterion then treats the sums exactly as it treats elapsed
//! times: per-iteration values, mean, median, standard deviation,
//! confidence intervals, outliers, change against the last run, and the
//! HTML report under `target/criterion/report/index.html`.
//!
//! Groups are `rpcs/<setting>` and `misses/<setting>` for the settings
//! `static`, `default` and `lossy` (the `kadlab compare` presets, smaller:
//! [`NODES`] nodes and [`WARMUP`] of churn before the lookups), with one
//! benchmark per strategy of `StrategyName::ALL`, so criterion's group
//! report shows the strategies side by side. Each network is built and
//! warmed once per run; every benchmark starts from a fresh copy of it and
//! from the start of the same task list, so all strategies answer the same
//! lookups on the same network. Unlike `kadlab compare`, whose lookups
//! overlap in virtual time, these are FIND_NODE lookups run one at a time,
//! on a smaller network: the figures are close to `compare`'s, not equal.
//!
//! # Determinism
//!
//! Criterion picks its iteration counts from the *wall time* of the warm-up,
//! so the same code gives different counts run to run, and the values would
//! differ with them. To make two runs give identical samples (and criterion
//! report "No change in performance detected"), warm-up and measurement
//! times are pinned to 1 ns: the warm-up is then exactly one call with one
//! iteration (task 0), and flat sampling gives every sample exactly one
//! iteration (tasks 1, 2, …, [`SAMPLES`]). Each sample is thus one lookup,
//! and criterion's mean, median and standard deviation are those of the
//! per-lookup values. Criterion warns that it is "unable to complete N
//! samples in 1.0ns"; that is expected.
//!
//! Criterion refuses a sample of zero ("took zero time per iteration"), and
//! its density plots divide by the samples' standard deviation, while many
//! lookups miss nothing and some strategies cost the same on every lookup
//! (`delta` spends its whole budget of 20 on a static network). So each
//! lookup's count gets [`DITHER`] added, twice for lookups at odd positions
//! of the task list: a fixed, deterministic 10⁻⁶ or 2·10⁻⁶, far below the
//! precision criterion prints, that keeps every value and the standard
//! deviation above zero.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use kadlab::cli::compare::Preset;
use kadlab::driver::Clock;
use kadlab::lookup::{Contender, LookupConfig, LookupMode, LookupOutcome, StrategyName};
use kadlab::sim::{self, LookupTask, SimConfig, SimNetwork};

/// Nodes per network.
const NODES: usize = 5_000;
/// Virtual time of churn, with bucket refresh every 15 minutes, between
/// filling the tables and the lookup window (`compare` uses an hour).
const WARMUP: Duration = Duration::from_secs(30 * 60);
/// Samples per benchmark: lookups measured (one per sample).
const SAMPLES: usize = 100;
/// FIND_NODE tasks drawn per network: the warm-up lookup and every sample
/// fit, so a run never cycles back to the start of the list.
const TASKS: usize = 200;
/// Added to the count of every lookup, twice at odd positions of the task
/// list (see the module docs).
const DITHER: f64 = 1e-6;

/// One network setting: its configuration, the warmed network and the
/// task list, sorted by start time.
struct Setting {
    name: &'static str,
    config: SimConfig,
    net: SimNetwork,
    tasks: Vec<LookupTask>,
}

/// The three settings, each built once per run (shared by both
/// measurements).
fn settings() -> &'static [Setting] {
    static SETTINGS: OnceLock<Vec<Setting>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        [
            ("static", Preset::Static),
            ("default", Preset::Default),
            ("lossy", Preset::Lossy),
        ]
        .into_iter()
        .map(|(name, preset)| build(name, preset))
        .collect()
    })
}

fn build(name: &'static str, preset: Preset) -> Setting {
    let config = SimConfig {
        nodes: NODES,
        lookups: TASKS,
        value_lookups: 0,
        warmup_duration: WARMUP,
        ..preset.sim_config()
    };
    let began = Instant::now();
    let net = sim::build_network(&config);
    let mut tasks = sim::make_tasks(&net, &config);
    // One lookup after the other, in the order they start, so that the
    // network's tables evolve forward in virtual time.
    tasks.sort_by_key(|t| (t.start, t.index));
    assert!(tasks.len() > SAMPLES, "{name}: only {} tasks", tasks.len());
    assert!(
        tasks.iter().all(|t| t.truth.len() == config.k),
        "{name}: a task has fewer than k answering nodes"
    );
    eprintln!(
        "accuracy: built the {name} network ({NODES} nodes, {} tasks) in {:.1?}",
        tasks.len(),
        began.elapsed()
    );
    Setting {
        name,
        config,
        net,
        tasks,
    }
}

/// What one lookup cost and missed.
struct Cost {
    rpcs: u64,
    misses: u64,
    /// Its position in the task list.
    position: usize,
}

impl Cost {
    fn of(
        net: &SimNetwork,
        k: usize,
        position: usize,
        task: &LookupTask,
        outcome: &LookupOutcome,
    ) -> Cost {
        let hits = outcome
            .result
            .iter()
            .filter_map(|c| net.index_of(c))
            .filter(|n| task.truth.contains(n))
            .count();
        Cost {
            rpcs: u64::from(outcome.stats.requests),
            misses: (k - hits) as u64,
            position,
        }
    }
}

/// One strategy working through a setting's task list on its own copy of
/// the warmed network.
struct Cycle {
    setting: &'static Setting,
    lookup: Contender,
    net: Arc<SimNetwork>,
    next: usize,
}

impl Cycle {
    fn new(setting: &'static Setting, strategy: StrategyName) -> Cycle {
        Cycle {
            setting,
            lookup: LookupConfig {
                k: setting.config.k,
                ..LookupConfig::default()
            }
            .with_strategy(strategy)
            .into(),
            net: Arc::new(setting.net.clone()),
            next: 0,
        }
    }

    /// Run the next `n` lookups, each on its own virtual clock started so
    /// that it begins at its task's start time. Past the end of the list,
    /// start again from a fresh copy of the network, so a value depends
    /// only on its position in the list.
    fn run(&mut self, n: u64) -> Vec<Cost> {
        let runtime = sim::virtual_time_runtime();
        runtime.block_on(async {
            let mut costs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                if self.next == self.setting.tasks.len() {
                    self.net = Arc::new(self.setting.net.clone());
                    self.next = 0;
                }
                let position = self.next;
                let task = &self.setting.tasks[position];
                self.next += 1;
                debug_assert_eq!(task.mode, LookupMode::FindNode);
                let outcome = task
                    .run(&self.net, &self.lookup, Clock::starting_now(), &mut ())
                    .await;
                costs.push(Cost::of(
                    &self.net,
                    self.lookup.k(),
                    position,
                    task,
                    &outcome,
                ));
            }
            costs
        })
    }
}

/// A count per lookup, as a criterion measurement. The count comes from
/// the benchmark through `iter_custom`; `start`/`end` (used by `iter` and
/// its kin) have nothing to count and panic.
trait Count: Measurement<Value = f64> + Sized + 'static {
    /// Group prefix and unit.
    const NAME: &'static str;
    /// The count of one lookup.
    fn count(cost: &Cost) -> u64;
    /// The value of one lookup: its count, dithered.
    fn value(cost: &Cost) -> f64 {
        Self::count(cost) as f64 + DITHER * (1 + cost.position % 2) as f64
    }
}

/// Prints counts with their unit: criterion's `time:` line reads
/// `[36.12 rpcs 37.40 rpcs 38.71 rpcs]`.
struct Unit(&'static str, &'static str);

impl ValueFormatter for Unit {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        self.0
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per = match *throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) => n,
        };
        for v in values {
            *v /= per.max(1) as f64;
        }
        self.1
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        self.0
    }
}

macro_rules! count_measurement {
    ($name:ident, $unit:literal, $per:literal, $field:ident, $doc:literal) => {
        #[doc = $doc]
        struct $name;

        impl Measurement for $name {
            type Intermediate = ();
            type Value = f64;

            fn start(&self) {
                panic!(concat!($unit, " are counted with iter_custom, not iter"));
            }

            fn end(&self, _: ()) -> f64 {
                panic!(concat!($unit, " are counted with iter_custom, not iter"));
            }

            fn add(&self, a: &f64, b: &f64) -> f64 {
                a + b
            }

            fn zero(&self) -> f64 {
                0.0
            }

            fn to_f64(&self, value: &f64) -> f64 {
                *value
            }

            fn formatter(&self) -> &dyn ValueFormatter {
                &Unit($unit, $per)
            }
        }

        impl Count for $name {
            const NAME: &'static str = $unit;
            fn count(cost: &Cost) -> u64 {
                cost.$field
            }
        }
    };
}

count_measurement!(Rpcs, "rpcs", "rpcs/elem", rpcs, "Requests sent per lookup.");
count_measurement!(
    Misses,
    "misses",
    "misses/elem",
    misses,
    "k − |result ∩ true k closest| per lookup."
);

/// `<measurement>/<setting>` groups with one benchmark per strategy.
fn accuracy<M: Count>(c: &mut Criterion<M>) {
    for setting in settings() {
        let mut group = c.benchmark_group(format!("{}/{}", M::NAME, setting.name));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(SAMPLES)
            .warm_up_time(Duration::from_nanos(1))
            .measurement_time(Duration::from_nanos(1));
        for strategy in StrategyName::ALL {
            let mut cycle = Cycle::new(setting, strategy);
            group.bench_function(strategy.as_str(), |b| {
                b.iter_custom(|iters| cycle.run(iters).iter().map(M::value).sum())
            });
        }
        group.finish();
    }
}

fn rpcs(c: &mut Criterion<Rpcs>) {
    accuracy(c);
}

fn misses(c: &mut Criterion<Misses>) {
    accuracy(c);
}

criterion_group! {
    name = rpcs_per_lookup;
    config = Criterion::default().with_measurement(Rpcs);
    targets = rpcs
}
criterion_group! {
    name = misses_per_lookup;
    config = Criterion::default().with_measurement(Misses);
    targets = misses
}
criterion_main!(rpcs_per_lookup, misses_per_lookup);
