//! SVG charts of accuracy against cost, and of success against the
//! fraction of adversaries.
//!
//! plotters' SVG backend writes `<text>` elements and needs no system fonts,
//! so charts render the same on any machine.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::ComposedElement;
use plotters::prelude::*;

/// One curve of [`draw_curves`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The strategy it belongs to, which picks its colour and marker in
    /// every plot (see [`style_of`]).
    pub strategy: String,
    /// Legend text.
    pub label: String,
    /// Points `(x, y)` in drawing order, each with the text drawn beside it
    /// (a sweep's parameter value; empty for none).
    pub points: Vec<(f64, f64, String)>,
}

const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
    RGBColor(0, 0, 128),
    RGBColor(255, 187, 120),
];

/// The shape a strategy's points are drawn with: coinciding curves of two
/// strategies stay apart by shape where colour alone would hide one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle.
    Triangle,
    /// A cross.
    Cross,
    /// An open circle.
    Ring,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Cross,
    Marker::Ring,
];

/// Colour and marker of `strategy`, the same in every plot kadlab draws:
/// the built-ins by their place in [`StrategyName::ALL`](crate::lookup::StrategyName::ALL),
/// any other name (an outside strategy) by its bytes, so it too keeps one
/// style from plot to plot.
pub fn style_of(strategy: &str) -> (RGBColor, Marker) {
    style_at(style_index(strategy))
}

/// Colour and marker of palette place `index`.
fn style_at(index: usize) -> (RGBColor, Marker) {
    (
        PALETTE[index % PALETTE.len()],
        MARKERS[index % MARKERS.len()],
    )
}

/// Palette places for curves drawn together, in order: the first curve of
/// each strategy in the strategy's own place ([`style_index`]), every
/// further curve of the same strategy (`delta` by budget beside `delta` by
/// δ, `gated` at another α) in the next of [`VARIANT_STYLES`], so that no
/// two curves of one plot look alike while there are places left.
pub fn curve_styles<'a>(strategies: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut variants = VARIANT_STYLES;
    let mut seen: Vec<&str> = Vec::new();
    strategies
        .into_iter()
        .map(|name| {
            if seen.contains(&name) {
                variants.next().unwrap_or(VARIANT_STYLES.start)
            } else {
                seen.push(name);
                style_index(name)
            }
        })
        .collect()
}

/// The palette place behind [`style_of`], for plots that also draw
/// variants of one strategy: a variant takes a place after the built-ins
/// ([`VARIANT_STYLES`]).
pub fn style_index(strategy: &str) -> usize {
    let built = crate::lookup::StrategyName::ALL.len();
    crate::lookup::StrategyName::ALL
        .iter()
        .position(|s| s.as_str() == strategy)
        .unwrap_or_else(|| {
            built + strategy.bytes().map(usize::from).sum::<usize>() % (PALETTE.len() - built)
        })
}

/// Palette places free of any built-in strategy's style, for the second
/// and later variants of one strategy in a plot (disjoint with d = 2, 4, 8
/// beside d = 1; see [`curve_styles`]).
pub const VARIANT_STYLES: std::ops::Range<usize> =
    crate::lookup::StrategyName::ALL.len()..PALETTE.len();

