//! `kadlab sweep --hulls`: every strategy over its own parameter on one
//! network, all curves in one plot, and whether `gated`'s points dominate
//! each other strategy's.
//!
//! The parameters are those each strategy is tuned by: α = 1..8 for
//! `query-rest`, `k-active` and `kademlia`; δ = 1..8 and a budget of
//! 10..60 requests for `delta`; β = 1..k at α = 2 and at α = 3 for
//! `gated`. Every point runs the same lookups on the same warmed network.
//!
//! Dominance is judged on the points themselves, which is the same as on
//! their convex hull's upper-left frontier: a strategy is dominated when
//! for each of its points some `gated` point has recall at least as high
//! and mean RPCs at most as high, and strictly dominated somewhere when at
//! least one of those pairs differs in one figure.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::cli::compare::{run_on_new_network, Resolved, ThreadsArg};
use crate::cli::output::write_file;
use crate::lookup::{Budget, Contender, LookupConfig, StrategyName};
use crate::plot::{draw_curves, Series};
use crate::report::StrategySummary;

/// The α values of the α-tuned strategies.
pub const ALPHAS: std::ops::RangeInclusive<usize> = 1..=8;
/// The δ values of `delta`.
pub const DELTAS: std::ops::RangeInclusive<usize> = 1..=8;
/// `delta`'s budgets: 10 to 60 requests in steps of 5.
pub const BUDGETS: [u32; 11] = [10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60];
/// The α values `gated`'s β sweep runs at.
pub const GATED_ALPHAS: [usize; 4] = [1, 2, 3, 4];
/// The α and `failed_vouches` of `gated`'s curve for lossy networks, where
/// a contact whose request failed is returned when that many answering
/// nodes named it (docs/ALGORITHMS.md §6).
pub const GATED_LOSSY: (usize, usize) = (3, 8);

/// One point of a hull sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HullPoint {
    /// The strategy.
    pub strategy: String,
    /// The curve it belongs to (`kademlia`, `delta (budget)`,
    /// `gated (α=2)`).
    pub curve: String,
    /// The parameter varied along the curve.
    pub parameter: &'static str,
    /// Its value at this point.
    pub value: u32,
    /// Mean requests per lookup.
    pub rpcs: f64,
    /// Mean recall.
    pub recall: f64,
    /// Median lookup time, virtual ms.
    pub latency_ms_p50: f64,
    /// 95th percentile of lookup time, virtual ms.
    pub latency_ms_p95: f64,
}

/// The configurations of a hull sweep of `strategies` from `base`: each
/// with its curve, parameter and value.
pub fn plan(
    base: &LookupConfig,
    strategies: &[StrategyName],
) -> Vec<(String, &'static str, u32, LookupConfig)> {
    let mut out = Vec::new();
    for &s in strategies {
        let config = base.with_strategy(s);
        match s {
            StrategyName::Delta => {
                for d in DELTAS {
                    let c = LookupConfig {
                        delta: d,
                        ..config.clone()
                    };
                    out.push(("delta (δ)".into(), "delta", d as u32, c));
                }
                for b in BUDGETS {
                    let c = LookupConfig {
                        budget: Budget::Requests(b),
                        ..config.clone()
                    };
                    out.push(("delta (budget)".into(), "budget", b, c));
                }
            }
            StrategyName::Gated => {
                let plain = GATED_ALPHAS
                    .iter()
                    .map(|&a| (format!("gated (α={a})"), a, config.failed_vouches));
                let (a, f) = GATED_LOSSY;
                let lossy = (format!("gated (α={a}, failed ≥{f})"), a, f);
                for (curve, alpha, failed_vouches) in plain.chain([lossy]) {
                    for beta in 1..=config.k {
                        let c = LookupConfig {
                            alpha,
                            beta,
                            failed_vouches,
                            ..config.clone()
                        };
                        out.push((curve.clone(), "beta", beta as u32, c));
                    }
                }
            }
            StrategyName::QueryRest | StrategyName::KActive | StrategyName::Kademlia => {
                for a in ALPHAS {
                    let c = LookupConfig {
                        alpha: a,
                        ..config.clone()
                    };
                    out.push((s.to_string(), "alpha", a as u32, c));
                }
            }
            StrategyName::Disjoint => {}
        }
    }
    out
}

/// How `ours` stands against one other strategy's points.
#[derive(Clone, Debug, PartialEq)]
pub struct Dominance {
    /// The other strategy.
    pub strategy: String,
    /// For each of its points, the cheapest of ours with recall ≥ and RPCs
    /// ≤ (`None` where there is none).
    pub pairs: Vec<(HullPoint, Option<HullPoint>)>,
}

impl Dominance {
    /// Every point of theirs has a point of ours at least as good in both.
    pub fn dominated(&self) -> bool {
        self.pairs.iter().all(|(_, ours)| ours.is_some())
    }

    /// Some point of theirs is beaten strictly: better in one figure and
    /// no worse in the other.
    pub fn strictly_somewhere(&self) -> bool {
        self.pairs.iter().any(|(theirs, ours)| {
            ours.as_ref()
                .is_some_and(|o| o.rpcs < theirs.rpcs || o.recall > theirs.recall)
        })
    }
}

