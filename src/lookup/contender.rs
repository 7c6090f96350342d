//! [`Contender`]: a strategy entered into a comparison, built-in or not.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::id::NodeId;
use crate::lookup::{LookupConfig, LookupMode, LookupStrategy, DEFAULT_RPC_TIMEOUT};
use crate::routing::RoutingTable;

/// How a contender starts a lookup: from the origin's routing table, for a
/// target and a mode. It is called once per lookup, from several threads
/// at once when a comparison runs contenders in parallel.
pub type Factory =
    dyn Fn(&RoutingTable, NodeId, LookupMode) -> Box<dyn LookupStrategy> + Send + Sync;

/// A strategy entered into a comparison: a name and a parameter string for
/// the reports, and a [`Factory`] that starts its lookups.
///
/// Everything that runs strategies — the simulator
/// ([`crate::sim::run_strategy`], [`crate::sim::compare`]), `compare`'s
/// report ([`crate::report::Report::new`]), sweeps
/// ([`crate::sim::sweep`]), traces ([`crate::trace::trace_lookup`]), the
/// stress harness ([`crate::stress::run_contenders`]), the accuracy
/// measurement ([`crate::accuracy::Cycle`]) and the narrator
/// ([`crate::narrate`]) — takes a `Contender`, so a strategy written
/// outside this crate runs through the same machinery and figures as the
/// built-in ones (the walk-through is [`crate::guide`]). A built-in
/// [`LookupConfig`] converts into one.
///
/// ```
/// use kadlab::lookup::{Contender, LookupConfig, StrategyName};
///
/// let paper = Contender::from(LookupConfig::default());
/// assert_eq!((paper.name(), paper.params()), ("kademlia", "alpha=3 seeds=20 k=20"));
///
/// // An outside rule: here the built-in delta, under a name of its own.
/// let mine = Contender::new("my-delta", "delta=1", |table, target, mode| {
///     let config = LookupConfig { delta: 1, ..LookupConfig::default() };
///     config.with_strategy(StrategyName::Delta).start(table, target, mode)
/// });
/// assert_eq!(mine.name(), "my-delta");
/// ```
#[derive(Clone)]
pub struct Contender {
    name: String,
    params: String,
    factory: Arc<Factory>,
    rpc_timeout: Duration,
    k: usize,
    config: Option<LookupConfig>,
}

impl Contender {
    /// A contender called `name` (the reports' strategy column), described
    /// by `params` (their params column), whose lookups `factory` starts.
    /// Its per-request timeout is [`DEFAULT_RPC_TIMEOUT`] and its result
    /// size 20 until [`Contender::with_rpc_timeout`] and
    /// [`Contender::with_k`] say otherwise; they should match what the
    /// factory's lookups use.
    pub fn new(
        name: impl Into<String>,
        params: impl Into<String>,
        factory: impl Fn(&RoutingTable, NodeId, LookupMode) -> Box<dyn LookupStrategy>
            + Send
            + Sync
            + 'static,
    ) -> Contender {
        Contender {
            name: name.into(),
            params: params.into(),
            factory: Arc::new(factory),
            rpc_timeout: DEFAULT_RPC_TIMEOUT,
            k: LookupConfig::default().k,
            config: None,
        }
    }

    /// The same contender with this per-request timeout: the driver fails a
    /// request that outlives it even when the strategy would wait longer.
    pub fn with_rpc_timeout(mut self, rpc_timeout: Duration) -> Contender {
        self.rpc_timeout = rpc_timeout;
        self
    }

    /// The same contender with this result size, which the stress harness
    /// checks results against.
    pub fn with_k(mut self, k: usize) -> Contender {
        self.k = k;
        self
    }

    /// The name in reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameters, as reports print them.
    pub fn params(&self) -> &str {
        &self.params
    }

    /// The per-request timeout the driver holds its requests to.
    pub fn rpc_timeout(&self) -> Duration {
        self.rpc_timeout
    }

    /// The result size its lookups promise at most.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The built-in configuration it was made from, if any: attack
    /// experiments read which strategy it is (a disjoint lookup is judged
    /// per path).
    pub fn config(&self) -> Option<&LookupConfig> {
        self.config.as_ref()
    }

    /// Start a lookup of `target` by the node whose routing table is
    /// `table`.
    pub fn start(
        &self,
        table: &RoutingTable,
        target: NodeId,
        mode: LookupMode,
    ) -> Box<dyn LookupStrategy> {
        (self.factory)(table, target, mode)
    }
}

impl From<LookupConfig> for Contender {
    fn from(config: LookupConfig) -> Contender {
        let stored = config.clone();
        let mut contender = Contender::new(
            config.strategy.as_str(),
            config.describe(),
            move |table, target, mode| config.start(table, target, mode),
        )
        .with_rpc_timeout(stored.rpc_timeout())
        .with_k(stored.k);
        contender.config = Some(stored);
        contender
    }
}

impl From<&LookupConfig> for Contender {
    fn from(config: &LookupConfig) -> Contender {
        Contender::from(config.clone())
    }
}

impl fmt::Debug for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("rpc_timeout", &self.rpc_timeout)
            .field("k", &self.k)
            .finish_non_exhaustive()
    }
}
