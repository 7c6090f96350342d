//! The kadlab configuration file.
//!
//! One TOML file configures everything: `[lookup]` selects the strategy and
//! its parameters (see `kadlab.example.toml`). Unknown tables and keys are
//! errors, so a typo never silently falls back to a default.

use std::path::Path;

use serde::Deserialize;

use crate::lookup::{ConfigError, LookupConfig, StrategyName};

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
    /// Strategies to compare.
    pub strategies: Option<Vec<StrategyName>>,
}

impl ConfigFile {
    /// Parse and check a TOML document.
    pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        let file: ConfigFile = toml::from_str(text)?;
        file.lookup.validate()?;
        Ok(file)
    }

    /// Read, parse and check a TOML file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ConfigFile::parse(&text)
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
