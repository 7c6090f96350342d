//! A picture of one lookup: whom it asked, when, how close they were, what
//! came back, and what it returned.
//!
//! [`trace_lookup`] runs one simulated lookup with a [`DriverEvent`]
//! observer; [`Trace::from_events`] turns the events into one
//! [`TracedRequest`] per request; [`Trace::to_svg`] draws them
//! (`kadlab trace` is the command-line shell over this):
//!
//! - **across**: milliseconds since the lookup started; **up**: log2 of the
//!   XOR distance to the target ([`Distance::log2`](crate::id::Distance::log2)),
//!   so the target's neighbourhood is at the bottom;
//! - **one dot per request**, at the time it was sent and the distance of the
//!   node asked, coloured by what became of it: answered, failed or timed out,
//!   or still unanswered when the lookup ended (a thin line of the same
//!   colour runs to the reply, the failure or the end);
//! - **grey lines** from each reply (at the time it arrived) to every contact
//!   it carried: darker for contacts the lookup had not heard of before,
//!   faint for those it already knew;
//! - **grey crosses**: contacts heard of in a reply and never asked;
//! - **black rings**: the members of the result, wherever they are; the
//!   *result* column right of the end line repeats them as squares coloured
//!   by what the lookup knew of them (answered, failed, unanswered, never
//!   asked), next to the *truth* column, the true k closest (green ticks; the
//!   green band spans their distances);
//! - **dashed lines**: the strategy's phase changes ([`DriverEvent::Phase`]),
//!   labelled with the first words of the phase.
//!
//! So `delta`'s result squares show at a glance which of its members were
//! never asked or timed out, and `query-rest`'s last round is a column of
//! dots sent at one instant, after the "query the rest" line.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use plotters::coord::types::RangedCoordf64;
use plotters::element::IntoDynElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::contact::Contact;
use crate::driver::{Clock, DriverEvent};
use crate::id::NodeId;
use crate::lookup::{Contender, LookupOutcome};
use crate::sim::{self, LookupTask, SimNetwork};
use crate::time::Time;

/// What became of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    /// A reply came back and the strategy took it.
    Answered,
    /// An error, an unreachable node, or a timeout (the transport's, or the
    /// lookup giving up on it: its own deadline or a rule's timer).
    Failed,
    /// Neither: the lookup ended while the request was still in flight.
    Unanswered,
}

impl RequestOutcome {
    /// Every outcome, in legend order.
    pub const ALL: [RequestOutcome; 3] = [
        RequestOutcome::Answered,
        RequestOutcome::Failed,
        RequestOutcome::Unanswered,
    ];

    /// Its colour in the picture.
    pub fn color(self) -> RGBColor {
        match self {
            RequestOutcome::Answered => RGBColor(31, 119, 180),
            RequestOutcome::Failed => RGBColor(214, 39, 40),
            RequestOutcome::Unanswered => RGBColor(255, 127, 14),
        }
    }

    /// Its name in the legend.
    pub fn describe(self) -> &'static str {
        match self {
            RequestOutcome::Answered => "answered",
            RequestOutcome::Failed => "failed or timed out",
            RequestOutcome::Unanswered => "no answer before the lookup ended",
        }
    }
}

/// Radius of a request's dot, used by no other circle of the picture, so
/// `r="5"` counts the requests in the SVG.
pub const REQUEST_DOT_RADIUS: u32 = 5;

/// Colour of contacts that were never asked.
const NEVER_ASKED: RGBColor = RGBColor(127, 127, 127);
/// Colour of the true k closest.
const TRUTH: RGBColor = RGBColor(44, 160, 44);

/// One request of the lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedRequest {
    /// The node asked.
    pub to: Contact,
    /// When the request was sent.
    pub sent: Time,
    /// When the reply or failure reached the strategy, or the lookup gave
    /// up on it. `None` for [`RequestOutcome::Unanswered`].
    pub done: Option<Time>,
    /// What became of it.
    pub outcome: RequestOutcome,
    /// The contacts of the reply, if it was answered.
    pub returned: Vec<Contact>,
}

