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
        // Room above the data for the legend and the phase labels.
        let y_top = y_hi + (y_hi - y_lo) * 0.4;

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
            y if y > y_hi => String::new(),
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
        for (i, (x, text)) in changes.iter().enumerate() {
            chart.draw_series(dashed(*x, y_lo, y_top, phase_style))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((*x, y_top))
                    + Text::new(
                        text.clone(),
                        (4, 4 + 15 * (i as i32 % 4)),
                        ("sans-serif", 13).into_font().color(&BLACK.mix(0.7)),
                    ),
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
            for c in &r.returned {
                let Some(&to) = at.get(&c.id) else { continue };
                if known.insert(c.id) {
                    fresh_lines.push(vec![from, to]);
                } else {
                    known_lines.push(vec![from, to]);
                }
            }
        }
        chart.draw_series(
            known_lines
                .into_iter()
                .map(|l| PathElement::new(l, BLACK.mix(0.06))),
        )?;
        chart.draw_series(
            fresh_lines
                .into_iter()
                .map(|l| PathElement::new(l, BLACK.mix(0.3))),
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
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
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

/// The first words of a phase description: up to its first `:` or `;`, at
/// most 48 characters.
fn phase_head(text: &str) -> String {
    let head = text.split([':', ';']).next().unwrap_or("").trim();
    if head.chars().count() > 48 {
        let cut: String = head.chars().take(47).collect();
        format!("{cut}…")
    } else {
        head.to_string()
    }
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
        assert_eq!(phase_head(long).chars().count(), 48);
        assert!(phase_head(long).ends_with('…'));
    }
}
