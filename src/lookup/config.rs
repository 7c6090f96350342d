//! Selecting a strategy and its parameters, from TOML or from code.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::context::{LookupSpec, DEFAULT_RPC_TIMEOUT};
use crate::lookup::delta::{Delta, DeltaParams};
use crate::lookup::disjoint::{Disjoint, DisjointParams};
use crate::lookup::gated::{Gated, GatedParams};
use crate::lookup::k_active::{KActive, KActiveParams};
use crate::lookup::kademlia::{Kademlia, KademliaParams};
use crate::lookup::machine::Lookup;
use crate::lookup::query_rest::{QueryRest, QueryRestParams};
use crate::lookup::{LookupMode, LookupStrategy};
use crate::routing::RoutingTable;

/// The strategies kadlab can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyName {
    /// Delta-bounded best-effort (seed 1).
    Delta,
    /// Closest-unchanged / query-rest (seed 2).
    QueryRest,
    /// Shortlist-until-k-active (seed 3).
    KActive,
    /// The Kademlia paper's rule (reference).
    Kademlia,
    /// S/Kademlia's d disjoint paths (reference under attack).
    Disjoint,
    /// kadlab's own: gated, β-terminated, hedged, vouched.
    Gated,
}

impl StrategyName {
    /// Every strategy, in report order.
    pub const ALL: [StrategyName; 6] = [
        StrategyName::Delta,
        StrategyName::QueryRest,
        StrategyName::KActive,
        StrategyName::Kademlia,
        StrategyName::Disjoint,
        StrategyName::Gated,
    ];

    /// The name as written in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::Delta => "delta",
            StrategyName::QueryRest => "query-rest",
            StrategyName::KActive => "k-active",
            StrategyName::Kademlia => "kademlia",
            StrategyName::Disjoint => "disjoint",
            StrategyName::Gated => "gated",
        }
    }

    /// Its rule in one sentence, for readers of a report who have not
    /// read docs/ALGORITHMS.md yet.
    pub fn rule(self) -> &'static str {
        match self {
            StrategyName::Delta => {
                "keeps δ requests in flight within a budget and returns the closest \
                 contacts it has seen, whether they answered or not"
            }
            StrategyName::QueryRest => {
                "asks in rounds of α; when a round brings nothing closer it asks the \
                 rest of the k closest once, then stops"
            }
            StrategyName::KActive => {
                "keeps α requests in flight until a reply brings nothing closer, then \
                 asks on until k contacts have answered"
            }
            StrategyName::Kademlia => {
                "follows the Kademlia paper: α in flight while replies bring closer \
                 contacts; after α replies without progress it asks every one of the k \
                 closest not yet asked, and stops when the k closest have all answered"
            }
            StrategyName::Disjoint => {
                "runs S/Kademlia's lookup over d disjoint paths, each a lookup of its \
                 own that no contact of another path may enter"
            }
            StrategyName::Gated => {
                "keeps α requests in flight among the k closest known, asks the next \
                 contact beside one unanswered past the hedge, stops when the β closest \
                 have answered, and returns those with the contacts enough of them vouched for"
            }
        }
    }

    /// What reports say a strategy named `name` does: its
    /// [rule](StrategyName::rule), or that it is one from outside kadlab.
    pub fn rule_of(name: &str) -> &'static str {
        name.parse::<StrategyName>().map_or(
            "is a strategy from outside kadlab's built-ins",
            StrategyName::rule,
        )
    }

    /// The allowed names, for error messages.
    pub fn allowed() -> String {
        StrategyName::ALL.map(|s| s.as_str()).join(", ")
    }
}

impl fmt::Display for StrategyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StrategyName {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StrategyName::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| ConfigError::UnknownStrategy(s.to_string()))
    }
}

/// How many requests `delta` may send in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Budget {
    /// As many as the result size k (written `k`), the default: the seed's
    /// commentary reads δ as "ask about that many nodes", and a budget that
    /// follows k keeps that reading whatever k a run uses.
    K,
    /// At most this many.
    Requests(u32),
    /// No limit: ask until the frontier is empty (the seed's literal code).
    Unlimited,
}

impl Budget {
    /// This budget for result size `k`: [`Budget::K`] becomes k requests,
    /// the others stay as they are. Reports print budgets this way, so a
    /// run with k = 16 shows `budget=16`.
    pub fn for_k(self, k: usize) -> Budget {
        match self {
            Budget::K => Budget::Requests(u32::try_from(k).unwrap_or(u32::MAX)),
            other => other,
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::K => f.write_str("k"),
            Budget::Requests(n) => write!(f, "{n}"),
            Budget::Unlimited => f.write_str("none"),
        }
    }
}

