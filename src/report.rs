//! Summaries of simulated lookups, and the formats `kadlab compare` prints.
//!
//! The JSON layout is a contract scripts rely on: field names and nesting
//! only ever grow.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::html::{Cell, Page};
use crate::lookup::{Contender, EndReason, StrategyName};
use crate::plot::Plot;
use crate::sim::LookupRecord;

/// One strategy's figures over all its lookups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategySummary {
    /// Strategy name.
    pub name: String,
    /// Its parameters (`alpha=3 k=20`).
    pub params: String,
    /// FIND_NODE lookups run.
    pub lookups: usize,
    /// Mean recall of the true k closest.
    pub recall_mean: f64,
    /// Share of lookups whose result holds at least one of the true k
    /// closest honest nodes, by id and address (kadlab's success criterion).
    pub success_rate: f64,
    /// Share of lookups with a path whose route sent no request to an
    /// adversary (S/Kademlia's criterion; see [`crate::sim::routes`]).
    pub paper_success_rate: f64,
    /// Share of lookups with a path that sent no request at all to an
    /// adversary (the strict form of S/Kademlia's criterion).
    pub strict_success_rate: f64,
    /// 5th percentile of recall: the bad lookups.
    pub recall_p5: f64,
    /// Share of lookups whose result holds the single closest node.
    pub exact_rate: f64,
    /// Mean share of the result that was down when the lookup ended.
    pub stale_mean: f64,
    /// Mean requests per lookup.
    pub rpcs_mean: f64,
    /// 95th percentile of requests per lookup.
    pub rpcs_p95: f64,
    /// Mean requests per lookup that got no valid reply.
    pub timeouts_mean: f64,
    /// Mean longest request chain.
    pub rounds_mean: f64,
    /// Mean hops of a path's route (the h of S/Kademlia's model).
    pub route_hops_mean: f64,
    /// Median virtual latency.
    pub latency_ms_p50: f64,
    /// 95th percentile of virtual latency.
    pub latency_ms_p95: f64,
    /// Share of FIND_VALUE lookups that got the value (`null` if none ran).
    pub value_success_rate: Option<f64>,
    /// How many lookups ended for each reason.
    pub ended: BTreeMap<EndReason, usize>,
    /// Share of FIND_NODE lookups whose result held none of the true k
    /// closest (recall 0): what a p5 of 0 is made of.
    pub recall_zero_rate: f64,
}

/// Round for reports: four decimals are more than the noise of 1,000
/// lookups, and keep JSON and CSV readable.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Nearest-rank percentile `p` (0–100) of `xs`.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl StrategySummary {
    /// Summarise one strategy's records.
    pub fn from_records(name: &str, params: &str, records: &[LookupRecord]) -> StrategySummary {
        let nodes: Vec<&LookupRecord> =
            records.iter().filter(|r| r.value_found.is_none()).collect();
        let values: Vec<bool> = records.iter().filter_map(|r| r.value_found).collect();
        let field = |f: fn(&LookupRecord) -> f64| nodes.iter().map(|r| f(r)).collect::<Vec<f64>>();
        let recall = field(|r| r.recall);
        let rpcs = field(|r| f64::from(r.rpcs));
        let latency = field(|r| r.latency_ms as f64);
        let mut ended: BTreeMap<EndReason, usize> = BTreeMap::new();
        for r in &nodes {
            *ended.entry(r.reason).or_default() += 1;
        }
        StrategySummary {
            name: name.to_string(),
            params: params.to_string(),
            lookups: nodes.len(),
            recall_mean: round4(mean(&recall)),
            success_rate: round4(mean(&field(|r| f64::from(u8::from(r.success))))),
            paper_success_rate: round4(mean(&field(|r| f64::from(u8::from(r.paper_success))))),
            strict_success_rate: round4(mean(&field(|r| f64::from(u8::from(r.strict_success))))),
            recall_p5: round4(percentile(&recall, 5.0)),
            exact_rate: round4(mean(&field(|r| f64::from(u8::from(r.exact))))),
            stale_mean: round4(mean(&field(|r| r.stale))),
            rpcs_mean: round4(mean(&rpcs)),
            rpcs_p95: round4(percentile(&rpcs, 95.0)),
            timeouts_mean: round4(mean(&field(|r| f64::from(r.timeouts)))),
            rounds_mean: round4(mean(&field(|r| f64::from(r.rounds)))),
            route_hops_mean: round4(mean(&field(|r| r.route_hops))),
            latency_ms_p50: round4(percentile(&latency, 50.0)),
            latency_ms_p95: round4(percentile(&latency, 95.0)),
            value_success_rate: (!values.is_empty()).then(|| {
                round4(values.iter().filter(|&&v| v).count() as f64 / values.len() as f64)
            }),
            ended,
            recall_zero_rate: round4(mean(&field(|r| f64::from(u8::from(r.recall == 0.0))))),
        }
    }
}

