//! SVG charts of accuracy against cost, and of success against the
//! fraction of adversaries.
//!
//! plotters' SVG backend writes `<text>` elements and needs no system fonts,
//! so charts render the same on any machine.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One named curve: points `(x, y)` in drawing order.
pub type Series = (String, Vec<(f64, f64)>);

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Draw `series` as lines with points (a single point per series is drawn
/// as a labelled dot) into an SVG file at `path`.
pub fn draw_curves(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let x_max = xs.fold(1.0f64, f64::max) * 1.1;
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
    let (y_min, y_max) = ys.fold((1.0f64, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let y_min = (y_min - 0.05).clamp(0.0, 1.0).min(y_max - 0.05).max(0.0);
    let y_max = 1.02f64.max(y_max);

    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
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
    for (i, (name, points)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
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
    Ok(())
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
pub fn draw_panels(
    path: &Path,
    title: &str,
    x_label: &str,
    panels: &[Panel],
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
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
    let legend_height = 20 + 22 * legend_rows as u32;
    let root = SVGBackend::new(path, (width, 520 + legend_height)).into_drawing_area();
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
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Marker shapes, taken in turn by palette index: lines that coincide
/// (single-path strategies judged on the same greedy route) still show
/// each other's markers around their own.
const MARKERS: usize = 4;

/// The marker of palette index `color` at pixel `at` of `area`.
fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    color: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let c = PALETTE[color % PALETTE.len()];
    match color % MARKERS {
        0 => area.draw(&Circle::new(at, 3, c.filled())),
        1 => area.draw(&Circle::new(at, 6, c.stroke_width(2))),
        2 => area.draw(&TriangleMarker::new(at, 6, c.filled())),
        _ => area.draw(&Cross::new(at, 5, c.stroke_width(2))),
    }
}

/// The markers of a line of palette index `color` at `points` of `chart`
/// (the shapes of [`draw_marker`], placed in chart coordinates).
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[(f64, f64)],
    color: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let c = PALETTE[color % PALETTE.len()];
    let at = |p: &(f64, f64)| EmptyElement::at(*p);
    let points = points.iter();
    match color % MARKERS {
        0 => chart.draw_series(points.map(|p| at(p) + Circle::new((0, 0), 3, c.filled()))),
        1 => chart.draw_series(points.map(|p| at(p) + Circle::new((0, 0), 6, c.stroke_width(2)))),
        2 => chart.draw_series(points.map(|p| at(p) + TriangleMarker::new((0, 0), 6, c.filled()))),
        _ => chart.draw_series(points.map(|p| at(p) + Cross::new((0, 0), 5, c.stroke_width(2)))),
    }
    .map(|_| ())
}