/// What `budget` accepts, for every message that mentions it.
const BUDGET_ALLOWED: &str =
    "a whole number of requests ≥ 1, \"k\" (as many as k, the default) or \"none\"";

impl FromStr for Budget {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => return Ok(Budget::Unlimited),
            "k" => return Ok(Budget::K),
            _ => {}
        }
        s.parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .map(Budget::Requests)
            .ok_or_else(|| ConfigError::OutOfRange {
                key: "budget",
                value: s.to_string(),
                allowed: BUDGET_ALLOWED,
            })
    }
}

impl Serialize for Budget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Budget::K => s.serialize_str("k"),
            Budget::Requests(n) => s.serialize_u32(*n),
            Budget::Unlimited => s.serialize_str("none"),
        }
    }
}

impl<'de> Deserialize<'de> for Budget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BudgetVisitor;
        impl Visitor<'_> for BudgetVisitor {
            type Value = Budget;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(BUDGET_ALLOWED)
            }
            // Numbers and words go through the one rule of `FromStr`.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Budget, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Budget, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Budget, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(BudgetVisitor)
    }
}

/// Why a configuration was refused. Each message names the key and what it
/// accepts, so the fix is obvious from the message alone.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}; check the path given to --config")]
    Io {
        /// The file.
        path: String,
        /// Why (not a `source`: the message already says it, once).
        reason: std::io::Error,
    },
    /// Not valid TOML, an unknown key or a value of the wrong type; the
    /// parser's message points at the line and names the key, and Rust's
    /// type names in it are put in plain words.
    #[error("{}", plain_toml(.0))]
    Toml(#[from] toml::de::Error),
    /// Any of the others, found in the config file `path`.
    #[error("in config file {path}: {error}")]
    InFile {
        /// The file.
        path: String,
        /// What is wrong in it.
        error: Box<ConfigError>,
    },
    /// A strategy name kadlab does not know.
    #[error("unknown strategy {0:?}: allowed values are {allowed}", allowed = StrategyName::allowed())]
    UnknownStrategy(String),
    /// A value outside its range.
    #[error("{key} = {value} is out of range: allowed is {allowed}")]
    OutOfRange {
        /// The key, as written in the file.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
}

/// The TOML parser's message with the Rust type names it uses for the
/// expected value (`expected usize`) said as a user would.
fn plain_toml(error: &toml::de::Error) -> String {
    [
        ("expected usize", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ]
    .iter()
    .fold(error.to_string(), |message, (rust, plain)| {
        message.replace(rust, plain)
    })
    .trim_end()
    .to_string()
}

/// Largest k: results are counted in a byte on the wire of some DHTs, and a
/// bucket of more than 255 contacts is no longer a Kademlia bucket.
pub const MAX_K: usize = 255;

/// `gated`'s default β (see docs/ALGORITHMS.md §6 for how it was chosen).
pub const DEFAULT_BETA: usize = 20;
/// `gated`'s default hedge in milliseconds.
pub const DEFAULT_HEDGE_MS: u64 = 500;
/// `gated`'s default vouches.
pub const DEFAULT_VOUCHES: usize = 1;

/// Which strategy a lookup uses, and its parameters: the `[lookup]` table of
/// a kadlab TOML file. Keys not used by the chosen strategy are accepted (a
/// comparison runs several strategies from one file).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookupConfig {
    /// The strategy.
    pub strategy: StrategyName,
    /// α: parallelism of `query-rest`, `k-active` and `kademlia`.
    pub alpha: usize,
    /// k: result size.
    pub k: usize,
    /// δ: parallelism of `delta`.
    pub delta: usize,
    /// Total requests `delta` may send; k unless set.
    pub budget: Budget,
    /// Per-request timeout, in milliseconds.
    pub rpc_timeout_ms: u64,
    /// Round timeout of `query-rest`, in milliseconds.
    pub round_timeout_ms: u64,
    /// d: number of disjoint paths of `disjoint`.
    pub paths: usize,
    /// How many routing-table contacts the lookup starts from; `None` for
    /// the strategy's own default (see [`LookupConfig::seed_count`]).
    pub seeds: Option<usize>,
    /// β of `gated`: the closest known contacts that must have answered.
    pub beta: usize,
    /// `gated`'s hedge, in milliseconds: a request unanswered this long is
    /// suspect and the next contact is asked beside it; 0 never hedges.
    pub hedge_ms: u64,
    /// `gated`: answering nodes that must have reported an unasked contact
    /// for it to fill the result.
    pub vouches: usize,
    /// `gated`: answering nodes that must have reported a contact whose
    /// request failed for it to fill the result all the same; 0 never (the
    /// default). Worth setting on lossy networks only (docs/ALGORITHMS.md
    /// §6).
    pub failed_vouches: usize,
}

impl Default for LookupConfig {
    fn default() -> Self {
        LookupConfig {
            strategy: StrategyName::Kademlia,
            alpha: 3,
            k: 20,
            delta: 3,
            budget: Budget::K,
            rpc_timeout_ms: DEFAULT_RPC_TIMEOUT.as_millis() as u64,
            round_timeout_ms: DEFAULT_RPC_TIMEOUT.as_millis() as u64,
            paths: 4,
            seeds: None,
            beta: DEFAULT_BETA,
            hedge_ms: DEFAULT_HEDGE_MS,
            vouches: DEFAULT_VOUCHES,
            failed_vouches: 0,
        }
    }
}

impl LookupConfig {
    /// Check ranges that types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |ok: bool, key: &'static str, value: String, allowed: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    key,
                    value,
                    allowed,
                })
            }
        };
        check(
            (1..=64).contains(&self.alpha),
            "alpha",
            self.alpha.to_string(),
            "1 to 64",
        )?;
        check(
            (1..=MAX_K).contains(&self.k),
            "k",
            self.k.to_string(),
            "1 to 255",
        )?;
        check(
            (1..=64).contains(&self.delta),
            "delta",
            self.delta.to_string(),
            "1 to 64",
        )?;
        check(
            self.budget != Budget::Requests(0),
            "budget",
            self.budget.to_string(),
            BUDGET_ALLOWED,
        )?;
        check(
            (1..=600_000).contains(&self.rpc_timeout_ms),
            "rpc_timeout_ms",
            self.rpc_timeout_ms.to_string(),
            "1 to 600000 (ten minutes)",
        )?;
        check(
            (1..=600_000).contains(&self.round_timeout_ms),
            "round_timeout_ms",
            self.round_timeout_ms.to_string(),
            "1 to 600000 (ten minutes)",
        )?;
        check(
            (1..=16).contains(&self.paths),
            "paths",
            self.paths.to_string(),
            "1 to 16",
        )?;
        check(
            (1..=MAX_K).contains(&self.beta),
            "beta",
            self.beta.to_string(),
            "1 to 255",
        )?;
        check(
            self.hedge_ms <= 600_000,
            "hedge_ms",
            self.hedge_ms.to_string(),
            "0 (never) to 600000 (ten minutes)",
        )?;
        check(
            (1..=MAX_K).contains(&self.vouches),
            "vouches",
            self.vouches.to_string(),
            "1 to 255",
        )?;
        check(
            self.failed_vouches <= MAX_K,
            "failed_vouches",
            self.failed_vouches.to_string(),
            "0 (never) to 255",
        )?;
        check(
            self.seeds.is_none_or(|s| (1..=MAX_K).contains(&s)),
            "seeds",
            self.seeds.map_or_else(String::new, |s| s.to_string()),
            "1 to 255",
        )
    }

    /// This configuration with another strategy, for comparisons.
    pub fn with_strategy(&self, strategy: StrategyName) -> LookupConfig {
        LookupConfig {
            strategy,
            ..self.clone()
        }
    }

    /// The parameters that matter to the chosen strategy, as reports print
    /// them (`alpha=3 seeds=3 k=20`).
    pub fn describe(&self) -> String {
        let seeds = self.seed_count();
        match self.strategy {
            StrategyName::Delta => format!(
                "delta={} budget={} seeds={seeds} k={}",
                self.delta,
                self.budget.for_k(self.k),
                self.k
            ),
            StrategyName::QueryRest => format!(
                "alpha={} seeds={seeds} k={} round_timeout_ms={}",
                self.alpha, self.k, self.round_timeout_ms
            ),
            StrategyName::KActive | StrategyName::Kademlia => {
                format!("alpha={} seeds={seeds} k={}", self.alpha, self.k)
            }
            StrategyName::Disjoint => format!(
                "alpha={} paths={} seeds={seeds} k={}",
                self.alpha, self.paths, self.k
            ),
            StrategyName::Gated => {
                // Named only when set, so that reports of the default rule
                // read as they did before the knob existed.
                let failed = match self.failed_vouches {
                    0 => String::new(),
                    v => format!(" failed_vouches={v}"),
                };
                format!(
                    "alpha={} beta={} hedge_ms={} vouches={}{failed} seeds={seeds} k={}",
                    self.alpha,
                    self.beta.min(self.k),
                    self.hedge_ms,
                    self.vouches,
                    self.k
                )
            }
        }
    }

    /// The per-request timeout.
    pub fn rpc_timeout(&self) -> Duration {
        Duration::from_millis(self.rpc_timeout_ms)
    }

    /// How many routing-table contacts the strategy starts from: `seeds`
    /// when set, else each strategy's own default. The seed strategies keep
    /// what their sources do (δ for `delta`, α for `query-rest` and
    /// `k-active`); the references start from k, as deployed
    /// implementations do (rust-libp2p and the `mainline` crate seed a
    /// lookup with the k closest contacts they know) and as S/Kademlia's
    /// disjoint paths need (k contacts dealt over d paths). Starting from α
    /// alone leaves a lookup with nothing when those α are all down.
    pub fn seed_count(&self) -> usize {
        self.seeds.unwrap_or(match self.strategy {
            StrategyName::Delta => self.delta,
            StrategyName::Kademlia | StrategyName::Disjoint | StrategyName::Gated => self.k,
            StrategyName::QueryRest | StrategyName::KActive => self.alpha,
        })
    }

    /// The lookup spec this configuration gives for a lookup of `target` by
    /// `local`.
    pub fn spec(&self, local: NodeId, target: NodeId, mode: LookupMode) -> LookupSpec {
        LookupSpec {
            local,
            target,
            mode,
            k: self.k,
            rpc_timeout: self.rpc_timeout(),
        }
    }

    /// Start a lookup of `target` from `table` with the configured strategy:
    /// this is how a configuration selects a strategy.
    pub fn start(
        &self,
        table: &RoutingTable,
        target: NodeId,
        mode: LookupMode,
    ) -> Box<dyn LookupStrategy> {
        let seeds = table.closest(&target, self.seed_count());
        self.start_from(self.spec(*table.local_id(), target, mode), &seeds)
    }

    /// Start a lookup for `spec` from explicit starting contacts, for
    /// callers without a routing table. The local node and repeats are
    /// dropped, the rest sorted closest first and cut to the strategy's
    /// starting size ([`LookupConfig::seed_count`]), as if they were a
    /// routing table.
    pub fn start_from(&self, spec: LookupSpec, seeds: &[Contact]) -> Box<dyn LookupStrategy> {
        let target = spec.target;
        let mut seeds: Vec<Contact> = seeds
            .iter()
            .filter(|c| c.id != spec.local)
            .copied()
            .collect();
        seeds.sort_by_key(|c| (c.id.distance(&target), c.id));
        seeds.dedup_by_key(|c| c.id);
        seeds.truncate(self.seed_count());
        let seeds = &seeds[..];
        match self.strategy {
            StrategyName::Delta => {
                let params = DeltaParams {
                    delta: self.delta,
                    budget: self.budget.for_k(self.k),
                };
                Box::new(Lookup::new(spec, seeds, Delta::new(params, target, seeds)))
            }
            StrategyName::QueryRest => {
                let params = QueryRestParams {
                    alpha: self.alpha,
                    round_timeout: Duration::from_millis(self.round_timeout_ms),
                };
                Box::new(Lookup::new(spec, seeds, QueryRest::new(params, seeds)))
            }
            StrategyName::KActive => {
                let params = KActiveParams { alpha: self.alpha };
                Box::new(Lookup::new(
                    spec,
                    seeds,
                    KActive::new(params, target, seeds),
                ))
            }
            StrategyName::Kademlia => {
                let params = KademliaParams { alpha: self.alpha };
                let rule = Kademlia::new(params, spec.k, target, seeds);
                Box::new(Lookup::new(spec, seeds, rule))
            }
            StrategyName::Disjoint => {
                let params = DisjointParams {
                    alpha: self.alpha,
                    paths: self.paths,
                };
                let rule = Disjoint::new(params, spec.k, target, seeds);
                Box::new(Lookup::new(spec, seeds, rule))
            }
            StrategyName::Gated => {
                let params = GatedParams {
                    alpha: self.alpha,
                    beta: self.beta,
                    hedge: (self.hedge_ms > 0).then(|| Duration::from_millis(self.hedge_ms)),
                    vouches: self.vouches,
                    failed_vouches: (self.failed_vouches > 0).then_some(self.failed_vouches),
                };
                let rule = Gated::new(params, spec.k, target, seeds);
                Box::new(Lookup::new(spec, seeds, rule))
            }
        }
    }
}
