//! `kadlab sweep`: vary one parameter and draw each strategy's
//! recall-against-RPCs curve.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use crate::cli::compare::{progress, NetworkArgs, ThreadsArg};
use crate::lookup::{Budget, Contender, LookupConfig, StrategyName};
use crate::plot::{draw_curves, Series};
use crate::report::StrategySummary;
use crate::sim;

/// Most points a sweep may have: each runs the whole workload once per
/// strategy, so more would run for days (and the list of values alone could
/// take gigabytes).
pub const MAX_SWEEP_POINTS: u64 = 1_000;

/// An inclusive range of whole numbers, `FROM..TO` or `FROM..TO/STEP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    from: u32,
    to: u32,
    step: u32,
}

impl FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("{s:?} is not a range; use FROM..TO or FROM..TO/STEP, e.g. 1..6 or 10..200/10")
        };
        let (range, step) = match s.split_once('/') {
            Some((r, step)) => (r, Some(step.parse::<u32>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let (from, to) = range.split_once("..").ok_or_else(bad)?;
        let from: u32 = from.parse().map_err(|_| bad())?;
        let to: u32 = to.parse().map_err(|_| bad())?;
        if from == 0 || to < from {
            return Err(bad());
        }
        // About ten points by default.
        let step = step.unwrap_or(((to - from) / 9).max(1));
        if step == 0 {
            return Err(bad());
        }
        let points = u64::from(to - from) / u64::from(step) + 1;
        if points > MAX_SWEEP_POINTS {
            return Err(format!(
                "{s:?} has {points} points: allowed is 1 to {MAX_SWEEP_POINTS}; use a larger STEP or a shorter range"
            ));
        }
        Ok(Span { from, to, step })
    }
}

impl Span {
    fn values(self) -> Vec<u32> {
        (self.from..=self.to).step_by(self.step as usize).collect()
    }
}

/// Flags of `kadlab sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    threads: ThreadsArg,
    /// Strategies to sweep (those the parameter applies to).
    #[arg(long, value_delimiter = ',')]
    strategies: Option<Vec<StrategyName>>,
    /// Sweep α (query-rest, k-active, kademlia, disjoint), e.g. 1..6.
    #[arg(long = "alpha-range", value_name = "FROM..TO", conflicts_with_all = ["delta_range", "budget_range", "paths_range"])]
    alpha_range: Option<Span>,
    /// Sweep δ (delta), e.g. 1..8.
    #[arg(
        long = "delta-range",
        value_name = "FROM..TO",
        conflicts_with_all = ["budget_range", "paths_range"]
    )]
    delta_range: Option<Span>,
    /// Sweep delta's budget, e.g. 10..200/10.
    #[arg(
        long = "budget-range",
        value_name = "FROM..TO",
        conflicts_with = "paths_range"
    )]
    budget_range: Option<Span>,
    /// Sweep disjoint's number of paths d, e.g. 1..8.
    #[arg(long = "paths-range", value_name = "FROM..TO")]
    paths_range: Option<Span>,
    /// Directory for sweep.json and recall_vs_rpcs.svg.
    #[arg(long, default_value = "sweep-out")]
    out: PathBuf,
}

/// The parameter a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parameter {
    Alpha,
    Delta,
    Budget,
    Paths,
}

impl Parameter {
    fn name(self) -> &'static str {
        match self {
            Parameter::Alpha => "alpha",
            Parameter::Delta => "delta",
            Parameter::Budget => "budget",
            Parameter::Paths => "paths",
        }
    }

    /// Whether `strategy` uses this parameter at all.
    fn applies_to(self, strategy: StrategyName) -> bool {
        match self {
            Parameter::Alpha => strategy != StrategyName::Delta,
            Parameter::Delta | Parameter::Budget => strategy == StrategyName::Delta,
            Parameter::Paths => strategy == StrategyName::Disjoint,
        }
    }

    /// `base` with this parameter set to `value`.
    fn set(self, base: &LookupConfig, value: u32) -> LookupConfig {
        let mut c = base.clone();
        match self {
            Parameter::Alpha => c.alpha = value as usize,
            Parameter::Delta => c.delta = value as usize,
            Parameter::Budget => c.budget = Budget::Requests(value),
            Parameter::Paths => c.paths = value as usize,
        }
        c
    }
}

/// One point of a sweep.
#[derive(Clone, Debug, Serialize)]
struct Point {
    strategy: String,
    parameter: &'static str,
    value: u32,
    summary: StrategySummary,
}