/// Every column `kadlab compare` can print, with what it means: the one
/// place the legend under the table and `compare --help` read from.
pub const COLUMNS: &[(&str, &str)] = &[
    ("strategy", "the lookup rule (see docs/ALGORITHMS.md)"),
    (
        "params",
        "its parameters: α or δ in flight, budget, paths, β, hedge, vouches, seeds, k",
    ),
    (
        "recall",
        "mean share of the true k closest (the simulator knows them) in the result",
    ),
    (
        "success",
        "under attack: share of lookups whose result holds a true k-closest honest node",
    ),
    (
        "paper",
        "under attack: S/Kademlia's success, some path's route asked no adversary",
    ),
    (
        "strict",
        "under attack: some path asked no adversary at all",
    ),
    (
        "p5",
        "5th percentile of recall: 95 % of lookups did at least this well",
    ),
    (
        "exact",
        "share of lookups whose result holds the single closest node",
    ),
    (
        "stale",
        "mean share of the result that was offline when the lookup ended",
    ),
    ("rpcs", "mean requests sent per lookup (the cost axis)"),
    ("rpcs95", "95th percentile of requests per lookup"),
    (
        "t/outs",
        "mean requests per lookup that got no valid reply in time",
    ),
    (
        "rounds",
        "mean longest chain of requests, each sent after the reply before it",
    ),
    (
        "ms p50",
        "median lookup time in simulated milliseconds (virtual time, not wall time)",
    ),
    ("ms p95", "95th percentile of the same"),
    (
        "value",
        "share of FIND_VALUE lookups that got the value (- if none ran)",
    ),
    (
        "ended",
        "why FIND_NODE lookups stopped, with counts (EndReason in docs/ALGORITHMS.md)",
    ),
];

/// [`COLUMNS`] as an indented block, for `--help`.
pub fn columns_help() -> String {
    String::from("Columns of the table:\n") + &column_lines(|_| true)
}

/// Whether column `i` of a row of `columns` holds words, read from the
/// left (strategy, params, ended), rather than a figure aligned on the
/// right: the one rule of the terminal table and the HTML one.
fn is_text_column(i: usize, columns: usize) -> bool {
    i < 2 || i + 1 == columns
}

/// The lines of [`COLUMNS`] whose name `shown` accepts, one per column, as
/// the legend and `--help` print them.
fn column_lines(shown: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    for (name, meaning) in COLUMNS.iter().filter(|(name, _)| shown(name)) {
        let _ = writeln!(out, "  {name:<8}  {meaning}");
    }
    out
}

/// A whole comparison: the settings it ran with and one summary per
/// strategy.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Settings, as key → value (stable order).
    pub settings: BTreeMap<String, serde_json::Value>,
    /// One entry per strategy, in the order they ran.
    pub strategies: Vec<StrategySummary>,
}

/// Settings as one line of `key=value` pairs, the head of every table.
pub fn settings_line(settings: &BTreeMap<String, serde_json::Value>) -> String {
    let pairs: Vec<String> = settings
        .iter()
        .map(|(k, v)| format!("{k}={}", settings_value(v)))
        .collect();
    pairs.join("  ")
}

/// A setting's value as people read it: strings without their quotes.
pub fn settings_value(value: &serde_json::Value) -> String {
    value.to_string().trim_matches('"').to_string()
}

impl Report {
    /// The report of a comparison: `settings` (from
    /// [`SimConfig::settings`](crate::sim::SimConfig::settings), plus
    /// whatever the caller adds) and one summary per contender, from its
    /// records (as [`crate::sim::compare`] returns them).
    pub fn new(
        settings: BTreeMap<String, serde_json::Value>,
        contenders: &[Contender],
        records: &[Vec<LookupRecord>],
    ) -> Report {
        Report {
            settings,
            strategies: contenders
                .iter()
                .zip(records)
                .map(|(c, r)| StrategySummary::from_records(c.name(), c.params(), r))
                .collect(),
        }
    }

    /// Pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }

