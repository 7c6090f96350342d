//! `seeds`: how many routing-table contacts a lookup starts from. The seed
//! strategies keep their sources' α (or δ); `kademlia` and `disjoint`
//! start from k, as deployed implementations do; the key overrides both.

mod common;

use common::{Net, Setup};
use kadlab::config::ConfigFile;
use kadlab::lookup::{EndReason, StrategyName};

/// Ten nodes in the table, none of which answers: a lookup can only ask the
/// contacts it started from, so the requests it sends count its seeds.
fn requests_when_every_seed_fails(setup: &Setup) -> (u32, EndReason) {
    let table: Vec<u32> = (1..=10).collect();
    let mut net = Net::new();
    for &n in &table {
        net = net.fails(n);
    }
    let trace = setup.run(&table, &net);
    (trace.stats().requests, trace.reason())
}

#[test]
fn each_strategy_starts_from_its_default_number_of_contacts() {
    // α = δ = 2, k = 4 (see `Setup::new`).
    for (strategy, seeds) in [
        (StrategyName::Delta, 2),
        (StrategyName::QueryRest, 2),
        (StrategyName::KActive, 2),
        (StrategyName::Kademlia, 4),
        (StrategyName::Disjoint, 4),
    ] {
        let setup = Setup::new(strategy);
        assert_eq!(setup.config.seed_count(), seeds, "{strategy}");
        let (requests, reason) = requests_when_every_seed_fails(&setup);
        assert_eq!(requests, seeds as u32, "{strategy}");
        assert_ne!(reason, EndReason::Converged, "{strategy}");
        assert!(
            setup.config.describe().contains(&format!("seeds={seeds}")),
            "{strategy}: {}",
            setup.config.describe()
        );
    }
}

#[test]
fn the_seeds_key_overrides_every_default() {
    for strategy in StrategyName::ALL {
        for seeds in [1, 3, 7] {
            let setup = Setup::new(strategy).seeds(seeds);
            let (requests, _) = requests_when_every_seed_fails(&setup);
            assert_eq!(requests, seeds as u32, "{strategy} with seeds = {seeds}");
        }
    }
}

#[test]
fn seeds_is_a_lookup_key_with_a_range() {
    let file = ConfigFile::parse("[lookup]\nstrategy = \"kademlia\"\nseeds = 8\n").expect("valid");
    assert_eq!(file.lookup.seed_count(), 8);
    for bad in ["seeds = 0", "seeds = 256"] {
        let error = ConfigFile::parse(&format!("[lookup]\n{bad}\n")).expect_err(bad);
        let message = error.to_string();
        assert!(
            message.contains("seeds") && message.contains("1 to 255"),
            "{message}"
        );
    }
}