/// Draw `series` into an SVG file at `path`: each strategy in its own
/// colour and marker ([`style_of`]), a curve of several points as a line
/// through them with each point's text beside it, a single point as a
/// marker alone, and legend swatches of the same form.
pub fn draw_curves(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<Plot, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw the plot {title:?}: {e}");
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x_max = xs.fold(1.0f64, f64::max) * 1.1;
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (y_min, y_max) = ys.fold((1.0f64, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let y_min = (y_min - 0.05).clamp(0.0, 1.0).min(y_max - 0.05).max(0.0);
    let y_max = 1.02f64.max(y_max);
    // Each curve's points without their labels: what is drawn, and what
    // is compared for curves on top of each other.
    let xys: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| s.points.iter().map(|p| (p.0, p.1)).collect())
        .collect();
    let curves: Vec<(&str, &[(f64, f64)])> = series
        .iter()
        .zip(&xys)
        .map(|(s, xy)| (s.label.as_str(), xy.as_slice()))
        .collect();
    let notes: Vec<String> = overlap_note(&coinciding(&curves, x_max, y_max - y_min))
        .into_iter()
        .collect();
    let lines = note_lines(&notes, 900);
    let note_height = NOTE_LINE * lines.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 600 + note_height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (root, below) = root.split_vertically(600);
        draw_notes(&below, &lines).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, y_min..y_max)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(|e| err(&e))?;
        // Boxes a label must not cover: every curve's markers, then the
        // point labels drawn so far, of every curve.
        let mut placed: Vec<LabelBox> = xys
            .iter()
            .flatten()
            .map(|p| {
                let at = chart.backend_coord(p);
                let r = MARKER_REACH;
                (at.0 - r, at.1 - r, 2 * r, 2 * r)
            })
            .collect();
        let styles = curve_styles(series.iter().map(|s| s.strategy.as_str()));
        for ((s, xy), &style) in series.iter().zip(&xys).zip(&styles) {
            let (color, marker) = style_at(style);
            let line = xy.len() > 1;
            if line {
                chart
                    .draw_series(LineSeries::new(xy.iter().copied(), color.stroke_width(2)))
                    .map_err(|e| err(&e))?;
            }
            chart
                .draw_series(xy.iter().map(|&p| marker_at(p, marker, color, 0)))
                .map_err(|e| err(&e))?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    marker_at((x + 10, y), marker, color, if line { 10 } else { 0 })
                });
            // Each end is labelled, so the direction of the curve shows;
            // points between are labelled where their text fits. A label
            // goes above right of its point, else below right, above left
            // or below left, wherever it covers no marker and no label
            // placed so far (of any curve); an end may also go one line
            // farther out, and takes its first place if none is free.
            let mut labels = Vec::new();
            for (i, p) in s.points.iter().enumerate() {
                if p.2.is_empty() {
                    continue;
                }
                let at = chart.backend_coord(&(p.0, p.1));
                let end = i == 0 || i + 1 == s.points.len();
                let width = LABEL_CHAR_WIDTH * p.2.chars().count() as i32;
                if let Some((dx, dy, b)) = label_place(at, width, end, &placed) {
                    placed.push(b);
                    labels.push((p, (dx, dy)));
                }
            }
            chart
                .draw_series(labels.into_iter().map(|(p, offset)| {
                    EmptyElement::at((p.0, p.1))
                        + Text::new(
                            p.2.clone(),
                            offset,
                            ("sans-serif", 13).into_font().color(&color),
                        )
                }))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(Plot { svg, notes })
}

/// A marker as plotters draws it: an optional line through it, its filled
/// outline, and the outline stroked. One concrete type for every shape, so
/// that a legend swatch (which must own what it draws) can be any of them.
type Shape<C, DB> = ComposedElement<
    C,
    DB,
    PathElement<(i32, i32)>,
    ComposedElement<(i32, i32), DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>,
>;

/// The outline of `marker` in pixels around its centre.
fn outline_of(marker: Marker) -> Vec<(i32, i32)> {
    let round = || {
        (0..12)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 6.0;
                (
                    (5.0 * a.cos()).round() as i32,
                    (5.0 * a.sin()).round() as i32,
                )
            })
            .collect()
    };
    match marker {
        Marker::Circle | Marker::Ring => round(),
        Marker::Square => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
        Marker::Triangle => vec![(0, -6), (5, 4), (-5, 4)],
        Marker::Cross => vec![
            (-1, -5),
            (1, -5),
            (1, -1),
            (5, -1),
            (5, 1),
            (1, 1),
            (1, 5),
            (-1, 5),
            (-1, 1),
            (-5, 1),
            (-5, -1),
            (-1, -1),
        ],
    }
}

/// `marker` in `color` centred on `at` (chart or pixel coordinates), on a
/// horizontal line `half_line` pixels to each side (0 for none: a legend
/// swatch of a curve has the line, one of a single point does not).
fn marker_at<C, DB: DrawingBackend>(
    at: C,
    marker: Marker,
    color: RGBColor,
    half_line: i32,
) -> Shape<C, DB> {
    let line = if half_line > 0 {
        vec![(-half_line, 0), (half_line, 0)]
    } else {
        Vec::new()
    };
    let outline = outline_of(marker);
    let mut closed = outline.clone();
    closed.extend(outline.first().copied());
    let fill = if marker == Marker::Ring { WHITE } else { color };
    EmptyElement::at(at)
        + PathElement::new(line, color.stroke_width(2))
        + Polygon::new(outline, fill.filled())
        + PathElement::new(
            closed,
            color.stroke_width(if marker == Marker::Ring { 2 } else { 1 }),
        )
}

