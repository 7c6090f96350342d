//! `kadlab compare --preset eclipse`: success under colluding adversaries.
//!
//! The experiment of S/Kademlia (Baumgart & Mies, 2007, N = 10⁴): a
//! fraction f of nodes collude, each strategy looks up random keys, and a
//! lookup succeeds when its result holds at least one of the true k closest
//! honest nodes. f runs from 0 to 0.5; `disjoint` runs with d = 1, 2, 4 and
//! 8 paths. Next to each measured `disjoint` curve the report gives the
//! paper's simple model, 1 − (1 − (1 − f)^h)^d, with h the mean path length
//! (rounds) that variant measured without adversaries.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::compare::{progress, run_all, write_file, Format, Resolved};
use crate::lookup::{LookupConfig, StrategyName};
use crate::plot::{draw_curves, Series};
use crate::report::{settings_line, StrategySummary};
use crate::sim;

/// Fractions of adversaries the preset sweeps.
pub const FRACTIONS: [f64; 6] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5];

/// Path counts `disjoint` runs with.
pub const PATHS: [usize; 4] = [1, 2, 4, 8];

/// One strategy at one fraction f.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Fraction of adversaries.
    pub f: f64,
    /// Share of lookups that found at least one true closest honest node.
    pub success: f64,
    /// Mean recall of the true k closest honest nodes.
    pub recall: f64,
    /// Mean requests per lookup.
    pub rpcs: f64,
    /// Mean longest request chain.
    pub rounds: f64,
}

/// One strategy's curve.
#[derive(Clone, Debug, Serialize)]
pub struct Curve {
    /// Strategy name.
    pub name: String,
    /// Its parameters.
    pub params: String,
    /// One point per fraction.
    pub points: Vec<Point>,
    /// For `disjoint`: the model 1 − (1 − (1 − f)^h)^d at each fraction.
    pub model: Option<Vec<f64>>,
}

/// The preset's report.
#[derive(Clone, Debug, Serialize)]
pub struct EclipseReport {
    /// The settings of the network (f aside).
    pub settings: std::collections::BTreeMap<String, serde_json::Value>,
    /// One curve per strategy variant.
    pub curves: Vec<Curve>,
}

/// The strategy variants of the preset: each chosen strategy once, and
/// `disjoint` once per path count.
fn variants(resolved: &Resolved) -> Vec<LookupConfig> {
    let mut order = vec![
        StrategyName::Kademlia,
        StrategyName::KActive,
        StrategyName::QueryRest,
        StrategyName::Delta,
        StrategyName::Disjoint,
    ];
    order.retain(|s| resolved.strategies.contains(s));
    order
        .into_iter()
        .flat_map(|s| {
            let base = resolved.lookup.with_strategy(s);
            if s == StrategyName::Disjoint {
                PATHS
                    .iter()
                    .map(|&paths| LookupConfig {
                        paths,
                        ..base.clone()
                    })
                    .collect()
            } else {
                vec![base]
            }
        })
        .collect()
}

/// S/Kademlia's model of disjoint-path success.
pub fn model(f: f64, hops: f64, paths: usize) -> f64 {
    1.0 - (1.0 - (1.0 - f).powf(hops)).powi(paths as i32)
}

/// Run the sweep.
pub fn measure(resolved: &Resolved, quiet: bool) -> EclipseReport {
    let configs = variants(resolved);
    let per_point = (resolved.sim.lookups + resolved.sim.value_lookups) as u64;
    let bar = progress(per_point * (configs.len() * FRACTIONS.len()) as u64, quiet);
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); configs.len()];
    for f in FRACTIONS {
        let mut at = resolved.clone();
        at.sim.adversaries.fraction = f;
        bar.set_message(format!("f={f} warm-up"));
        let net = sim::build_network(&at.sim);
        let records = run_all(&net, &at, &configs, &bar);
        for ((config, records), curve) in configs.iter().zip(&records).zip(&mut points) {
            let s = StrategySummary::from_records(config.strategy.as_str(), "", records);
            curve.push(Point {
                f,
                success: s.success_rate,
                recall: s.recall_mean,
                rpcs: s.rpcs_mean,
                rounds: s.rounds_mean,
            });
        }
    }
    bar.finish_and_clear();
    let mut settings = resolved.settings();
    settings.remove("adversaries");
    settings.insert("fractions".into(), serde_json::json!(FRACTIONS));
    EclipseReport {
        settings,
        curves: configs
            .iter()
            .zip(points)
            .map(|(config, points)| {
                let model = (config.strategy == StrategyName::Disjoint).then(|| {
                    let hops = points.first().map_or(1.0, |p| p.rounds);
                    FRACTIONS
                        .iter()
                        .map(|&f| (model(f, hops, config.paths) * 10_000.0).round() / 10_000.0)
                        .collect()
                });
                Curve {
                    name: config.strategy.to_string(),
                    params: config.describe(),
                    points,
                    model,
                }
            })
            .collect(),
    }
}

