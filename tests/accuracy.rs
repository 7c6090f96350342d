//! The criterion-free part of `kadlab::accuracy`: settings, cycles and the
//! costs they report, on a network small enough for a test.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kadlab::accuracy::{Cost, Cycle, Setting};
use kadlab::lookup::{Contender, LookupConfig, LookupMode, StrategyName};
use kadlab::sim::{ChurnModel, SimConfig};

/// A churned network of 400 nodes with 12 lookups (and FIND_VALUE lookups
/// the setting must leave out), built once for every test.
fn setting() -> &'static Setting {
    static SETTING: OnceLock<Setting> = OnceLock::new();
    SETTING.get_or_init(|| {
        Setting::new(
            "tiny",
            SimConfig {
                nodes: 400,
                lookups: 12,
                value_lookups: 4,
                churn: ChurnModel::Exponential {
                    mean: Duration::from_secs(600),
                },
                warmup_duration: Duration::from_secs(10 * 60),
                seed: 3,
                ..SimConfig::default()
            },
        )
    })
}

fn contender(strategy: StrategyName) -> Contender {
    LookupConfig {
        k: setting().config().k,
        ..LookupConfig::default()
    }
    .with_strategy(strategy)
    .into()
}

#[test]
fn a_setting_keeps_its_find_node_lookups_in_start_order() {
    let tasks = setting().tasks();
    assert!(tasks.len() > 6, "only {} tasks", tasks.len());
    assert!(tasks.len() <= 12);
    assert!(tasks.iter().all(|t| t.mode == LookupMode::FindNode));
    assert!(tasks.windows(2).all(|w| w[0].start <= w[1].start));
    assert_eq!(setting().name(), "tiny");
}

#[test]
fn a_fresh_cycle_gives_the_same_costs_however_it_is_called() {
    for strategy in StrategyName::ALL {
        let n = setting().tasks().len() as u64;
        let first = Cycle::new(setting(), contender(strategy)).run(n);
        let mut again = Cycle::new(setting(), contender(strategy));
        let mut chunked = again.run(1);
        chunked.extend(again.run(4));
        chunked.extend(again.run(n - 5));
        assert_eq!(first, chunked, "{strategy:?}");
    }
}

#[test]
fn misses_are_k_minus_the_true_closest_returned() {
    let setting = setting();
    let k = setting.config().k;
    // delta returns contacts it never heard back from, so under churn it
    // misses some of the true k closest, and the check is not vacuous.
    let delta = contender(StrategyName::Delta);
    let costs = Cycle::new(setting, delta.clone()).run(setting.tasks().len() as u64);

    let net = Arc::new(setting.network().clone());
    let expected: Vec<Cost> = {
        let mut expected = Vec::new();
        for (position, task) in setting.tasks().iter().enumerate() {
            let outcome = task.run(&net, &delta, &mut ());
            let hits = outcome
                .result
                .iter()
                .filter(|c| {
                    task.truth
                        .iter()
                        .any(|&n| net.nodes[n as usize].contact == **c)
                })
                .count();
            expected.push(Cost {
                rpcs: u64::from(outcome.stats.requests),
                misses: (k - hits) as u64,
                position,
            });
        }
        expected
    };
    assert_eq!(costs, expected);
    assert!(costs.iter().any(|c| c.misses > 0), "{costs:?}");
    assert!(costs.iter().any(|c| c.misses < k as u64), "{costs:?}");
}

#[test]
fn positions_advance_and_wrap_to_a_fresh_network() {
    let setting = setting();
    let len = setting.tasks().len();
    let costs = Cycle::new(setting, contender(StrategyName::KActive)).run(len as u64 + 3);
    let positions: Vec<usize> = costs.iter().map(|c| c.position).collect();
    let expected: Vec<usize> = (0..len).chain(0..3).collect();
    assert_eq!(positions, expected);
    assert_eq!(costs[len..], costs[..3]);
}

#[test]
#[should_panic(expected = "contender kademlia has k = 8")]
fn a_contender_of_another_k_is_refused() {
    let other = LookupConfig {
        k: 8,
        ..LookupConfig::default()
    };
    Cycle::new(setting(), other.into());
}