/// Where a point's label may go, tried in turn: above right, below right,
/// above left and below left of it (a negative x offset means "end just
/// left of the point").
const LABEL_PLACES: [(i32, i32); 4] = [(6, -16), (6, 4), (-1, -16), (-1, 4)];
/// Where an end's label may go: the places of [`LABEL_PLACES`], then one
/// line farther up or down, for an end must be labelled and crowded ends
/// (the last points of a family of curves) would otherwise be written over
/// each other.
const END_PLACES: [(i32, i32); 8] = [
    (6, -16),
    (6, 4),
    (-1, -16),
    (-1, 4),
    (6, -30),
    (6, 18),
    (-1, -30),
    (-1, 18),
];
/// How far in pixels a marker reaches from its point, each way: the half
/// side of the box a point label must keep out of.
const MARKER_REACH: i32 = 5;
/// Width in pixels of a label's character at 13 px, and a label's height.
const LABEL_CHAR_WIDTH: i32 = 7;
const LABEL_HEIGHT: i32 = 14;

/// A box `(x, y, width, height)` in pixels.
type LabelBox = (i32, i32, i32, i32);

/// Where the label, `width` pixels wide, of the point drawn at `at` goes:
/// its offset from the point and its box. The first of its places
/// ([`LABEL_PLACES`], or [`END_PLACES`] for an `end` of a curve) that
/// covers none of `placed` (markers and labels already drawn); `None` when
/// none is free, except that an end then takes its first place.
fn label_place(
    at: (i32, i32),
    width: i32,
    end: bool,
    placed: &[LabelBox],
) -> Option<(i32, i32, LabelBox)> {
    let places = if end {
        &END_PLACES[..]
    } else {
        &LABEL_PLACES[..]
    };
    let boxed = |&(dx, dy): &(i32, i32)| {
        let dx = if dx < 0 { -width - 6 } else { dx };
        (dx, dy, (at.0 + dx, at.1 + dy, width, LABEL_HEIGHT))
    };
    places
        .iter()
        .map(boxed)
        .find(|(_, _, b)| placed.iter().all(|q| !overlaps(b, q)))
        .or_else(|| end.then(|| boxed(&places[0])))
}

/// Whether two boxes `(x, y, width, height)` overlap.
fn overlaps(a: &LabelBox, b: &LabelBox) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

/// One line of a [`Panel`].
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend text; lines of several panels with the same label get one
    /// legend entry.
    pub label: String,
    /// Points `(x, y)` in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Palette index: a measured curve and the model drawn for it share a
    /// colour, so a reader pairs them without a second legend.
    pub color: usize,
    /// Dashed and without markers, for a model rather than a measurement.
    pub dashed: bool,
}

/// One chart of a figure of [`draw_panels`].
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Title above the chart: what its y axis measures.
    pub title: String,
    /// Its lines.
    pub lines: Vec<Line>,
}

/// Legend entries per row under the panels of [`draw_panels`].
const LEGEND_COLUMNS: usize = 3;