impl EclipseReport {
    /// Two blocks for people: success, then RPCs per lookup, one column per f.
    pub fn to_table(&self) -> String {
        let width = self
            .curves
            .iter()
            .map(|c| c.params.len())
            .max()
            .unwrap_or(0);
        let row = |name: &str, params: &str, cells: Vec<String>| {
            format!("{name:<11} {params:<width$}  {}\n", cells.join(""))
        };
        let fractions = FRACTIONS.iter().map(|f| format!("{:>7}", format!("f={f}")));
        let head = |what: &str| {
            let mut line = row("strategy", "params", fractions.clone().collect());
            line.insert_str(line.len() - 1, &format!("   ({what})"));
            line
        };
        let mut out = format!("{}\n\n", settings_line(&self.settings));
        out.push_str(&head(
            "success: result holds one of the true k closest honest nodes",
        ));
        for c in &self.curves {
            let cells = c.points.iter().map(|p| format!("{:>7.3}", p.success));
            out.push_str(&row(&c.name, &c.params, cells.collect()));
            if let Some(model) = &c.model {
                let h = c.points.first().map_or(0.0, |p| p.rounds);
                let cells = model.iter().map(|m| format!("{m:>7.3}"));
                out.push_str(&row("", &format!("model, h={h:.1}"), cells.collect()));
            }
        }
        out.push('\n');
        out.push_str(&head("RPCs per lookup"));
        for c in &self.curves {
            let cells = c.points.iter().map(|p| format!("{:>7.1}", p.rpcs));
            out.push_str(&row(&c.name, &c.params, cells.collect()));
        }
        out
    }

    /// Success against f, one line per strategy variant.
    pub fn draw(&self, path: &Path) -> Result<()> {
        let series: Vec<Series> = self
            .curves
            .iter()
            .map(|c| {
                let label = format!("{} ({})", c.name, c.params);
                (label, c.points.iter().map(|p| (p.f, p.success)).collect())
            })
            .collect();
        draw_curves(
            path,
            "lookup success against the fraction of colluding adversaries",
            "fraction f of adversaries",
            "success (one true closest honest node found)",
            &series,
        )
        .map_err(anyhow::Error::msg)
    }
}

/// Run the preset and print or write its report.
pub fn run(resolved: &Resolved, format: Format, out: Option<&Path>, quiet: bool) -> Result<()> {
    let report = measure(resolved, quiet);
    let json = serde_json::to_string_pretty(&report)? + "\n";
    match format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => print!("{json}"),
        Format::Csv => {
            println!("strategy,params,f,success,recall,rpcs,rounds,model");
            for c in &report.curves {
                for (i, p) in c.points.iter().enumerate() {
                    let model = c.model.as_ref().map_or(String::new(), |m| m[i].to_string());
                    println!(
                        "{},\"{}\",{},{},{},{},{},{model}",
                        c.name, c.params, p.f, p.success, p.recall, p.rpcs, p.rounds
                    );
                }
            }
        }
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
        write_file(&dir.join("eclipse.json"), &json)?;
        report.draw(&dir.join("success_vs_f.svg"))?;
        eprintln!("wrote {}/eclipse.json, success_vs_f.svg", dir.display());
    }
    Ok(())
}