/// A contact heard of in a reply and never asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    /// The contact.
    pub contact: Contact,
    /// When the first reply carrying it arrived.
    pub at: Time,
}

/// Where a member of the result stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Membership {
    /// It was asked, with this outcome.
    Asked(RequestOutcome),
    /// It was never asked: the lookup only heard of it.
    NeverAsked,
}

impl Membership {
    fn color(self) -> RGBColor {
        match self {
            Membership::Asked(outcome) => outcome.color(),
            Membership::NeverAsked => NEVER_ASKED,
        }
    }
}

/// One lookup, request by request.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Strategy name.
    pub strategy: String,
    /// Its parameters, as `compare` prints them.
    pub params: String,
    /// The node that looked up.
    pub origin: Contact,
    /// When the lookup started.
    pub start: Time,
    /// Every request, in the order sent.
    pub requests: Vec<TracedRequest>,
    /// Contacts heard of and never asked, in the order first heard of.
    pub learned: Vec<Learned>,
    /// Phase changes: when, and the strategy's description.
    pub phases: Vec<(Time, String)>,
    /// The true k closest, closest first.
    pub truth: Vec<Contact>,
    /// How the lookup finished.
    pub outcome: LookupOutcome,
}

/// Run `task` alone on `net` (already warmed up) with `contender`, recording
/// every driver event, and return its trace. The lookup changes the origin's
/// routing table, as a real one would.
pub fn trace_lookup(net: &Arc<SimNetwork>, task: &LookupTask, contender: &Contender) -> Trace {
    let mut events: Vec<DriverEvent> = Vec::new();
    sim::virtual_time_runtime().block_on(async {
        task.run(net, contender, Clock::starting_now(), &mut events)
            .await
    });
    let truth = task
        .truth
        .iter()
        .map(|&n| net.nodes[n as usize].contact)
        .collect();
    let origin = net.nodes[task.origin as usize].contact;
    match Trace::from_events(contender, origin, task.start, truth, &events) {
        Some(trace) => trace,
        // run_lookup reports Finished before it returns.
        None => unreachable!("the driver ended a lookup without a Finished event"),
    }
}

impl Trace {
    /// Assemble a trace from the events of one lookup (in the order the
    /// driver reported them). `None` if they hold no
    /// [`DriverEvent::Finished`].
    ///
    /// The driver reports every request's end, the requests the lookup gave
    /// up on by itself included (as [`DriverEvent::Failed`]), so a request
    /// with no reply or failure was still in flight when the lookup ended:
    /// it counts as unanswered.
    pub fn from_events(
        contender: &Contender,
        origin: Contact,
        start: Time,
        truth: Vec<Contact>,
        events: &[DriverEvent],
    ) -> Option<Trace> {
        let outcome = events.iter().find_map(|e| match e {
            DriverEvent::Finished(_, outcome) => Some(outcome.clone()),
            _ => None,
        })?;
        let mut requests: Vec<TracedRequest> = Vec::new();
        let mut by_id: HashMap<NodeId, usize> = HashMap::new();
        let mut phases = Vec::new();
        let mut heard: Vec<(Contact, Time)> = Vec::new();
        for event in events {
            match event {
                DriverEvent::Sent(t, to) => {
                    for c in to {
                        by_id.entry(c.id).or_insert_with(|| {
                            requests.push(TracedRequest {
                                to: *c,
                                sent: *t,
                                done: None,
                                outcome: RequestOutcome::Unanswered,
                                returned: Vec::new(),
                            });
                            requests.len() - 1
                        });
                    }
                }
                DriverEvent::Replied(t, from, contacts) => {
                    if let Some(&i) = by_id.get(&from.id) {
                        let r = &mut requests[i];
                        r.done = Some(*t);
                        r.outcome = RequestOutcome::Answered;
                        r.returned = contacts
                            .iter()
                            .filter(|c| c.id != origin.id)
                            .copied()
                            .collect();
                        heard.extend(r.returned.iter().map(|c| (*c, *t)));
                    }
                }
                DriverEvent::Failed(t, to, _) => {
                    if let Some(&i) = by_id.get(&to.id) {
                        requests[i].done = Some(*t);
                        requests[i].outcome = RequestOutcome::Failed;
                    }
                }
                DriverEvent::Phase(t, text) => phases.push((*t, text.clone())),
                DriverEvent::Finished(..) => {}
            }
        }
        let mut seen: HashSet<NodeId> = by_id.keys().copied().collect();
        let learned = heard
            .into_iter()
            .filter(|(c, _)| seen.insert(c.id))
            .map(|(contact, at)| Learned { contact, at })
            .collect();
        Some(Trace {
            strategy: contender.name().to_string(),
            params: contender.params().to_string(),
            origin,
            start,
            requests,
            learned,
            phases,
            truth,
            outcome,
        })
    }

