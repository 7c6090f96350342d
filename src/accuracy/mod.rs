//! What a lookup strategy costs and misses, measured the way criterion
//! measures time, for any [`Contender`](crate::lookup::Contender): the
//! built-in strategies or one written outside this crate.
//!
//! A strategy's author wants to see, next to the built-in ones, how many
//! requests their lookup sends and how many of the true k closest it
//! misses, and to have criterion tell them when a change moves either. This
//! module gives them that in a few lines of their own `benches/` file (the
//! example below); `cargo bench --bench accuracy` runs the same code on the
//! built-in strategies.
//!
//! Two custom criterion measurements replace the wall clock:
//!
//! - [`Rpcs`]: requests a lookup sends (`LookupStats::requests`);
//! - [`Misses`]: k − |result ∩ true k closest|, the true k closest being
//!   the honest nodes (other than the origin) answering when the lookup
//!   starts ([`LookupTask::truth`](crate::sim::LookupTask::truth)).
//!
//! A measurement's `start()`/`end()` cannot see a lookup, so every
//! benchmark uses `iter_custom`: for `iters` iterations a [`Cycle`] runs the
//! next `iters` lookups of a [`Setting`]'s fixed, seeded task list, one
//! after the other, each at its own start time in virtual time, and the
//! benchmark returns their summed RPCs (or misses). Criterion then treats
//! the sums exactly as it treats elapsed times: per-iteration values, mean,
//! median, standard deviation, confidence intervals, outliers, change
//! against the last run, and the HTML report under
//! `target/criterion/report/index.html`.
//!
//! [`bench()`] makes groups `rpcs/<setting>` and `misses/<setting>`, with one
//! benchmark per contender, so criterion's group report shows the
//! strategies side by side. [`default_settings`] are `static`, `default`
//! and `lossy` (the `kadlab compare` presets, smaller: 5,000 nodes and 30
//! minutes of churn before the lookups). Each network is built and warmed
//! once per run; every benchmark starts from a fresh copy of it and from
//! the start of the same task list, so all contenders answer the same
//! lookups on the same network. Unlike `kadlab compare`, whose lookups
//! overlap in virtual time, these are FIND_NODE lookups run one at a time,
//! on a smaller network: the figures are close to `compare`'s, not equal.
//!
//! # The `criterion` feature
//!
//! [`Setting`], [`Cycle`] and [`Cost`] need nothing but the simulator and
//! are always compiled. The measurements, [`bench()`] and
//! [`default_settings`] need criterion, behind the `criterion` feature,
//! which is on by default so that a strategy's author gets the benchmarks
//! without asking. A library user who only runs DHT nodes need not compile
//! criterion and its plotting stack: `default-features = false` turns it
//! off. With the feature on, this module re-exports criterion
//! ([`criterion`](mod@criterion)), so a user's benchmark file uses the
//! very version these measurements implement, without a `criterion` line
//! of its own that could drift to another.
//!
//! # Determinism
//!
//! Criterion picks its iteration counts from the *wall time* of the
//! warm-up, so the same code gives different counts run to run, and the
//! values would differ with them. To make two runs give identical samples
//! (and criterion report "No change in performance detected"), [`bench()`]
//! pins warm-up and measurement times to 1 ns: the warm-up is then exactly
//! one call with one iteration (task 0), and flat sampling gives every
//! sample exactly one iteration (tasks 1, 2, …, [`SAMPLES`]). Each sample
//! is thus one lookup, and criterion's mean, median and standard deviation
//! are those of the per-lookup values. Criterion warns that it is "unable
//! to complete N samples in 1.0ns"; that is expected.
//!
//! Criterion refuses a sample of zero ("took zero time per iteration"), and
//! its density plots divide by the samples' standard deviation, while many
//! lookups miss nothing and some strategies cost the same on every lookup
//! (`delta` spends its whole budget of 20 on a static network). So each
//! lookup's count gets 10⁻⁶ added, twice for lookups at odd positions of
//! the task list ([`Count::value`]): a fixed, deterministic 10⁻⁶ or
//! 2·10⁻⁶, far below the precision criterion prints, that keeps every value
//! and the standard deviation above zero.
//!
//! # A benchmark file of your own
//!
//! With `harness = false` for it in `Cargo.toml`, this is a whole
//! `benches/mine.rs` comparing an outside strategy with the paper's rule:
//!
//! ```no_run
//! use kadlab::accuracy::criterion::{criterion_group, criterion_main, Criterion};
//! use kadlab::accuracy::{bench, default_settings, Count, Misses, Rpcs};
//! use kadlab::lookup::{Contender, LookupConfig, StrategyName};
//!
//! fn contenders() -> Vec<Contender> {
//!     // An outside rule: here the built-in delta with δ = 1, under a name
//!     // of its own.
//!     let mine = Contender::new("my-delta", "delta=1", |table, target, mode| {
//!         let config = LookupConfig { delta: 1, ..LookupConfig::default() };
//!         config.with_strategy(StrategyName::Delta).start(table, target, mode)
//!     });
//!     vec![mine, Contender::from(LookupConfig::default())]
//! }
//!
//! fn accuracy<M: Count>(c: &mut Criterion<M>) {
//!     bench(c, default_settings(), &contenders());
//! }
//!
//! criterion_group! {
//!     name = rpcs;
//!     config = Criterion::default().with_measurement(Rpcs);
//!     targets = accuracy
//! }
//! criterion_group! {
//!     name = misses;
//!     config = Criterion::default().with_measurement(Misses);
//!     targets = accuracy
//! }
//! criterion_main!(rpcs, misses);
//! ```
//!
//! Settings of your own come from any [`SimConfig`](crate::sim::SimConfig)
//! through [`Setting::new`]; [`Cycle`] runs a contender over one without
//! criterion, for tests or figures of your own.

mod cycle;
#[cfg(feature = "criterion")]
mod measure;
mod setting;

pub use cycle::{Cost, Cycle};
#[cfg(feature = "criterion")]
pub use measure::{bench, default_settings, Count, Misses, Rpcs, SAMPLES};
pub use setting::Setting;

/// The criterion these measurements implement, for a benchmark file to
/// take its `Criterion`, `criterion_group!` and `criterion_main!` from, so
/// it cannot end up on another version than [`Rpcs`] and [`Misses`].
#[cfg(feature = "criterion")]
pub use criterion;