    /// CSV, one row per strategy.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "strategy,params,lookups,recall_mean,success_rate,recall_p5,exact_rate,stale_mean,rpcs_mean,rpcs_p95,timeouts_mean,rounds_mean,latency_ms_p50,latency_ms_p95,value_success_rate",
        );
        for reason in EndReason::ALL {
            let _ = write!(out, ",ended_{reason}");
        }
        out.push('\n');
        for s in &self.strategies {
            let _ = write!(
                out,
                "{},\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{}",
                s.name,
                s.params,
                s.lookups,
                s.recall_mean,
                s.success_rate,
                s.recall_p5,
                s.exact_rate,
                s.stale_mean,
                s.rpcs_mean,
                s.rpcs_p95,
                s.timeouts_mean,
                s.rounds_mean,
                s.latency_ms_p50,
                s.latency_ms_p95,
                s.value_success_rate
                    .map_or(String::new(), |v| v.to_string()),
            );
            for reason in EndReason::ALL {
                let _ = write!(out, ",{}", s.ended.get(&reason).copied().unwrap_or(0));
            }
            out.push('\n');
        }
        out
    }

    /// The cells of each strategy's row, in the order of
    /// [`Report::header`]: what the table and the HTML page both show.
    fn rows(&self) -> Vec<Vec<String>> {
        let attacked = self.attacked();
        self.strategies
            .iter()
            .map(|s| {
                let ended: Vec<String> = s.ended.iter().map(|(r, n)| format!("{r}:{n}")).collect();
                let mut row = vec![
                    s.name.clone(),
                    s.params.clone(),
                    format!("{:.3}", s.recall_mean),
                ];
                if attacked {
                    row.extend([
                        format!("{:.3}", s.success_rate),
                        format!("{:.3}", s.paper_success_rate),
                        format!("{:.3}", s.strict_success_rate),
                    ]);
                }
                row.extend([
                    format!("{:.2}", s.recall_p5),
                    format!("{:.3}", s.exact_rate),
                    format!("{:.3}", s.stale_mean),
                    format!("{:.1}", s.rpcs_mean),
                    format!("{:.0}", s.rpcs_p95),
                    format!("{:.1}", s.timeouts_mean),
                    format!("{:.1}", s.rounds_mean),
                    format!("{:.0}", s.latency_ms_p50),
                    format!("{:.0}", s.latency_ms_p95),
                    s.value_success_rate
                        .map_or("-".to_string(), |v| format!("{v:.3}")),
                    ended.join(" "),
                ]);
                row
            })
            .collect()
    }

    /// A table for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}\n", settings_line(&self.settings));
        let header = self.header();
        let rows = self.rows();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| -> String {
            cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if is_text_column(i, cells.len()) {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let _ = writeln!(
            out,
            "{}",
            line(header.iter().map(|h| h.to_string()).collect())
        );
        for row in rows {
            let _ = writeln!(out, "{}", line(row));
        }
        out
    }

    /// Success only means something under attack; without adversaries it
    /// is recall > 0 and would only widen the table.
    fn attacked(&self) -> bool {
        self.settings.contains_key("adversaries")
    }

    /// The columns [`Report::to_table`] shows, in order: what the legend
    /// explains.
    fn header(&self) -> Vec<&'static str> {
        let mut header = vec!["strategy", "params", "recall"];
        if self.attacked() {
            header.extend(["success", "paper", "strict"]);
        }
        header.extend([
            "p5", "exact", "stale", "rpcs", "rpcs95", "t/outs", "rounds", "ms p50", "ms p95",
            "value", "ended",
        ]);
        header
    }

    /// What to print under the table: one line per column it shows, a
    /// sentence for anything that looks wrong but is not, and what to try
    /// next.
    pub fn legend(&self) -> String {
        let header = self.header();
        let mut out = String::from("\n") + &column_lines(|name| header.contains(&name));
        let notes = self.notes();
        if !notes.is_empty() {
            out.push('\n');
            for note in notes {
                let _ = writeln!(out, "{note}");
            }
        }
        let _ = writeln!(
            out,
            "\nNext: --out DIR adds report.html (the table, the plot and a paragraph per strategy), \
             report.json, report.csv and recall_vs_rpcs.svg;\n      \
             `kadlab trace --strategy NAME` draws one lookup, \
             `cargo run --release --example kademlia` narrates one; --no-legend hides this."
        );
        out
    }

    /// The page `compare --out` writes as `report.html`: the settings, the
    /// table and its legend, the plot (inline), and a
    /// paragraph per strategy saying what its row means.
    pub fn to_html(&self, plot: &Plot) -> String {
        let mut page = Page::new("kadlab compare");
        page.paragraph(&format!(
            "{} lookup strategies on one simulated network, each running the same \
             {} FIND_NODE lookups from the same nodes at the same virtual times.",
            self.strategies.len(),
            self.strategies.first().map_or(0, |s| s.lookups)
        ));
        page.heading(2, "Settings");
        page.settings(&self.settings);
        page.heading(2, "Results");
        let header: Vec<Cell> = self
            .header()
            .into_iter()
            .map(|h| Cell::Text(h.to_string()))
            .collect();
        let rows: Vec<Vec<Cell>> = self
            .rows()
            .into_iter()
            .map(|row| {
                let columns = row.len();
                row.into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if is_text_column(i, columns) {
                            Cell::Text(c)
                        } else {
                            Cell::Figure(c)
                        }
                    })
                    .collect()
            })
            .collect();
        page.table(&header, &rows);
        page.preformatted(&self.legend());
        page.heading(2, "Recall against cost");
        page.figure(
            plot,
            "Each strategy's mean recall@k against its mean RPCs per lookup: up and to the \
             left is better. The same plot is recall_vs_rpcs.svg beside this page.",
        );
        page.heading(2, "What each row means");
        for s in &self.strategies {
            page.heading(3, &format!("{} ({})", s.name, s.params));
            page.paragraph(&self.explain(s));
        }
        page.finish()
    }

    /// One strategy's row in sentences.
    fn explain(&self, s: &StrategySummary) -> String {
        let mut text = format!("{} {}. ", s.name, StrategyName::rule_of(&s.name));
        let k = self
            .settings
            .get("k")
            .map_or_else(|| "k".to_string(), settings_value);
        let _ = write!(
            text,
            "Over {} lookups its result held {:.1} % of the true {k} closest nodes on \
             average, and at least {:.0} % in 95 % of lookups; {:.1} % of results held the \
             single closest node. A lookup cost {:.1} requests on average ({:.0} at the 95th \
             percentile), of which {:.1} got no reply in time, along a chain of {:.1} \
             requests. Half the lookups took at most {:.0} ms of simulated time, 95 % at \
             most {:.0} ms.",
            s.lookups,
            100.0 * s.recall_mean,
            100.0 * s.recall_p5,
            100.0 * s.exact_rate,
            s.rpcs_mean,
            s.rpcs_p95,
            s.timeouts_mean,
            s.rounds_mean,
            s.latency_ms_p50,
            s.latency_ms_p95,
        );
        if s.stale_mean > 0.0 {
            let _ = write!(
                text,
                " {:.1} % of a result was offline by the time the lookup ended.",
                100.0 * s.stale_mean
            );
        }
        if let Some(v) = s.value_success_rate {
            let _ = write!(
                text,
                " {:.1} % of its FIND_VALUE lookups got the value.",
                100.0 * v
            );
        }
        if self.attacked() {
            let _ = write!(
                text,
                " Under attack, {:.1} % of its results held a true closest honest node, \
                 and {:.1} % of lookups had a path whose route asked no adversary.",
                100.0 * s.success_rate,
                100.0 * s.paper_success_rate
            );
        }
        let ended: Vec<String> = s
            .ended
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        let _ = write!(text, " Its lookups ended: {}.", ended.join(", "));
        for note in self.notes_of(s) {
            let _ = write!(text, " Note: {note}");
        }
        text
    }

    /// One sentence per figure of the table that needs one.
    fn notes(&self) -> Vec<String> {
        self.strategies
            .iter()
            .flat_map(|s| {
                self.notes_of(s)
                    .into_iter()
                    .map(move |note| format!("{}: {note}", s.name))
            })
            .collect()
    }

    /// The sentences of [`Report::notes`] about one strategy.
    fn notes_of(&self, s: &StrategySummary) -> Vec<String> {
        let mut notes = Vec::new();
        if s.recall_p5 == 0.0 && s.lookups > 0 {
            notes.push(format!(
                "p5 is 0 because {:.1} % of its lookups found none of the true k closest \
                 (recall 0), more than the 5 % a p5 above 0 allows.",
                100.0 * s.recall_zero_rate
            ));
        }
        if let Some(&n) = s.ended.get(&EndReason::ContractBroken) {
            notes.push(format!(
                "{n} lookups broke the lookup contract and were stopped; \
                 RUST_LOG=kadlab=warn says how."
            ));
        }
        notes
    }
}