/// Run `kadlab sweep`.
pub fn run(args: &SweepArgs) -> Result<()> {
    let resolved = args.network.resolve(args.strategies.as_deref())?;
    let chosen = [
        (Parameter::Alpha, args.alpha_range),
        (Parameter::Delta, args.delta_range),
        (Parameter::Budget, args.budget_range),
        (Parameter::Paths, args.paths_range),
    ];
    let mut given = chosen.into_iter().filter_map(|(p, s)| s.map(|s| (p, s)));
    let (swept, span) = match (given.next(), given.next()) {
        (Some(one), None) => one,
        _ => bail!("name exactly one parameter to sweep: --alpha-range 1..6, --delta-range 1..8, --budget-range 10..200 or --paths-range 1..8"),
    };
    let parameter = swept.name();
    let strategies: Vec<StrategyName> = resolved
        .strategies
        .iter()
        .copied()
        .filter(|s| swept.applies_to(*s))
        .collect();
    if strategies.is_empty() {
        bail!("--{parameter}-range applies to none of the chosen --strategies; alpha applies to query-rest, k-active, kademlia and disjoint, delta and budget to delta, paths to disjoint");
    }
    // Both ends in range means every value is (before any is allocated).
    for end in [span.from, span.to] {
        swept
            .set(&resolved.lookup.with_strategy(strategies[0]), end)
            .validate()
            .with_context(|| format!("--{parameter}-range"))?;
    }
    let values = span.values();
    let configs: Vec<LookupConfig> = strategies
        .iter()
        .flat_map(|s| {
            let base = resolved.lookup.with_strategy(*s);
            values.iter().map(move |&v| swept.set(&base, v))
        })
        .collect();
    for c in &configs {
        c.validate()?;
    }
    let per_config = (resolved.sim.lookups + resolved.sim.value_lookups) as u64;
    let bar = progress(per_config * configs.len() as u64, args.network.quiet);
    bar.set_message("warm-up");
    let contenders: Vec<Contender> = configs.iter().map(Contender::from).collect();
    let records = args.threads.install(|| {
        let net = sim::build_network(&resolved.sim);
        crate::cli::compare::run_all(&net, &resolved, &contenders, &bar)
    })?;
    bar.finish_and_clear();

    // `configs` is strategies × values, in that order.
    let points: Vec<Point> = configs
        .iter()
        .zip(values.iter().cycle())
        .zip(contenders.iter().zip(&records))
        .map(|((c, &value), (contender, r))| Point {
            strategy: c.strategy.to_string(),
            parameter,
            value,
            summary: StrategySummary::from_records(contender.name(), contender.params(), r),
        })
        .collect();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    let json = serde_json::json!({ "settings": resolved.settings(), "points": points });
    let path = args.out.join("sweep.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    let series: Vec<Series> = strategies
        .iter()
        .map(|s| {
            let pts = points
                .iter()
                .filter(|p| p.strategy == s.as_str())
                .map(|p| (p.summary.rpcs_mean, p.summary.recall_mean))
                .collect();
            (format!("{s} ({parameter} {}..{})", span.from, span.to), pts)
        })
        .collect();
    draw_curves(
        &args.out.join("recall_vs_rpcs.svg"),
        &format!("recall@k against RPCs, sweeping {parameter}"),
        "RPCs per lookup (mean)",
        "recall@k (mean)",
        &series,
    )
    .map_err(anyhow::Error::msg)?;
    println!(
        "{:<12} {:>6} {:>8} {:>8}",
        "strategy", parameter, "rpcs", "recall"
    );
    for p in &points {
        println!(
            "{:<12} {:>6} {:>8.1} {:>8.3}",
            p.strategy, p.value, p.summary.rpcs_mean, p.summary.recall_mean
        );
    }
    eprintln!(
        "wrote {}/sweep.json and recall_vs_rpcs.svg",
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_sets_its_own_key_for_its_own_strategies() {
        let base = LookupConfig::default();
        assert_eq!(Parameter::Paths.set(&base, 8).paths, 8);
        assert_eq!(Parameter::Alpha.set(&base, 5).alpha, 5);
        assert!(Parameter::Paths.applies_to(StrategyName::Disjoint));
        assert!(!Parameter::Paths.applies_to(StrategyName::Kademlia));
        assert!(Parameter::Alpha.applies_to(StrategyName::Disjoint));
        assert!(!Parameter::Alpha.applies_to(StrategyName::Delta));
    }

    #[test]
    fn spans_parse_and_reject() {
        assert_eq!(
            "1..6".parse::<Span>().unwrap().values(),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            "10..200/50".parse::<Span>().unwrap().values(),
            vec![10, 60, 110, 160]
        );
        assert_eq!("10..200".parse::<Span>().unwrap().values().len(), 10);
        for bad in ["", "3", "0..4", "5..2", "1..x", "1..4/0"] {
            assert!(
                bad.parse::<Span>().unwrap_err().contains("FROM..TO"),
                "{bad}"
            );
        }
        assert_eq!("1..1000/1".parse::<Span>().unwrap().values().len(), 1000);
        let error = "1..4000000000/1".parse::<Span>().unwrap_err();
        assert!(error.contains("4000000000 points"), "{error}");
        assert!(error.contains("1 to 1000"), "{error}");
    }
}