/// Draw `panels` side by side into an SVG file at `path`: one x axis
/// (`x_label`, from 0 to the largest x), y from 0 to 1 (shares of
/// lookups), and a single legend under them, so that criteria measured on
/// the same runs can be compared at a glance.
pub fn draw_panels(title: &str, x_label: &str, panels: &[Panel]) -> Result<Plot, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw the plot {title:?}: {e}");
    let lines = || panels.iter().flat_map(|p| &p.lines);
    let x_max = lines()
        .flat_map(|l| l.points.iter().map(|(x, _)| *x))
        .fold(0.0f64, f64::max)
        .max(f64::EPSILON);
    let pad = x_max * 0.03;
    let mut legend: Vec<&Line> = Vec::new();
    for line in lines() {
        if !legend.iter().any(|l| l.label == line.label) {
            legend.push(line);
        }
    }
    let legend_rows = legend.len().div_ceil(LEGEND_COLUMNS);
    let width = 460 * panels.len().max(1) as u32;
    let notes: Vec<String> = panels
        .iter()
        .filter_map(|panel| {
            let measured: Vec<(&str, &[(f64, f64)])> = panel
                .lines
                .iter()
                .filter(|l| !l.dashed)
                .map(|l| (l.label.as_str(), l.points.as_slice()))
                .collect();
            let note = overlap_note(&coinciding(&measured, x_max, 1.0))?;
            Some(format!("{}: {note}", panel.title))
        })
        .collect();
    let lines = note_lines(&notes, width);
    let legend_height = 20 + 22 * legend_rows as u32 + NOTE_LINE * lines.len() as u32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width, 520 + legend_height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root
            .titled(title, ("sans-serif", 22))
            .map_err(|e| err(&e))?;
        let (charts, key) = root.split_vertically(root.dim_in_pixel().1 - legend_height);
        for (panel, area) in panels
            .iter()
            .zip(charts.split_evenly((1, panels.len().max(1))))
        {
            let mut chart = ChartBuilder::on(&area)
                .caption(panel.title.as_str(), ("sans-serif", 17))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(45)
                .build_cartesian_2d(-pad..x_max + pad, -0.02..1.02)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_labels(6)
                .draw()
                .map_err(|e| err(&e))?;
            for line in &panel.lines {
                let color = PALETTE[line.color % PALETTE.len()];
                let points = line.points.iter().copied();
                if line.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(points, 6, 5, color.stroke_width(2)))
                        .map_err(|e| err(&e))?;
                } else {
                    chart
                        .draw_series(LineSeries::new(points, color.stroke_width(2)))
                        .map_err(|e| err(&e))?;
                    draw_markers(&mut chart, &line.points, line.color).map_err(|e| err(&e))?;
                }
            }
        }
        let column = (width as i32 - 40) / LEGEND_COLUMNS as i32;
        for (i, line) in legend.iter().enumerate() {
            let color = PALETTE[line.color % PALETTE.len()];
            let x = 20 + column * (i % LEGEND_COLUMNS) as i32;
            let y = 12 + 22 * (i / LEGEND_COLUMNS) as i32;
            let style = color.stroke_width(2);
            if line.dashed {
                for dash in 0..3 {
                    let from = x + dash * 10;
                    key.draw(&PathElement::new(vec![(from, y), (from + 6, y)], style))
                        .map_err(|e| err(&e))?;
                }
            } else {
                key.draw(&PathElement::new(vec![(x, y), (x + 26, y)], style))
                    .map_err(|e| err(&e))?;
                draw_marker(&key, (x + 13, y), line.color).map_err(|e| err(&e))?;
            }
            key.draw(&Text::new(
                line.label.as_str(),
                (x + 34, y - 7),
                ("sans-serif", 14),
            ))
            .map_err(|e| err(&e))?;
        }
        let (_, under_legend) = key.split_vertically(20 + 22 * legend_rows as u32);
        draw_notes(&under_legend, &lines).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(Plot { svg, notes })
}

/// A plot as SVG text, and the notes drawn under it (also for pages that
/// show the plot, to repeat in words).
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// The whole `<svg>` element.
    pub svg: String,
    /// One sentence per group of curves drawn on top of each other.
    pub notes: Vec<String>,
}

impl Plot {
    /// Write the SVG to `path`.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::cli::output::write_file(path, &self.svg)
    }
}

/// Height in pixels of one line of notes under a plot.
const NOTE_LINE: u32 = 22;

/// Width in pixels of an average character of the notes' 14 px font, to
/// wrap them before they run off the picture.
const NOTE_CHAR: u32 = 7;

