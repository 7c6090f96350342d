//! `kadlab compare --preset eclipse` and `--preset s-kademlia`: lookup
//! success against the fraction of adversaries.
//!
//! The experiment of S/Kademlia (Baumgart & Mies, 2007, Fig. 4, N = 10⁴):
//! a fraction f of the nodes are adversaries, each strategy looks up random
//! keys, and `disjoint` runs with d = 1, 2, 4 and 8 paths. Two sweeps share
//! this code and differ only in their settings ([`Sweep`] and the preset's
//! network):
//!
//! - `eclipse`: colluding adversaries (they answer with the adversaries
//!   closest to the key), α = 3, f = 0 to 0.5;
//! - `s-kademlia`: the paper's setup: forging adversaries (contacts close
//!   to the key, honest ids and made-up ones, all at adversaries'
//!   addresses), α = 1, f = 0 to 0.9.
//!
//! Every point reports three criteria, side by side:
//!
//! - **success** (kadlab's): the result holds at least one of the true k
//!   closest honest nodes, by id and address;
//! - **paper** (S/Kademlia's): some path's route — its requests before its
//!   first reply that brought nothing closer, the greedy hop chain with
//!   α = 1 — sent no request to an adversary (see [`crate::sim::routes`]);
//! - **strict**: some path sent no request at all to an adversary.
//!
//! Next to each measured `disjoint` curve the report gives the paper's
//! model, 1 − (1 − (1 − f)^h)^d, with h the mean route hops that variant
//! measured without adversaries.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::cli::compare::{Format, Resolved, ThreadsArg};
use crate::cli::output::write_file;
use crate::cli::progress::progress;
use crate::html::{Cell, Page};
use crate::lookup::{Contender, LookupConfig, StrategyName};
use crate::plot::{draw_panels, Line, Panel, Plot};
use crate::report::{settings_line, StrategySummary};
use crate::sim;

/// Fractions of adversaries the `eclipse` preset sweeps.
pub const FRACTIONS: [f64; 6] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5];

/// Fractions of adversaries the `s-kademlia` preset sweeps: the x axis of
/// the paper's Fig. 4.
pub const S_KADEMLIA_FRACTIONS: [f64; 10] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Path counts `disjoint` runs with in both presets: the d of the paper's
/// Fig. 4.
pub const PATHS: [usize; 4] = [1, 2, 4, 8];

/// One sweep over fractions of adversaries: what varies between the
/// presets that run this experiment, besides their network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sweep {
    /// Preset name, also the name of the JSON file `--out` writes.
    pub name: &'static str,
    /// Fractions f of adversaries, from 0 up (the model's h is measured at
    /// the first).
    pub fractions: &'static [f64],
    /// Path counts d that `disjoint` runs with, one curve each.
    pub paths: &'static [usize],
}

/// The `eclipse` preset's sweep.
pub const ECLIPSE: Sweep = Sweep {
    name: "eclipse",
    fractions: &FRACTIONS,
    paths: &PATHS,
};

/// The `s-kademlia` preset's sweep.
pub const S_KADEMLIA: Sweep = Sweep {
    name: "s-kademlia",
    fractions: &S_KADEMLIA_FRACTIONS,
    paths: &PATHS,
};

/// One strategy at one fraction f.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Fraction of adversaries.
    pub f: f64,
    /// kadlab's success: share of lookups whose result holds at least one
    /// true closest honest node (id and address).
    pub success: f64,
    /// S/Kademlia's success: share of lookups with a path whose route sent
    /// no request to an adversary.
    pub paper_success: f64,
    /// Share of lookups with a path that sent no request to an adversary.
    pub strict_success: f64,
    /// Mean recall of the true k closest honest nodes.
    pub recall: f64,
    /// Mean requests per lookup.
    pub rpcs: f64,
    /// Mean longest request chain.
    pub rounds: f64,
    /// Mean hops of a path's route.
    pub route_hops: f64,
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
    /// For `disjoint`: its number of paths d.
    pub paths: Option<usize>,
    /// For `disjoint`: the model 1 − (1 − (1 − f)^h)^d at each fraction.
    pub model: Option<Vec<f64>>,
    /// For `disjoint`: the h of the model, the mean route hops measured
    /// at the first fraction (f = 0).
    pub model_hops: Option<f64>,
}

/// A sweep's report.
#[derive(Clone, Debug, Serialize)]
pub struct AttackReport {
    /// The settings of the network (f aside).
    pub settings: std::collections::BTreeMap<String, serde_json::Value>,
    /// One curve per strategy variant.
    pub curves: Vec<Curve>,
}

