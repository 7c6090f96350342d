//! Drawing a [`Trace`]: the SVG picture the [module docs](super) describe.
//! Recording a lookup (in the parent module) knows nothing of plotters;
//! everything about colours, axes and legends is here.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::element::IntoDynElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Membership, RequestOutcome, Trace, TracedRequest};
use crate::id::NodeId;

/// Radius of a request's dot, used by no other circle of the picture, so
/// `r="5"` counts the requests in the SVG.
pub const REQUEST_DOT_RADIUS: u32 = 5;

/// Rows of phase labels at the top, taken in turn, and their height in
/// pixels; the legend starts below them.
const PHASE_ROWS: usize = 4;
const PHASE_ROW: i32 = 15;
/// Where the legend's box starts below the top of the plot, in pixels.
const LEGEND_TOP: i32 = 8 + PHASE_ROW * PHASE_ROWS as i32;
/// The legend box's width in pixels, with room for its longest entry.
const LEGEND_WIDTH: i32 = 345;

/// Entries of the legend of every trace; a multi-path one adds a line per
/// path.
const LEGEND_ENTRIES: usize = 9;

/// Radius of the ring that marks a request's path.
const PATH_RING_RADIUS: u32 = 7;

/// Colours of a multi-path lookup's paths, in turn: none is a colour of
/// an outcome, of the truth or of contacts never asked.
const PATH_COLORS: [RGBColor; 6] = [
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(60, 60, 160),
];

/// The colour of a request's path: black (the reply lines' colour of a
/// single-path lookup) when it has none.
fn path_color(path: Option<usize>) -> RGBColor {
    path.map_or(BLACK, |p| PATH_COLORS[p % PATH_COLORS.len()])
}

/// Colour of contacts that were never asked.
const NEVER_ASKED: RGBColor = RGBColor(127, 127, 127);
/// Colour of the true k closest.
const TRUTH: RGBColor = RGBColor(44, 160, 44);

impl RequestOutcome {
    /// Its colour in the picture.
    pub fn color(self) -> RGBColor {
        match self {
            RequestOutcome::Answered => RGBColor(31, 119, 180),
            RequestOutcome::Failed => RGBColor(214, 39, 40),
            RequestOutcome::Unanswered => RGBColor(255, 127, 14),
        }
    }
}

impl Membership {
    fn color(self) -> RGBColor {
        match self {
            Membership::Asked(outcome) => outcome.color(),
            Membership::NeverAsked => NEVER_ASKED,
        }
    }
}