/// `notes` broken at spaces into lines that fit a picture `width` pixels
/// wide (20 px of margin each side); a word longer than a line keeps a
/// line of its own.
fn note_lines(notes: &[String], width: u32) -> Vec<String> {
    let fits = (width.saturating_sub(40) / NOTE_CHAR).max(1) as usize;
    let mut lines = Vec::new();
    for note in notes {
        let mut line = String::new();
        for word in note.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > fits {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// Draw `lines` of notes one under another into `area`, from its top left.
fn draw_notes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[String],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (i, note) in lines.iter().enumerate() {
        area.draw(&Text::new(
            note.as_str(),
            (20, 4 + NOTE_LINE as i32 * i as i32),
            ("sans-serif", 14).into_font().color(&RGBColor(90, 90, 90)),
        ))?;
    }
    Ok(())
}

/// Share of an axis's span within which two points count as the same
/// place: closer than this, one curve's line hides the other's.
const COINCIDE: f64 = 0.01;

/// Groups of two or more curves (`(label, points)`) that lie on top of
/// each other: the same number of points, each within 1 % of the
/// axis spans `x_span` and `y_span` of its fellow's. A reader is told, so
/// that a hidden curve is not taken for a missing one.
pub fn coinciding<'a>(
    curves: &[(&'a str, &[(f64, f64)])],
    x_span: f64,
    y_span: f64,
) -> Vec<Vec<&'a str>> {
    let same = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(p, q)| {
                (p.0 - q.0).abs() <= COINCIDE * x_span && (p.1 - q.1).abs() <= COINCIDE * y_span
            })
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, (_, points)) in curves.iter().enumerate() {
        match groups.iter_mut().find(|g| same(curves[g[0]].1, points)) {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|g| g.into_iter().map(|i| curves[i].0).collect())
        .collect()
}

/// One sentence naming each group of [`coinciding`] curves, or `None`.
pub fn overlap_note(groups: &[Vec<&str>]) -> Option<String> {
    if groups.is_empty() {
        return None;
    }
    let named: Vec<String> = groups
        .iter()
        .map(|g| match g.split_last() {
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        })
        .collect();
    Some(format!(
        "on top of each other (each curve's markers differ): {}",
        named.join("; ")
    ))
}

/// The marker of palette index `color` at pixel `at` of `area`: the
/// shapes of [`Marker`], taken in turn, so that lines that coincide (the
/// single-path strategies judged on the same greedy route) still show each
/// other's markers around their own.
fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    color: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let c = PALETTE[color % PALETTE.len()];
    area.draw(&marker_at(at, MARKERS[color % MARKERS.len()], c, 0))
}

/// The markers of a line of palette index `color` at `points` of `chart`
/// (the shapes of [`draw_marker`], placed in chart coordinates).
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[(f64, f64)],
    color: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let c = PALETTE[color % PALETTE.len()];
    let marker = MARKERS[color % MARKERS.len()];
    chart
        .draw_series(points.iter().map(|&p| marker_at(p, marker, c, 0)))
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_keeps_off_markers_and_labels_and_only_an_end_is_forced() {
        let at = (100, 100);
        let width = 42;
        // Nothing in the way: above right.
        assert_eq!(
            label_place(at, width, false, &[]),
            Some((6, -16, (106, 84, 42, LABEL_HEIGHT)))
        );
        // Another curve's marker above right: below right.
        let marker = (104, 86, 2 * MARKER_REACH, 2 * MARKER_REACH);
        assert_eq!(
            label_place(at, width, false, &[marker]).map(|(dx, dy, _)| (dx, dy)),
            Some((6, 4))
        );
        // All four near places taken: a point between the ends goes
        // unlabelled, an end goes one line farther up.
        let near: Vec<LabelBox> = vec![(40, 84, 130, 34)];
        assert_eq!(label_place(at, width, false, &near), None);
        assert_eq!(
            label_place(at, width, true, &near).map(|(dx, dy, _)| (dx, dy)),
            Some((6, -30))
        );
        // Nowhere free: an end still takes its first place.
        let everywhere: Vec<LabelBox> = vec![(0, 0, 300, 300)];
        assert_eq!(
            label_place(at, width, true, &everywhere).map(|(dx, dy, _)| (dx, dy)),
            Some((6, -16))
        );
    }

    #[test]
    fn notes_wrap_at_spaces_to_the_width_and_lose_no_word() {
        let long = "on top of each other (each curve's markers differ): ".repeat(6);
        let notes = vec![long.trim_end().to_string(), "short".to_string()];
        let lines = note_lines(&notes, 460);
        let fits = (460 - 40) / NOTE_CHAR as usize;
        assert!(lines.len() > 2, "the long note was not wrapped: {lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= fits), "{lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("short"));
        let rejoined = lines[..lines.len() - 1].join(" ");
        assert_eq!(rejoined, notes[0]);
    }
}