    /// The key looked up.
    pub fn target(&self) -> &NodeId {
        &self.outcome.target
    }

    /// Requests with this outcome.
    pub fn count(&self, outcome: RequestOutcome) -> usize {
        self.requests
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    }

    /// |result ∩ truth| / |truth| (1 with no truth).
    pub fn recall(&self) -> f64 {
        if self.truth.is_empty() {
            return 1.0;
        }
        let truth: HashSet<NodeId> = self.truth.iter().map(|c| c.id).collect();
        let hits = self
            .outcome
            .result
            .iter()
            .filter(|c| truth.contains(&c.id))
            .count();
        hits as f64 / truth.len() as f64
    }

    /// Where `contact`, a member of the result, stands.
    pub fn membership(&self, contact: &Contact) -> Membership {
        self.requests
            .iter()
            .find(|r| r.to.id == contact.id)
            .map_or(Membership::NeverAsked, |r| Membership::Asked(r.outcome))
    }

    /// Milliseconds from the start to `t`.
    fn ms(&self, t: Time) -> f64 {
        (t - self.start).as_micros() as f64 / 1000.0
    }

    fn log2(&self, id: &NodeId) -> f64 {
        id.distance(self.target()).log2()
    }

    /// One paragraph for people: strategy, target, requests and their
    /// outcomes, why and when it ended, recall, and what the result is made
    /// of.
    pub fn summary(&self) -> String {
        let o = &self.outcome;
        let mut members: HashMap<Membership, usize> = HashMap::new();
        for c in &o.result {
            *members.entry(self.membership(c)).or_default() += 1;
        }
        let member = |m: Membership| members.get(&m).copied().unwrap_or(0);
        let truth: HashSet<NodeId> = self.truth.iter().map(|c| c.id).collect();
        let hits = o.result.iter().filter(|c| truth.contains(&c.id)).count();
        let mut s = format!(
            "{} ({}) looked up {} from node {}, starting at virtual time {}: it sent {} requests ({} answered, {} failed or timed out, {} still unanswered at the end) and ended with {} after {} ms.",
            self.strategy,
            self.params,
            self.target(),
            self.origin.id,
            self.start,
            self.requests.len(),
            self.count(RequestOutcome::Answered),
            self.count(RequestOutcome::Failed),
            self.count(RequestOutcome::Unanswered),
            o.reason,
            (o.finished_at - self.start).as_millis(),
        );
        let _ = write!(
            s,
            " Recall {:.2}: its {} results hold {hits} of the true {} closest; {} of them answered, {} failed, {} were still unanswered and {} were never asked.",
            self.recall(),
            o.result.len(),
            self.truth.len(),
            member(Membership::Asked(RequestOutcome::Answered)),
            member(Membership::Asked(RequestOutcome::Failed)),
            member(Membership::Asked(RequestOutcome::Unanswered)),
            member(Membership::NeverAsked),
        );
        s
    }

