//! The kadlab configuration file.
//!
//! One TOML file configures everything: `[lookup]` selects the strategy and
//! its parameters (see `kadlab.example.toml`). Unknown tables and keys are
//! errors, so a typo never silently falls back to a default.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::lookup::{ConfigError, LookupConfig, StrategyName};
use crate::routing::RoutingConfig;

/// A kadlab TOML file. Only the tables defined so far are accepted; an
/// unknown table is an error naming it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[lookup]`: the strategy and its parameters.
    #[serde(default)]
    pub lookup: LookupConfig,
    /// `[sim]`: the simulated network of `kadlab compare` and `sweep`.
    #[serde(default)]
    pub sim: SimSection,
    /// `[node]`: real nodes of `kadlab node`, `lookup`, `put`, `get`, `swarm`.
    #[serde(default)]
    pub node: NodeSection,
    /// `[routing]`: the node-state and refresh thresholds of every routing
    /// table, simulated or real.
    #[serde(default)]
    pub routing: RoutingSection,
}

/// The `[routing]` table: BEP 5's thresholds, each optional (BEP 5's values
/// are the defaults). Shared by the simulator and real nodes, since they run
/// the same routing table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSection {
    /// Seconds of silence after which a contact is questionable (900).
    pub questionable_after_s: Option<u64>,
    /// Failed requests in a row after which a contact is bad (3).
    pub bad_after: Option<u8>,
    /// Seconds a bucket may go untouched before it is refreshed (900).
    pub refresh_interval_s: Option<u64>,
}

impl RoutingSection {
    /// Apply the keys that are set to `routing`, checking each range.
    pub fn apply(&self, routing: &mut RoutingConfig) -> Result<(), ConfigError> {
        let seconds = |key: &'static str, v: Option<u64>| match v {
            Some(s) if !(1..=86_400).contains(&s) => Err(ConfigError::OutOfRange {
                key,
                value: s.to_string(),
                allowed: "1 to 86400 seconds (a day)",
            }),
            Some(s) => Ok(Some(Duration::from_secs(s))),
            None => Ok(None),
        };
        if let Some(d) = seconds("questionable_after_s", self.questionable_after_s)? {
            routing.questionable_after = d;
        }
        if let Some(d) = seconds("refresh_interval_s", self.refresh_interval_s)? {
            routing.refresh_interval = d;
        }
        if let Some(n) = self.bad_after {
            if n == 0 {
                return Err(ConfigError::OutOfRange {
                    key: "bad_after",
                    value: n.to_string(),
                    allowed: "1 to 255 failed requests in a row",
                });
            }
            routing.bad_after = n;
        }
        Ok(())
    }
}

/// The `[node]` table: every key optional; flags of the same name override
/// it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Address to bind, `IP:PORT`.
    pub bind: Option<String>,
    /// Bootstrap nodes, `HOST:PORT` each.
    pub bootstrap: Option<Vec<String>>,
    /// Node id as 40 hex digits; random when absent.
    pub id: Option<String>,
    /// How long a query waits for its answer, in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// Bound on a whole bootstrap, in seconds.
    pub bootstrap_deadline_s: Option<u64>,
    /// The node's public IPv4 address: with no `id`, the node picks a
    /// BEP 42 id for it.
    pub external_ip: Option<String>,
    /// BEP 42: queriers whose ids do not match their IP never push a
    /// contact out of a full bucket.
    pub prefer_verified_ids: Option<bool>,
}

/// The `[sim]` table: every key optional, falling back to the preset.
/// Command-line flags of the same name override it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSection {
    /// `static`, `default`, `churn-heavy`, `lossy`, `eclipse` or
    /// `s-kademlia`.
    pub preset: Option<String>,
    /// Number of nodes.
    pub nodes: Option<usize>,
    /// FIND_NODE lookups per strategy.
    pub lookups: Option<usize>,
    /// FIND_VALUE lookups per strategy.
    pub value_lookups: Option<usize>,
    /// Datagram loss probability, 0 to 1.
    pub loss: Option<f64>,
    /// `none`, `exp:<mean_s>` or `weibull:<shape>:<scale_s>`.
    pub churn: Option<String>,
    /// Fraction of unreachable nodes, 0 to 1.
    pub unreachable: Option<f64>,
    /// Fraction of colluding adversaries, 0 to 1.
    pub adversaries: Option<f64>,
    /// `collude`, `drop`, `stale-flood` or `forge`.
    pub adversary_mode: Option<String>,
    /// Eclipse attack on this key (40 hex digits); needs `sybils`.
    pub eclipse: Option<String>,
    /// Sybils placed next to the `eclipse` key.
    pub sybils: Option<usize>,
    /// Seed of every random choice.
    pub seed: Option<u64>,
    /// `oracle` or `join`.
    pub warmup: Option<String>,
    /// `oracle`, `lookups` or `off`.
    pub upkeep: Option<String>,
    /// Background lookups per up node, `N/h` or `N/min`.
    pub background_lookups: Option<String>,
    /// Strategies to compare.
    pub strategies: Option<Vec<StrategyName>>,
}

impl ConfigFile {
    /// Parse and check a TOML document.
    pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        let file: ConfigFile = toml::from_str(text)?;
        file.lookup.validate()?;
        file.routing.apply(&mut RoutingConfig::default())?;
        Ok(file)
    }

    /// Read, parse and check a TOML file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Io {
            path: path.display().to_string(),
            reason,
        })?;
        ConfigFile::parse(&text).map_err(|error| ConfigError::InFile {
            path: path.display().to_string(),
            error: Box::new(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_names_every_strategy() {
        let file = ConfigFile::parse(include_str!("../kadlab.example.toml")).unwrap();
        assert_eq!(file.sim.strategies.as_deref(), Some(&StrategyName::ALL[..]));
        assert_eq!(file.lookup.paths, 4);
        assert_eq!(file.node.bootstrap_deadline_s, Some(60));
    }

    #[test]
    fn an_unknown_key_is_named() {
        let error = ConfigFile::parse("[node]\nbootstrapp = []\n").unwrap_err();
        assert!(error.to_string().contains("bootstrapp"), "{error}");
    }
}