/// How `ours` stands against `theirs`, strategy by strategy, in the order
/// the strategies first appear.
pub fn dominance(ours: &[HullPoint], theirs: &[HullPoint]) -> Vec<Dominance> {
    let mut names: Vec<&str> = Vec::new();
    for p in theirs {
        if !names.contains(&p.strategy.as_str()) {
            names.push(&p.strategy);
        }
    }
    names
        .into_iter()
        .map(|name| Dominance {
            strategy: name.to_string(),
            pairs: theirs
                .iter()
                .filter(|t| t.strategy == name)
                .map(|t| {
                    let best = ours
                        .iter()
                        .filter(|o| o.rpcs <= t.rpcs && o.recall >= t.recall)
                        .min_by(|a, b| a.rpcs.total_cmp(&b.rpcs))
                        .cloned();
                    (t.clone(), best)
                })
                .collect(),
        })
        .collect()
}

/// The points of the sweep `plan` on `resolved`'s network.
pub fn run_points(
    resolved: &Resolved,
    plan: &[(String, &'static str, u32, LookupConfig)],
    threads: ThreadsArg,
    quiet: bool,
) -> Result<Vec<HullPoint>> {
    let contenders: Vec<Contender> = plan.iter().map(|(.., c)| Contender::from(c)).collect();
    let records = run_on_new_network(resolved, &contenders, threads, quiet)?;
    Ok(plan
        .iter()
        .zip(&contenders)
        .zip(&records)
        .map(
            |(((curve, parameter, value, config), contender), records)| {
                let s =
                    StrategySummary::from_records(contender.name(), contender.params(), records);
                HullPoint {
                    strategy: config.strategy.to_string(),
                    curve: curve.clone(),
                    parameter,
                    value: *value,
                    rpcs: s.rpcs_mean,
                    recall: s.recall_mean,
                    latency_ms_p50: s.latency_ms_p50,
                    latency_ms_p95: s.latency_ms_p95,
                }
            },
        )
        .collect())
}

/// The table `--hulls` prints: every point of the others with `gated`'s
/// cheapest point that matches it, then one verdict per strategy.
pub fn table(points: &[HullPoint]) -> String {
    let (ours, theirs): (Vec<HullPoint>, Vec<HullPoint>) = points
        .iter()
        .cloned()
        .partition(|p| p.strategy == StrategyName::Gated.as_str());
    let mut out = String::new();
    let row = |p: &HullPoint| {
        format!(
            "{:<16} {:>6}={:<3} {:>7.2} {:>7.4} {:>7.0}",
            p.curve, p.parameter, p.value, p.rpcs, p.recall, p.latency_ms_p95
        )
    };
    out.push_str(&format!(
        "{:<16} {:>10} {:>7} {:>7} {:>7}   {:<16} {:>10} {:>7} {:>7} {:>7}\n",
        "theirs",
        "point",
        "rpcs",
        "recall",
        "ms p95",
        "gated's best",
        "point",
        "rpcs",
        "recall",
        "ms p95"
    ));
    let verdicts = dominance(&ours, &theirs);
    for d in &verdicts {
        for (t, o) in &d.pairs {
            let mine = o.as_ref().map_or_else(|| "none".to_string(), row);
            out.push_str(&format!("{}   {mine}\n", row(t)));
        }
    }
    out.push('\n');
    for d in &verdicts {
        out.push_str(&format!(
            "{:<12} dominated: {:<3}  beaten strictly somewhere: {}\n",
            d.strategy,
            if d.dominated() { "yes" } else { "no" },
            if d.strictly_somewhere() { "yes" } else { "no" },
        ));
    }
    out
}

/// Run the hull sweep of `resolved` and write `hulls.json` and
/// `recall_vs_rpcs.svg` to `out` (already checked).
pub fn run(resolved: &Resolved, threads: ThreadsArg, quiet: bool, out: &Path) -> Result<()> {
    let strategies: Vec<StrategyName> = resolved
        .strategies
        .iter()
        .copied()
        .filter(|s| *s != StrategyName::Disjoint)
        .collect();
    let plan = plan(&resolved.lookup, &strategies);
    let points = run_points(resolved, &plan, threads, quiet)?;
    print!("{}", table(&points));
    let json = serde_json::json!({ "settings": resolved.settings(), "points": points });
    write_file(
        &out.join("hulls.json"),
        &(serde_json::to_string_pretty(&json)? + "\n"),
    )?;
    let mut curves: Vec<&str> = Vec::new();
    for p in &points {
        if !curves.contains(&p.curve.as_str()) {
            curves.push(&p.curve);
        }
    }
    let series: Vec<Series> = curves
        .iter()
        .map(|curve| {
            let on: Vec<&HullPoint> = points.iter().filter(|p| p.curve == *curve).collect();
            Series {
                strategy: on.first().map_or_else(String::new, |p| p.strategy.clone()),
                label: (*curve).to_string(),
                points: on
                    .iter()
                    .map(|p| (p.rpcs, p.recall, format!("{}={}", p.parameter, p.value)))
                    .collect(),
            }
        })
        .collect();
    let plot = draw_curves(
        &format!(
            "recall@k against RPCs, each strategy over its own parameter ({})",
            resolved.preset
        ),
        "RPCs per lookup (mean)",
        "recall@k (mean)",
        &series,
    )
    .map_err(anyhow::Error::msg)?;
    plot.write(&out.join("recall_vs_rpcs.svg"))?;
    eprintln!("wrote {}/hulls.json and recall_vs_rpcs.svg", out.display());
    Ok(())
}
