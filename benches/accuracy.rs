//! What each built-in lookup strategy costs and misses, measured the way
//! criterion measures time: `cargo bench --bench accuracy`.
//!
//! Groups `rpcs/<setting>` and `misses/<setting>` for the settings
//! `static`, `default` and `lossy`, one benchmark per strategy of
//! `StrategyName::ALL`. The measurements, the settings and why two runs
//! give identical samples are in `kadlab::accuracy`; this file is what a
//! strategy's author writes for their own, with the built-in strategies as
//! the contenders.

use kadlab::accuracy::criterion::{criterion_group, criterion_main, Criterion};
use kadlab::accuracy::{bench, default_settings, Count, Misses, Rpcs};
use kadlab::lookup::{Contender, LookupConfig, StrategyName};

/// Every built-in strategy, with its defaults and the setting's k, on each
/// setting.
fn accuracy<M: Count>(c: &mut Criterion<M>) {
    for setting in default_settings() {
        let contenders = StrategyName::ALL.map(|strategy| {
            let config = LookupConfig {
                k: setting.config().k,
                ..LookupConfig::default()
            };
            Contender::from(config.with_strategy(strategy))
        });
        bench(c, std::slice::from_ref(setting), &contenders);
    }
}

criterion_group! {
    name = rpcs_per_lookup;
    config = Criterion::default().with_measurement(Rpcs);
    targets = accuracy
}
criterion_group! {
    name = misses_per_lookup;
    config = Criterion::default().with_measurement(Misses);
    targets = accuracy
}
criterion_main!(rpcs_per_lookup, misses_per_lookup);
