//! The criterion side: [`Rpcs`] and [`Misses`] as measurements, and
//! [`bench()`], which makes their groups.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, SamplingMode, Throughput};

use crate::accuracy::{Cost, Cycle, Setting};
use crate::cli::compare::Preset;
use crate::lookup::Contender;
use crate::sim::SimConfig;

/// Samples per benchmark: lookups measured, one per sample (see the
/// module's determinism notes). A setting needs more tasks than this, one
/// for criterion's warm-up, so that no lookup is measured twice.
pub const SAMPLES: usize = 100;

/// Added to the count of every lookup, twice at odd positions of the task
/// list, so that no value and no standard deviation is zero (see the
/// module docs).
const DITHER: f64 = 1e-6;

/// Nodes per network of [`default_settings`].
const NODES: usize = 5_000;
/// Virtual time of churn, with bucket refresh every 15 minutes, between
/// filling the tables and the lookup window (`compare` uses an hour).
const WARMUP: Duration = Duration::from_secs(30 * 60);
/// FIND_NODE tasks drawn per network of [`default_settings`]: the warm-up
/// lookup and every sample fit, so a run never cycles back to the start of
/// the list.
const TASKS: usize = 200;

/// A count per lookup, as a criterion measurement: what [`bench()`] needs of
/// [`Rpcs`] and [`Misses`], and what a count of one's own would implement.
/// The count comes from the benchmark through `iter_custom`; `start` and
/// `end` (used by `iter` and its kin) have nothing to count.
pub trait Count: Measurement<Value = f64> + Sized + 'static {
    /// The group prefix and the unit criterion prints.
    const NAME: &'static str;

    /// The count of one lookup.
    fn count(cost: &Cost) -> u64;

    /// The value criterion records for one lookup: its count, plus 10⁻⁶
    /// (2·10⁻⁶ at odd positions of the task list) so that no value and no
    /// standard deviation is zero.
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
        ///
        /// # Panics
        /// In `start` and `end`: a benchmark measured with it must count
        /// through `iter_custom`, as [`bench()`] does; `iter` has no lookup
        /// to count.
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

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

count_measurement!(
    Rpcs,
    "rpcs",
    "rpcs/elem",
    rpcs,
    "Requests sent per lookup, as a criterion measurement: what a strategy costs."
);
count_measurement!(
    Misses,
    "misses",
    "misses/elem",
    misses,
    "k − |result ∩ true k closest| per lookup, as a criterion measurement: \
     what a strategy gets wrong."
);

/// Add a group `<M::NAME>/<setting>` for every setting, with one benchmark
/// per contender named after it, so criterion's report shows the
/// contenders side by side on each network. Warm-up and measurement times
/// are pinned so that every sample is one lookup and two runs give the
/// same samples (see the module docs).
///
/// # Panics
/// If a setting has no more than [`SAMPLES`] tasks (a lookup would be
/// measured twice), or a contender's k is not a setting's
/// ([`Cycle::new`]).
pub fn bench<M: Count>(c: &mut Criterion<M>, settings: &[Setting], contenders: &[Contender]) {
    for setting in settings {
        assert!(
            setting.tasks().len() > SAMPLES,
            "{}: only {} tasks for {SAMPLES} samples and a warm-up",
            setting.name(),
            setting.tasks().len()
        );
        let mut group = c.benchmark_group(format!("{}/{}", M::NAME, setting.name()));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(SAMPLES)
            .warm_up_time(Duration::from_nanos(1))
            .measurement_time(Duration::from_nanos(1));
        for contender in contenders {
            let mut cycle = Cycle::new(setting, contender.clone());
            group.bench_function(contender.name(), |b| {
                b.iter_custom(|iters| cycle.run(iters).iter().map(M::value).sum())
            });
        }
        group.finish();
    }
}

/// The settings `static`, `default` and `lossy`: the `kadlab compare`
/// presets of those names, smaller (5,000 nodes, 30 minutes of churn
/// before the lookups, 200 FIND_NODE lookups) so a benchmark run takes
/// minutes. They are built once per process, on first use, and shared by
/// every measurement and every caller; each build is reported on stderr,
/// since it takes a while before criterion prints anything.
pub fn default_settings() -> &'static [Setting] {
    static SETTINGS: OnceLock<Vec<Setting>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        [
            ("static", Preset::Static),
            ("default", Preset::Default),
            ("lossy", Preset::Lossy),
        ]
        .into_iter()
        .map(|(name, preset)| {
            let config = SimConfig {
                nodes: NODES,
                lookups: TASKS,
                value_lookups: 0,
                warmup_duration: WARMUP,
                ..preset.sim_config()
            };
            let began = Instant::now();
            let setting = Setting::new(name, config);
            eprintln!(
                "accuracy: built the {name} network ({NODES} nodes, {} tasks) in {:.1?}",
                setting.tasks().len(),
                began.elapsed()
            );
            setting
        })
        .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_counts_dithered_by_position() {
        let cost = |position| Cost {
            rpcs: 37,
            misses: 2,
            position,
        };
        assert_eq!(Rpcs::value(&cost(0)), 37.0 + 1e-6);
        assert_eq!(Rpcs::value(&cost(1)), 37.0 + 2e-6);
        assert_eq!(Misses::value(&cost(4)), 2.0 + 1e-6);
        assert_eq!(Misses::value(&cost(7)), 2.0 + 2e-6);
        let zero = Cost {
            rpcs: 0,
            misses: 0,
            position: 0,
        };
        assert!(Misses::value(&zero) > 0.0);
    }
}