impl Trace {
    /// Write [`Trace::to_svg`] to `path`.
    pub fn write_svg(&self, path: &Path) -> Result<(), String> {
        let svg = self.to_svg()?;
        std::fs::write(path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The picture described in the [module docs](super), as an SVG
    /// document. Text is SVG `<text>`: no fonts are needed to draw it.
    pub fn to_svg(&self) -> Result<String, String> {
        let mut svg = String::new();
        self.draw(SVGBackend::with_string(&mut svg, (1200, 760)).into_drawing_area())
            .map_err(|e| format!("cannot draw the trace: {e}"))?;
        Ok(svg)
    }

    fn draw(&self, root: DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> DrawResult {
        let o = &self.outcome;
        let span = self.ms(o.finished_at).max(1.0);
        let result_x = span * 1.08;
        let truth_x = span * 1.16;
        let x_max = span * 1.22;

        // Where each node's mark is: its request's dot, or its cross.
        let mut at: HashMap<NodeId, (f64, f64)> = HashMap::new();
        for r in &self.requests {
            at.insert(r.to.id, (self.ms(r.sent), self.log2(&r.to.id)));
        }
        for l in &self.learned {
            at.insert(l.contact.id, (self.ms(l.at), self.log2(&l.contact.id)));
        }
        let truth_d: Vec<f64> = self.truth.iter().map(|c| self.log2(&c.id)).collect();
        let all_d = at.values().map(|p| p.1).chain(truth_d.iter().copied());
        let (lo, hi) = all_d.fold((f64::MAX, f64::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
        let (lo, hi) = if lo > hi { (150.0, 160.0) } else { (lo, hi) };
        let y_lo = (lo - 1.0).floor().max(0.0);
        let y_hi = (hi + 1.0).ceil().max(y_lo + 2.0);
        // Room above the data for the legend (a line per entry, one more
        // per path) and the phase labels: the share of the plot's height
        // the legend takes.
        let paths = self.requests.iter().filter_map(|r| r.path).max();
        let entries = LEGEND_ENTRIES + paths.map_or(0, |p| p + 1);
        let room = (LEGEND_TOP as f64 + 20.0 + 18.0 * entries as f64) / 650.0;
        let y_top = y_hi + (y_hi - y_lo) * room / (1.0 - room);

        root.fill(&WHITE)?;
        let caption = format!(
            "{} ({}): {} requests, ended {} after {} ms, recall {:.2}",
            self.strategy,
            self.params,
            self.requests.len(),
            o.reason,
            span.round(),
            self.recall()
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, y_lo..y_top)?;
        let x_labels = move |x: &f64| {
            if *x <= span {
                format!("{x:.0}")
            } else {
                String::new()
            }
        };
        let y_labels = move |y: &f64| match *y {
            y if y.fract() == 0.0 => format!("{y:.0}"),
            y => format!("{y:.1}"),
        };
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_desc("ms since the lookup started")
            .y_desc("log2 XOR distance to the target")
            .x_label_formatter(&x_labels)
            .y_label_formatter(&y_labels)
            .draw()?;

        // The true k closest: a band over the lookup, ticks in their column.
        if let (Some(first), Some(last)) = (truth_d.first(), truth_d.last()) {
            let (a, b) = (first.min(*last), first.max(*last));
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, a - 0.05), (span, b + 0.05)],
                TRUTH.mix(0.12).filled(),
            )))?;
        }
        chart.draw_series(truth_d.iter().map(|&d| {
            EmptyElement::at((truth_x, d))
                + PathElement::new(vec![(-10, 0), (10, 0)], TRUTH.stroke_width(3))
        }))?;

        // Phase changes, by the phase's first words.
        let mut label = String::new();
        let mut changes = Vec::new();
        for (t, text) in &self.phases {
            let head = phase_head(text);
            if head != label {
                changes.push((self.ms(*t), head.clone()));
                label = head;
            }
        }
        let phase_style = BLACK.mix(0.45).stroke_width(1);
        // Labels in the first rows above the legend, each whole: those in
        // the right part of the lookup end at their line instead of
        // starting at it, so none runs past the end.
        for (i, (x, text)) in changes.iter().enumerate() {
            chart.draw_series(dashed(*x, y_lo, y_top, phase_style))?;
            let right = *x > span * 0.6;
            let style = ("sans-serif", 13)
                .into_font()
                .color(&BLACK.mix(0.7))
                .pos(Pos::new(
                    if right { HPos::Right } else { HPos::Left },
                    VPos::Top,
                ));
            let row = PHASE_ROW * (i % PHASE_ROWS) as i32;
            chart.draw_series(std::iter::once(
                EmptyElement::at((*x, y_top))
                    + Text::new(text.clone(), (if right { -4 } else { 4 }, 4 + row), style),
            ))?;
        }

        // The end, and the two columns right of it.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(span, y_lo), (span, y_top)],
            BLACK.stroke_width(1),
        )))?;
        let header = ("sans-serif", 13).into_font();
        chart.draw_series(
            [
                (span, format!("end: {}", o.reason)),
                (result_x, "result".to_string()),
                (truth_x, "truth".to_string()),
            ]
            .into_iter()
            .map(|(x, text)| {
                EmptyElement::at((x, y_lo))
                    + Text::new(
                        text,
                        (0, -6),
                        TextStyle::from(header.clone()).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            }),
        )?;

        // Replies: a line from the node that answered to every contact it
        // returned; darker for contacts not heard of before.
        let mut known: HashSet<NodeId> = HashSet::new();
        let mut sent: Vec<&TracedRequest> = self.requests.iter().collect();
        sent.sort_by_key(|r| r.sent);
        let mut replies: Vec<&TracedRequest> = self
            .requests
            .iter()
            .filter(|r| r.outcome == RequestOutcome::Answered)
            .collect();
        replies.sort_by_key(|r| r.done);
        let mut next_sent = sent.iter().peekable();
        let mut fresh_lines = Vec::new();
        let mut known_lines = Vec::new();
        for r in replies {
            let done = r.done.unwrap_or(r.sent);
            while let Some(s) = next_sent.next_if(|s| s.sent <= done) {
                known.insert(s.to.id);
            }
            let from = (self.ms(done), self.log2(&r.to.id));
            let color = path_color(r.path);
            for c in &r.returned {
                let Some(&to) = at.get(&c.id) else { continue };
                if known.insert(c.id) {
                    fresh_lines.push((vec![from, to], color));
                } else {
                    known_lines.push((vec![from, to], color));
                }
            }
        }
        chart.draw_series(
            known_lines
                .into_iter()
                .map(|(l, c)| PathElement::new(l, c.mix(0.06))),
        )?;
        chart.draw_series(
            fresh_lines
                .into_iter()
                .map(|(l, c)| PathElement::new(l, c.mix(0.3))),
        )?;

        // Contacts never asked.
        chart.draw_series(self.learned.iter().map(|l| {
            Cross::new(
                (self.ms(l.at), self.log2(&l.contact.id)),
                4,
                NEVER_ASKED.stroke_width(2),
            )
        }))?;

        // Requests: how long each was out, then its dot.
        chart.draw_series(self.requests.iter().map(|r| {
            let y = self.log2(&r.to.id);
            let end = r.done.unwrap_or(o.finished_at).min(o.finished_at);
            PathElement::new(
                vec![(self.ms(r.sent), y), (self.ms(end), y)],
                r.outcome.color().mix(0.5).stroke_width(2),
            )
        }))?;
        chart.draw_series(self.requests.iter().map(|r| {
            Circle::new(
                (self.ms(r.sent), self.log2(&r.to.id)),
                REQUEST_DOT_RADIUS,
                r.outcome.color().filled(),
            )
        }))?;
        // A multi-path lookup's paths: a ring of the path's colour around
        // each request's dot (its reply lines have that colour too).
        chart.draw_series(self.requests.iter().filter(|r| r.path.is_some()).map(|r| {
            Circle::new(
                (self.ms(r.sent), self.log2(&r.to.id)),
                PATH_RING_RADIUS,
                path_color(r.path).stroke_width(2),
            )
        }))?;

        // The result: rings on its members, squares in its column.
        chart.draw_series(
            o.result
                .iter()
                .filter_map(|c| at.get(&c.id))
                .map(|&p| Circle::new(p, 8, BLACK.stroke_width(2))),
        )?;
        chart.draw_series(o.result.iter().map(|c| {
            EmptyElement::at((result_x, self.log2(&c.id)))
                + Rectangle::new([(-6, -4), (6, 4)], self.membership(c).color().filled())
        }))?;

        // The legend: empty series that only carry a label.
        for outcome in RequestOutcome::ALL {
            let color = outcome.color();
            legend(&mut chart, outcome.describe(), move |(x, y)| {
                Circle::new((x + 8, y), 4, color.filled())
            })?;
        }
        legend(&mut chart, "heard of in a reply, never asked", |(x, y)| {
            Cross::new((x + 8, y), 4, NEVER_ASKED.stroke_width(2))
        })?;
        legend(
            &mut chart,
            "in the result (ring; squares in the result column)",
            |(x, y)| Circle::new((x + 8, y), 7, BLACK.stroke_width(2)),
        )?;
        legend(
            &mut chart,
            "true k closest (band; ticks in the truth column)",
            |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], TRUTH.mix(0.5).filled()),
        )?;
        legend(
            &mut chart,
            "reply → a contact it returned (darker: new)",
            |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.3)),
        )?;
        legend(&mut chart, "phase change", |(x, y)| {
            PathElement::new(vec![(x + 8, y - 6), (x + 8, y + 6)], BLACK.mix(0.45))
        })?;
        for path in (0..=paths.unwrap_or(0)).filter(|_| paths.is_some()) {
            let color = path_color(Some(path));
            legend(
                &mut chart,
                &format!(
                    "path {}: ring round its requests, its reply lines",
                    path + 1
                ),
                move |(x, y)| Circle::new((x + 8, y), PATH_RING_RADIUS, color.stroke_width(2)),
            )?;
        }
        let (width, _) = chart.plotting_area().dim_in_pixel();
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::Coordinate(
                width as i32 - LEGEND_WIDTH,
                LEGEND_TOP,
            ))
            .draw()?;
        root.present()?;
        Ok(())
    }
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Add a legend entry with no data.
fn legend<'a, DB, E>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    label: &str,
    icon: impl Fn((i32, i32)) -> E + 'a,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    E: IntoDynElement<'a, DB, (i32, i32)>,
{
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())?
        .label(label)
        .legend(icon);
    Ok(())
}

/// A vertical dashed line at `x`, as short segments.
fn dashed(
    x: f64,
    y_lo: f64,
    y_hi: f64,
    style: ShapeStyle,
) -> impl Iterator<Item = PathElement<(f64, f64)>> {
    let step = (y_hi - y_lo) / 60.0;
    (0..30).map(move |i| {
        let y = y_lo + 2.0 * i as f64 * step;
        PathElement::new(vec![(x, y), (x, y + step)], style)
    })
}

/// The first words of a phase description: up to its first `:` or `;`.
fn phase_head(text: &str) -> String {
    text.split([':', ';'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::phase_head;

    #[test]
    fn phase_heads_are_the_first_words() {
        assert_eq!(phase_head("round 2: asking the first α=3"), "round 2");
        assert_eq!(
            phase_head("up to δ=3 in flight; 5 seen"),
            "up to δ=3 in flight"
        );
        let long = "α=3 in flight among the k=20 closest known, closest first";
        assert_eq!(phase_head(long), long);
    }
}