/// The strategy variants of the sweep: each chosen strategy once, and
/// `disjoint` once per path count.
fn variants(resolved: &Resolved, sweep: &Sweep) -> Vec<LookupConfig> {
    let mut order = vec![
        StrategyName::Kademlia,
        StrategyName::KActive,
        StrategyName::QueryRest,
        StrategyName::Delta,
        StrategyName::Gated,
        StrategyName::Disjoint,
    ];
    order.retain(|s| resolved.strategies.contains(s));
    order
        .into_iter()
        .flat_map(|s| {
            let base = resolved.lookup.with_strategy(s);
            if s == StrategyName::Disjoint {
                sweep
                    .paths
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

/// S/Kademlia's model of disjoint-path success: each of `paths` paths is a
/// route of `hops` hops, lost at its first adversary.
pub fn model(f: f64, hops: f64, paths: usize) -> f64 {
    1.0 - (1.0 - (1.0 - f).powf(hops)).powi(paths as i32)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Run the sweep. Each fraction is a network of its own, so the fractions
/// run in parallel (and the variants within each, see
/// [`sim::run_contenders`]) on the caller's rayon pool; the points are
/// collected in the order of the fractions, so the report does not depend
/// on the number of threads.
pub fn measure(resolved: &Resolved, sweep: &Sweep, quiet: bool) -> AttackReport {
    use rayon::prelude::*;
    let configs = variants(resolved, sweep);
    let contenders: Vec<Contender> = configs.iter().map(Contender::from).collect();
    let per_point = (resolved.sim.lookups + resolved.sim.value_lookups) as u64;
    let bar = progress(
        per_point * (configs.len() * sweep.fractions.len()) as u64,
        quiet,
        "lookups",
    );
    bar.set_message(format!("{} networks", sweep.fractions.len()));
    let by_fraction: Vec<Vec<Vec<sim::LookupRecord>>> = sweep
        .fractions
        .par_iter()
        .map(|&f| {
            let mut at = resolved.clone();
            at.sim.adversaries.fraction = f;
            let net = sim::build_network(&at.sim);
            let tasks = sim::make_tasks(&net, &at.sim);
            sim::run_contenders(net, &tasks, &contenders, &at.sim, &|| bar.inc(1))
        })
        .collect();
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); configs.len()];
    for (&f, records) in sweep.fractions.iter().zip(&by_fraction) {
        for ((config, records), curve) in configs.iter().zip(records).zip(&mut points) {
            let s = StrategySummary::from_records(config.strategy.as_str(), "", records);
            curve.push(Point {
                f,
                success: s.success_rate,
                paper_success: s.paper_success_rate,
                strict_success: s.strict_success_rate,
                recall: s.recall_mean,
                rpcs: s.rpcs_mean,
                rounds: s.rounds_mean,
                route_hops: s.route_hops_mean,
            });
        }
    }
    bar.finish_and_clear();
    let mut settings = resolved.settings();
    settings.remove("adversaries");
    settings.insert(
        "adversary_mode".into(),
        serde_json::json!(resolved.sim.adversaries.mode.to_string()),
    );
    settings.insert("fractions".into(), serde_json::json!(sweep.fractions));
    AttackReport {
        settings,
        curves: configs
            .iter()
            .zip(points)
            .map(|(config, points)| {
                let disjoint = config.strategy == StrategyName::Disjoint;
                let hops = disjoint.then(|| points.first().map_or(1.0, |p| p.route_hops));
                Curve {
                    name: config.strategy.to_string(),
                    params: config.describe(),
                    paths: disjoint.then_some(config.paths),
                    model: hops.map(|h| {
                        let d = config.paths;
                        sweep
                            .fractions
                            .iter()
                            .map(|&f| round4(model(f, h, d)))
                            .collect()
                    }),
                    model_hops: hops,
                    points,
                }
            })
            .collect(),
    }
}

/// One way of judging a lookup under attack, as a report shows it.
struct Criterion {
    /// Heading of its block in the table.
    heading: &'static str,
    /// Title of its panel in the plot.
    title: &'static str,
    /// Its figure at a point.
    figure: fn(&Point) -> f64,
    /// Whether S/Kademlia's model goes with it (the paper's criterion).
    model: bool,
}

/// The criteria a report shows, in order.
const CRITERIA: [Criterion; 3] = [
    Criterion {
        heading: "success: result holds one of the true k closest honest nodes (id and address)",
        title: "kadlab: result holds a true closest honest node",
        figure: |p| p.success,
        model: false,
    },
    Criterion {
        heading: "paper: some path's route (requests before its first reply that brought nothing closer) asked no adversary",
        title: "S/Kademlia: some path's route asked no adversary",
        figure: |p| p.paper_success,
        model: true,
    },
    Criterion {
        heading: "strict: some path asked no adversary at all",
        title: "strict: some path asked no adversary at all",
        figure: |p| p.strict_success,
        model: false,
    },
];

/// A block of an attack report's table: its heading, each row's strategy
/// and params, and each row's cells (one per f).
type Block = (&'static str, Vec<[String; 2]>, Vec<Vec<String>>);

impl AttackReport {
    /// The fractions of the sweep, from the first curve.
    fn fractions(&self) -> Vec<f64> {
        self.curves
            .first()
            .map(|c| c.points.iter().map(|p| p.f).collect())
            .unwrap_or_default()
    }

    /// The blocks of the table, one column per f: the three criteria (the
    /// paper's with the model under each `disjoint` row), then RPCs per
    /// lookup; each a heading and rows of strategy, params and cells.
    fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        for criterion in &CRITERIA {
            let mut names = Vec::new();
            let mut cells = Vec::new();
            for c in &self.curves {
                names.push([c.name.clone(), c.params.clone()]);
                cells.push(
                    c.points
                        .iter()
                        .map(|p| format!("{:.3}", (criterion.figure)(p)))
                        .collect(),
                );
                if let (true, Some(model), Some(h)) = (criterion.model, &c.model, c.model_hops) {
                    names.push([String::new(), format!("model, h={h:.1}")]);
                    cells.push(model.iter().map(|m| format!("{m:.3}")).collect());
                }
            }
            blocks.push((criterion.heading, names, cells));
        }
        blocks.push((
            "RPCs per lookup",
            self.curves
                .iter()
                .map(|c| [c.name.clone(), c.params.clone()])
                .collect(),
            self.curves
                .iter()
                .map(|c| c.points.iter().map(|p| format!("{:.1}", p.rpcs)).collect())
                .collect(),
        ));
        blocks
    }

    /// Blocks for people, one column per f: the three criteria (the
    /// paper's with the model under each `disjoint` row), then RPCs per
    /// lookup.
    pub fn to_table(&self) -> String {
        let width = self
            .curves
            .iter()
            .map(|c| c.params.len())
            .max()
            .unwrap_or(0)
            .max("model, h=0.0".len());
        let row = |name: &str, params: &str, cells: Vec<String>| {
            format!("{name:<11} {params:<width$}  {}\n", cells.join(""))
        };
        let fractions = self.fractions();
        let head = |what: &str| {
            let cells = fractions.iter().map(|f| format!("{:>7}", format!("f={f}")));
            let mut line = row("strategy", "params", cells.collect());
            line.insert_str(line.len() - 1, &format!("   ({what})"));
            line
        };
        let mut out = format!("{}\n", settings_line(&self.settings));
        for (heading, names, cells) in self.blocks() {
            out.push('\n');
            out.push_str(&head(heading));
            for ([name, params], cells) in names.iter().zip(cells) {
                let cells = cells.iter().map(|c| format!("{c:>7}")).collect();
                out.push_str(&row(name, params, cells));
            }
        }
        out
    }

    /// The preset's `report.html`: settings, each block of the table, the
    /// plot, and a paragraph per strategy variant.
    pub fn to_html(&self, name: &str, plot: &Plot) -> String {
        let mut page = Page::new(&format!("kadlab {name}: lookups under attack"));
        page.paragraph(
            "Every strategy variant runs the same lookups on the same network at each fraction \
             f of adversarial nodes; the tables give one column per f.",
        );
        page.heading(2, "Settings");
        page.settings(&self.settings);
        let mut header = vec![Cell::Text("strategy".into()), Cell::Text("params".into())];
        header.extend(
            self.fractions()
                .into_iter()
                .map(|f| Cell::Text(format!("f={f}"))),
        );
        for (heading, names, cells) in self.blocks() {
            page.heading(2, heading);
            let rows: Vec<Vec<Cell>> = names
                .into_iter()
                .zip(cells)
                .map(|([name, params], cells)| {
                    [Cell::Text(name), Cell::Text(params)]
                        .into_iter()
                        .chain(cells.into_iter().map(Cell::Figure))
                        .collect()
                })
                .collect();
            page.table(&header, &rows);
        }
        page.heading(2, "Success against the fraction of adversaries");
        page.figure(
            plot,
            "One panel per criterion; dashed lines are S/Kademlia's model 1-(1-(1-f)^h)^d for \
             disjoint's d paths. The same plot is success_vs_f.svg beside this page.",
        );
        page.heading(2, "What each row means");
        for c in &self.curves {
            let (Some(first), Some(last)) = (c.points.first(), c.points.last()) else {
                continue;
            };
            let rule = StrategyName::rule_of(&c.name);
            let mut text = format!(
                "{} {rule}. At f = {}, {:.1} % of its results held a true closest honest node \
                 for {:.1} requests per lookup; at f = {}, {:.1} % did, for {:.1} requests.",
                c.name,
                first.f,
                100.0 * first.success,
                first.rpcs,
                last.f,
                100.0 * last.success,
                last.rpcs
            );
            if let (Some(model), Some(h)) = (&c.model, c.model_hops) {
                let _ = write!(
                    text,
                    " By the paper's criterion it succeeded in {:.1} % at f = {}, where the \
                     model with h = {h:.1} hops predicts {:.1} %.",
                    100.0 * last.paper_success,
                    last.f,
                    100.0 * model.last().copied().unwrap_or(0.0)
                );
            }
            page.heading(3, &format!("{} ({})", c.name, c.params));
            page.paragraph(&text);
        }
        page.finish()
    }

    /// The three criteria against f, side by side, one line per strategy
    /// variant, and the model (dashed, in its variant's colour) beside the
    /// paper's.
    pub fn draw(&self) -> Result<Plot> {
        let panels: Vec<Panel> = CRITERIA
            .iter()
            .map(|criterion| {
                let mut lines = Vec::new();
                // Each strategy in its colour of every plot; disjoint's
                // first variant too, its others in the free places.
                let styles = crate::plot::curve_styles(self.curves.iter().map(|c| c.name.as_str()));
                for (c, &color) in self.curves.iter().zip(&styles) {
                    lines.push(Line {
                        label: format!("{} ({})", c.name, c.params),
                        points: c
                            .points
                            .iter()
                            .map(|p| (p.f, (criterion.figure)(p)))
                            .collect(),
                        color,
                        dashed: false,
                    });
                    if let (true, Some(model), Some(h), Some(d)) =
                        (criterion.model, &c.model, c.model_hops, c.paths)
                    {
                        lines.push(Line {
                            label: format!("model 1-(1-(1-f)^h)^d, d={d}, h={h:.1}"),
                            points: c.points.iter().map(|p| p.f).zip(model.clone()).collect(),
                            color,
                            dashed: true,
                        });
                    }
                }
                Panel {
                    title: criterion.title.to_string(),
                    lines,
                }
            })
            .collect();
        draw_panels(
            &format!(
                "lookup success against the fraction f of adversaries ({})",
                self.settings
                    .get("adversary_mode")
                    .and_then(|m| m.as_str())
                    .unwrap_or("adversaries")
            ),
            "fraction f of adversaries",
            &panels,
        )
        .map_err(anyhow::Error::msg)
    }
}

/// Run the preset's sweep on `threads` and print or write its report.
pub fn run(
    resolved: &Resolved,
    sweep: &Sweep,
    format: Format,
    out: Option<&Path>,
    quiet: bool,
    threads: ThreadsArg,
) -> Result<()> {
    let report = threads.install(|| measure(resolved, sweep, quiet))?;
    let json = serde_json::to_string_pretty(&report)? + "\n";
    match format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => print!("{json}"),
        Format::Csv => {
            println!("strategy,params,f,success,recall,rpcs,rounds,model,paper_success,strict_success,route_hops");
            for c in &report.curves {
                for (i, p) in c.points.iter().enumerate() {
                    let model = c.model.as_ref().map_or(String::new(), |m| m[i].to_string());
                    println!(
                        "{},\"{}\",{},{},{},{},{},{model},{},{},{}",
                        c.name,
                        c.params,
                        p.f,
                        p.success,
                        p.recall,
                        p.rpcs,
                        p.rounds,
                        p.paper_success,
                        p.strict_success,
                        p.route_hops
                    );
                }
            }
        }
    }
    if let Some(dir) = out {
        // Made by `check_dir` before the run.
        let name = format!("{}.json", sweep.name);
        write_file(&dir.join(&name), &json)?;
        let plot = report.draw()?;
        plot.write(&dir.join("success_vs_f.svg"))?;
        write_file(&dir.join("report.html"), &report.to_html(sweep.name, &plot))?;
        eprintln!(
            "wrote {}/{name}, success_vs_f.svg, report.html",
            dir.display()
        );
    }
    Ok(())
}