    /// Write [`Trace::to_svg`] to `path`.
    pub fn write_svg(&self, path: &Path) -> Result<(), String> {
        let svg = self.to_svg()?;
        std::fs::write(path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The picture described in the [module docs](self), as an SVG
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
    use super::*;
    use crate::lookup::{EndReason, LookupStats};
    use std::time::Duration;

    use crate::transport::TransportError;

    fn contact(name: &str, index: u32) -> Contact {
        Contact::simulated(NodeId::from_sha1(name.as_bytes()), index)
    }

    /// Four requests: one answered (with a new contact, the origin and a
    /// known one), one failed, one the lookup timed out itself (the driver
    /// reports it at its deadline), one still out when the lookup ended.
    fn scripted() -> Trace {
        let config = crate::lookup::LookupConfig::default();
        let timeout = config.rpc_timeout();
        let origin = contact("origin", 0);
        let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|i| contact(&format!("n{i}"), i));
        let start = Time::from_millis(1_000);
        let late = start + timeout + timeout;
        let outcome = LookupOutcome {
            target: NodeId::from_sha1(b"target"),
            result: vec![a, e, b],
            reason: EndReason::Converged,
            stats: LookupStats::default(),
            value: None,
            finished_at: late,
            breach: None,
        };
        let events = vec![
            DriverEvent::Phase(start, "round 1: asking".into()),
            DriverEvent::Sent(start, vec![a, b, c]),
            DriverEvent::Replied(Time::from_millis(1_100), a, vec![e, origin, b]),
            DriverEvent::Failed(Time::from_millis(1_200), b, TransportError::Timeout),
            DriverEvent::Failed(start + timeout, c, TransportError::Timeout),
            DriverEvent::Sent(start + timeout + Duration::from_millis(1_990), vec![d]),
            DriverEvent::Finished(late, outcome),
        ];
        Trace::from_events(&config.into(), origin, start, vec![a, e], &events).unwrap()
    }

    #[test]
    fn events_become_one_request_each_with_its_outcome() {
        let trace = scripted();
        let outcomes: Vec<RequestOutcome> = trace.requests.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                RequestOutcome::Answered,
                RequestOutcome::Failed,
                RequestOutcome::Failed,
                RequestOutcome::Unanswered
            ]
        );
        // The lookup timed c out itself, at its deadline.
        let c = &trace.requests[2];
        assert_eq!(
            c.done,
            Some(c.sent + crate::lookup::LookupConfig::default().rpc_timeout())
        );
        assert_eq!(trace.requests[3].done, None);
        // The origin is dropped from replies; only e was heard of and never
        // asked.
        assert_eq!(trace.requests[0].returned.len(), 2);
        let learned: Vec<u32> = trace
            .learned
            .iter()
            .filter_map(|l| l.contact.simulated_index())
            .collect();
        assert_eq!(learned, [5]);
        assert_eq!(trace.recall(), 1.0);
        let e = trace.outcome.result[1];
        assert_eq!(trace.membership(&e), Membership::NeverAsked);
        let b = trace.outcome.result[2];
        assert_eq!(
            trace.membership(&b),
            Membership::Asked(RequestOutcome::Failed)
        );
    }

    #[test]
    fn the_svg_has_one_dot_per_request_and_a_ring_per_located_member() {
        let trace = scripted();
        let svg = trace.to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{svg:.80}");
        assert!(svg.trim_end().ends_with("</svg>"));
        // 4 dots, 3 rings, 4 legend circles.
        assert_eq!(svg.matches("<circle").count(), 4 + 3 + 4);
        assert_eq!(svg.matches(r#" r="5""#).count(), 4);
        assert_eq!(svg.matches(r#" r="8""#).count(), 3);
        let summary = trace.summary();
        for needle in ["4 requests", "1 answered", "2 failed", "1 still unanswered"] {
            assert!(summary.contains(needle), "{needle}: {summary}");
        }
    }

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
