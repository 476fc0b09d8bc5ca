//! Figures as SVG strings (plotters' SVG backend: text stays text, the report embeds them).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A metric's unit and the palette its maps use, both from what the metric declares
/// (`Metric::unit`, `Metric::kind`): differences, correlations and balances diverge around
/// zero (their sign is the finding); shares and levels are sequential.
pub fn metric_scale<M: medisim_core::Metric>(m: M) -> (&'static str, Palette) {
    let palette = if m.kind().diverging() {
        Palette::Diverging
    } else {
        Palette::Sequential
    };
    (m.unit(), palette)
}

/// How a heatmap's values map to colour, by the kind of quantity it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    /// Rates, levels, counts: light to dark blue from the smallest to the largest value.
    Sequential,
    /// Gaps, correlations, funds: blue below zero, white at zero, red above, symmetric, so
    /// the sign reads at a glance even when every value has the same sign.
    Diverging,
    /// Codes (a strategy's number): one colour per whole number, no extremes marked.
    Categorical,
}

/// What one heatmap shows.
pub struct Heatmap<'a> {
    pub title: &'a str,
    /// x and y axis names, with units.
    pub axes: (&'a str, &'a str),
    pub xs: &'a [f64],
    pub ys: &'a [f64],
    /// `values[i][j]` at x = `xs[i]`, y = `ys[j]`.
    pub values: &'a [Vec<f64>],
    pub decimals: usize,
    /// A cell marked ×.
    pub cross: Option<(f64, f64)>,
    pub palette: Palette,
    /// The values' unit, printed over the colour bar.
    pub unit: &'a str,
    /// Each cell's 95% interval, shown on hover.
    pub intervals: Option<&'a [Vec<[f64; 2]>]>,
}

/// An annotated heatmap: every cell's value printed (the argmax marked ▲, the argmin ▼, the
/// cross ×, except on categorical maps), a colour bar with the unit, and each cell's value and
/// interval as a hover title.
pub fn heatmap(m: &Heatmap) -> String {
    let (xs, ys, values, decimals) = (m.xs, m.ys, m.values, m.decimals);
    let (nx, ny) = (xs.len(), ys.len());
    // Extremes mean nothing on codes, nor on counts with many ties (whole numbers at 0
    // decimals); funds shown at 0 decimals are not whole numbers and keep them.
    let categorical = m.palette == Palette::Categorical
        || (decimals == 0
            && values
                .iter()
                .flatten()
                .all(|v| !v.is_finite() || v.fract() == 0.0));
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (mut amax, mut amin) = ((0, 0), (0, 0));
    for i in 0..nx {
        for j in 0..ny {
            if values[i][j] > values[amax.0][amax.1] {
                amax = (i, j);
            }
            if values[i][j] < values[amin.0][amin.1] {
                amin = (i, j);
            }
        }
    }
    // Sized so that every text is at least 9 px as rendered (plotters draws a font of size n
    // at about 0.8 n px) and a cell holds its value.
    let cell_px = if nx > 8 { 46 } else { 60 };
    // Room for the unit's name beside the colour bar (`health per price unit`).
    let bar_w = 140;
    let (plot_w, h) = ((nx * cell_px + 90) as u32, (ny * cell_px + 80) as u32);
    let w = plot_w + bar_w;
    let colour_of = |v: f64| colour(v, lo, hi, m.palette);
    let mut hover = Vec::new();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (area, bar) = root.split_horizontally(plot_w);
        let (nxi, nyi) = (nx as i32, ny as i32);
        let mut chart = match ChartBuilder::on(&area)
            .caption(m.title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(40)
            .build_cartesian_2d((0..nxi - 1).into_segmented(), (0..nyi - 1).into_segmented())
        {
            Ok(c) => c,
            Err(_) => return s_empty(m.title),
        };
        // Tick labels at cell centres: the grid values themselves.
        let fx = |v: &SegmentValue<i32>| centre_label(v, xs);
        let fy = |v: &SegmentValue<i32>| centre_label(v, ys);
        let _ = chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_desc(m.axes.0)
            .y_desc(m.axes.1)
            .label_style(("sans-serif", 13))
            .draw();
        for i in 0..nx {
            for j in 0..ny {
                let v = values[i][j];
                let color = colour_of(v);
                let (ii, jj) = (i as i32, j as i32);
                let corners = [
                    (SegmentValue::Exact(ii), SegmentValue::Exact(jj)),
                    (SegmentValue::Exact(ii + 1), SegmentValue::Exact(jj + 1)),
                ];
                let (p0, p1) = (
                    chart.backend_coord(&corners[0]),
                    chart.backend_coord(&corners[1]),
                );
                let interval = m
                    .intervals
                    .and_then(|iv| iv.get(i)?.get(j))
                    .filter(|iv| iv[0].is_finite() && iv[1].is_finite() && iv[0] < iv[1])
                    .map_or(String::new(), |iv| {
                        format!(
                            ", 95% interval [{:.p$}, {:.p$}]",
                            iv[0],
                            iv[1],
                            p = decimals + 1
                        )
                    });
                hover.push((
                    p0.0.min(p1.0),
                    p0.1.min(p1.1),
                    (p1.0 - p0.0).abs(),
                    (p1.1 - p0.1).abs(),
                    (tick(xs[i]), tick(ys[j])),
                    format!(
                        "{} = {}, {} = {}: {v:.p$}{interval}",
                        m.axes.0,
                        tick(xs[i]),
                        m.axes.1,
                        tick(ys[j]),
                        p = decimals + 1
                    ),
                ));
                let _ = chart.draw_series(std::iter::once(Rectangle::new(corners, color.filled())));
                let mark = if categorical {
                    ""
                } else if (i, j) == amax {
                    "▲"
                } else if (i, j) == amin {
                    "▼"
                } else if m
                    .cross
                    .is_some_and(|(cx, cy)| (xs[i] - cx).abs() < 1e-9 && (ys[j] - cy).abs() < 1e-9)
                {
                    "×"
                } else {
                    ""
                };
                let text = format!("{mark}{v:.decimals$}");
                let ink = if luminance(&color) < 0.45 {
                    WHITE
                } else {
                    BLACK
                };
                let style = ("sans-serif", if nx > 8 { 11 } else { 13 })
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let _ = chart.draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(ii), SegmentValue::CenterOf(jj)),
                    style,
                )));
            }
        }
        colour_bar(&bar, lo, hi, m, h as i32);
        let _ = root.present();
    }
    // Hover titles: transparent rectangles over the cells (plotters draws no <title>).
    let titles: String = hover
        .iter()
        .map(|(x, y, w, h, (at_x, at_y), t)| {
            // The cell's coordinates, so a page can open the cell a click lands on.
            format!(
                "<rect class=\"cell\" data-x=\"{at_x}\" data-y=\"{at_y}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"transparent\"><title>{}</title></rect>",
                t.replace('&', "&amp;").replace('<', "&lt;")
            )
        })
        .collect();
    match s.rfind("</svg>") {
        Some(end) => s.insert_str(end, &format!("<g class=\"hover\">{titles}</g>")),
        None => s.push_str(&titles),
    }
    s
}

/// The colour bar right of a heatmap: the palette from the smallest to the largest value (the
/// symmetric range for a diverging map), the ends labelled, the unit above.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    lo: f64,
    hi: f64,
    m: &Heatmap,
    h: i32,
) {
    if !lo.is_finite() || !hi.is_finite() {
        return;
    }
    let (lo, hi) = match m.palette {
        Palette::Diverging => {
            let r = lo.abs().max(hi.abs()).max(1e-12);
            (-r, r)
        }
        _ => (lo, hi),
    };
    let (top, bottom, x0, x1) = (36, h - 44, 6, 20);
    let steps = 48;
    for k in 0..steps {
        let t = 1.0 - (f64::from(k) + 0.5) / f64::from(steps);
        let v = lo + (hi - lo) * t;
        let y0 = top + (bottom - top) * k / steps;
        let y1 = top + (bottom - top) * (k + 1) / steps;
        let _ = area.draw(&Rectangle::new(
            [(x0, y0), (x1, y1)],
            colour(v, lo, hi, m.palette).filled(),
        ));
    }
    let _ = area.draw(&Rectangle::new([(x0, top), (x1, bottom)], BLACK.mix(0.4)));
    let font = ("sans-serif", 12).into_font();
    let p = m.decimals.min(3);
    let label = |v: f64, y: i32| {
        let _ = area.draw(&Text::new(
            format!("{v:.p$}"),
            (x1 + 3, y - 4),
            font.clone(),
        ));
    };
    label(hi, top);
    label(lo, bottom);
    if m.palette == Palette::Diverging {
        label(0.0, (top + bottom) / 2);
    }
    let _ = area.draw(&Text::new(m.unit.to_string(), (2, top - 14), font.clone()));
}

fn s_empty(title: &str) -> String {
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"40\"><text x=\"4\" y=\"20\">{title}: no data</text></svg>")
}

/// Tick label at a cell centre: the grid value of that cell.
/// A grid value as a tick reads it: at most nine decimals, trailing zeros dropped, so a grid
/// step's rounding (0.30000000000000004) prints as the value meant (0.3).
fn tick(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn centre_label(v: &SegmentValue<i32>, values: &[f64]) -> String {
    match v {
        SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize) < values.len() => {
            tick(values[*i as usize])
        }
        _ => String::new(),
    }
}

/// The colour of `v` on a map whose values run from `lo` to `hi`.
fn colour(v: f64, lo: f64, hi: f64, palette: Palette) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(200, 200, 200);
    }
    let lerp = |a: (u8, u8, u8), b: (u8, u8, u8), t: f64| {
        let t = t.clamp(0.0, 1.0);
        let m = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
        RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
    };
    let white = (247, 247, 247);
    match palette {
        Palette::Diverging => {
            let m = lo.abs().max(hi.abs()).max(1e-12);
            if v >= 0.0 {
                lerp(white, (178, 24, 43), v / m)
            } else {
                lerp(white, (33, 102, 172), -v / m)
            }
        }
        Palette::Sequential => {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            lerp((255, 247, 236), (8, 64, 129), t)
        }
        Palette::Categorical => {
            // Tableau-like, distinct and readable under black text.
            const CODES: [(u8, u8, u8); 6] = [
                (141, 211, 199),
                (255, 255, 179),
                (190, 186, 218),
                (251, 128, 114),
                (128, 177, 211),
                (253, 180, 98),
            ];
            let c = CODES[(v.round().rem_euclid(CODES.len() as f64)) as usize];
            RGBColor(c.0, c.1, c.2)
        }
    }
}

fn luminance(c: &RGBColor) -> f64 {
    (0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2)) / 255.0
}

/// A point of a line plot: (x, mean, 95% low, 95% high).
pub type BandPoint = (f64, f64, f64, f64);
/// A named series of points.
pub type Series = (String, Vec<BandPoint>);

/// An axis label short enough not to collide with its neighbours: 20000 → "20k", 1.5e6 →
/// "1.5M", small values with at most four decimals and no trailing zeros.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    format!("{s}{unit}")
}

/// Okabe and Ito's eight colours, distinguishable under the common colour-vision deficiencies
/// (Okabe and Ito 2008, "Color Universal Design"), black last.
const LINE_COLOURS: [RGBColor; 8] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// How one series is drawn: its colour (an index into eight) and whether its line is dashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineStyle {
    pub colour: usize,
    pub dashed: bool,
}

/// One line per series with a shaded 95% band, each series its own colour.
pub fn lines_with_bands(
    title: &str,
    x_desc: &str,
    series: &[Series],
    baseline_x: Option<f64>,
) -> String {
    let styles: Vec<LineStyle> = (0..series.len())
        .map(|k| LineStyle {
            colour: k % LINE_COLOURS.len(),
            dashed: k >= LINE_COLOURS.len(),
        })
        .collect();
    lines_with_bands_styled(title, x_desc, series, &styles, baseline_x)
}

/// The legend's entries laid out in rows under a plot `width` wide: each entry's (x, row).
fn legend_layout(names: &[&str], width: i32) -> Vec<(i32, i32)> {
    let (mut x, mut row) = (8, 0);
    names
        .iter()
        .map(|name| {
            // About 7 px a character at 12 px, after a 26 px swatch.
            let w = 26 + 7 * name.chars().count() as i32 + 12;
            if x + w > width && x > 8 {
                (x, row) = (8, row + 1);
            }
            let at = (x, row);
            x += w;
            at
        })
        .collect()
}

/// [`lines_with_bands`] with each series' colour and dash given: series that share a colour
/// and differ in dash are one quantity under two settings (two providers, say).
pub fn lines_with_bands_styled(
    title: &str,
    x_desc: &str,
    series: &[Series],
    styles: &[LineStyle],
    baseline_x: Option<f64>,
) -> String {
    let pts = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, _, lo, hi) in pts {
        if lo.is_finite() && hi.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(lo);
            y1 = y1.max(hi);
        }
    }
    if !x0.is_finite() || !y0.is_finite() {
        return s_empty(title);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-6);
    let width = 360;
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    let places = legend_layout(&names, width);
    let mut s = String::new();
    {
        // The legend goes in a strip under the plot, where it cannot cover a line or a band.
        let rows = places.last().map_or(0, |p| p.1 + 1);
        let legend_h = if series.len() > 1 { 18 * rows + 6 } else { 0 };
        let root = SVGBackend::with_string(&mut s, (width as u32, 240 + legend_h as u32))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, legend) = root.split_vertically(240);
        let Ok(mut chart) = ChartBuilder::on(&plot)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-9), (y0 - pad)..(y1 + pad))
        else {
            return s_empty(title);
        };
        let _ = chart
            .configure_mesh()
            .x_desc(x_desc)
            .x_labels(6)
            .x_label_formatter(&|x| compact(*x))
            .y_label_formatter(&|y| compact(*y))
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw();
        for (k, (name, p)) in series.iter().enumerate() {
            let style = styles.get(k).copied().unwrap_or(LineStyle {
                colour: k,
                dashed: false,
            });
            let c = LINE_COLOURS[style.colour % LINE_COLOURS.len()];
            let mut band: Vec<(f64, f64)> = p.iter().map(|q| (q.0, q.3)).collect();
            band.extend(p.iter().rev().map(|q| (q.0, q.2)));
            let _ = chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())));
            let line = p.iter().map(|q| (q.0, q.1));
            if style.dashed {
                let _ = chart.draw_series(DashedLineSeries::new(line, 6, 4, c.stroke_width(2)));
            } else {
                let _ = chart.draw_series(LineSeries::new(line, c.stroke_width(2)));
            }
            if legend_h > 0 {
                let (x, row) = places[k];
                let y = 10 + 18 * row;
                let swatch = vec![(x, y), (x + 22, y)];
                if style.dashed {
                    let _ = legend.draw(&PathElement::new(
                        vec![(x, y), (x + 8, y)],
                        c.stroke_width(2),
                    ));
                    let _ = legend.draw(&PathElement::new(
                        vec![(x + 14, y), (x + 22, y)],
                        c.stroke_width(2),
                    ));
                } else {
                    let _ = legend.draw(&PathElement::new(swatch, c.stroke_width(2)));
                }
                let _ = legend.draw(&Text::new(
                    name.clone(),
                    (x + 26, y - 6),
                    ("sans-serif", 12).into_font(),
                ));
            }
            let _ = chart.draw_series(p.iter().map(|q| Circle::new((q.0, q.1), 2, c.filled())));
        }
        if let Some(bx) = baseline_x {
            let style = ShapeStyle {
                color: BLACK.mix(0.5),
                filled: false,
                stroke_width: 1,
            };
            let _ = chart.draw_series(DashedLineSeries::new(
                vec![(bx, y0 - pad), (bx, y1 + pad)],
                4,
                3,
                style,
            ));
        }
        let _ = root.present();
    }
    s
}

/// A scatter of point clouds, one colour each, with a legend under the plot and the axes'
/// zero lines (the cost-effectiveness plane's quadrants).
pub fn scatter(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    clouds: &[(String, Vec<(f64, f64)>)],
) -> String {
    let all = || {
        clouds
            .iter()
            .flat_map(|(_, p)| p.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    let (mut x0, mut x1, mut y0, mut y1) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for &(x, y) in all() {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if all().next().is_none() {
        return s_empty(title);
    }
    let (px, py) = (((x1 - x0) * 0.06).max(1e-9), ((y1 - y0) * 0.06).max(1e-9));
    let width = 360;
    let names: Vec<&str> = clouds.iter().map(|(n, _)| n.as_str()).collect();
    let places = legend_layout(&names, width);
    let rows = places.last().map_or(0, |p| p.1 + 1);
    let legend_h = 18 * rows + 6;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (width as u32, 260 + legend_h as u32))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, legend) = root.split_vertically(260);
        let Ok(mut chart) = ChartBuilder::on(&plot)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
        else {
            return s_empty(title);
        };
        let _ = chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(6)
            .x_label_formatter(&|x| compact(*x))
            .y_label_formatter(&|y| compact(*y))
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw();
        let axis = BLACK.mix(0.4).stroke_width(1);
        let _ = chart.draw_series(LineSeries::new([(x0 - px, 0.0), (x1 + px, 0.0)], axis));
        let _ = chart.draw_series(LineSeries::new([(0.0, y0 - py), (0.0, y1 + py)], axis));
        for (k, (name, points)) in clouds.iter().enumerate() {
            let c = LINE_COLOURS[k % LINE_COLOURS.len()];
            let _ = chart.draw_series(
                points
                    .iter()
                    .map(|p| Circle::new(*p, 2, c.mix(0.6).filled())),
            );
            let (x, row) = places[k];
            let y = 10 + 18 * row;
            let _ = legend.draw(&Circle::new((x + 10, y), 4, c.filled()));
            let _ = legend.draw(&Text::new(
                name.clone(),
                (x + 26, y - 6),
                ("sans-serif", 12).into_font(),
            ));
        }
        let _ = root.present();
    }
    s
}

/// The running-best trace of a search (paper Figures 11 and 18): each evaluated child's fitness
/// as a grey dot, the running-best validation fitness as a step line, and a dashed mark at each
/// update. `points` are (iteration, child fitness if evaluated, running best). Children far
/// below the running best would flatten the steps, so the y-range follows the running best and
/// lower children are drawn on the bottom edge.
pub fn running_best(title: &str, points: &[(f64, Option<f64>, f64)]) -> String {
    let best = points.iter().map(|p| p.2).filter(|v| v.is_finite());
    let (mut y0, mut y1) = best.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    for v in points.iter().filter_map(|p| p.1).filter(|v| v.is_finite()) {
        y1 = y1.max(v);
    }
    if !y0.is_finite() || points.is_empty() {
        return s_empty(title);
    }
    let pad = ((y1 - y0) * 0.25).max(0.05);
    (y0, y1) = (y0 - pad, y1 + pad * 0.4);
    let x1 = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (640, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x1, y0..y1)
        else {
            return s_empty(title);
        };
        let _ = chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("fitness (Eq. 8)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw();
        let grey = RGBColor(150, 150, 150);
        if let Ok(a) = chart.draw_series(points.iter().filter_map(|p| {
            let v = p.1.filter(|v| v.is_finite())?;
            Some(Circle::new((p.0, v.max(y0)), 2, grey.mix(0.6).filled()))
        })) {
            a.label("child (evolution seeds)")
                .legend(move |(x, y)| Circle::new((x + 7, y), 3, grey.filled()));
        }
        let red = RGBColor(178, 24, 43);
        let mut steps = Vec::with_capacity(2 * points.len());
        for (k, p) in points.iter().enumerate() {
            if k > 0 {
                steps.push((p.0, points[k - 1].2));
            }
            steps.push((p.0, p.2));
        }
        let updates: Vec<f64> = points
            .windows(2)
            .filter(|w| w[1].2 > w[0].2)
            .map(|w| w[1].0)
            .collect();
        for x in updates {
            let style = ShapeStyle {
                color: red.mix(0.35),
                filled: false,
                stroke_width: 1,
            };
            let _ = chart.draw_series(DashedLineSeries::new(vec![(x, y0), (x, y1)], 3, 3, style));
        }
        if let Ok(a) = chart.draw_series(LineSeries::new(steps, red.stroke_width(2))) {
            a.label("running best (validation seeds)")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], red.stroke_width(2))
                });
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw();
        let _ = root.present();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_are_compact() {
        assert_eq!(compact(20000.0), "20k");
        assert_eq!(compact(1.5e6), "1.5M");
        assert_eq!(compact(0.30000000000000004), "0.3");
        assert_eq!(compact(-0.0), "0");
        assert_eq!(compact(8000.0), "8000");
    }

    #[test]
    fn units_and_palettes_come_from_what_each_metric_declares() {
        use medisim_sim::Metric;
        // The names that fooled the old substring guess: `bonus` and `cost` inside them.
        assert_eq!(
            metric_scale(Metric::CorrBonusHealth),
            ("correlation", Palette::Diverging)
        );
        assert_eq!(
            metric_scale(Metric::HealthPerCost),
            ("health per price unit", Palette::Sequential)
        );
        assert_eq!(metric_scale(Metric::DeferralGap).1, Palette::Diverging);
        for m in <Metric as medisim_core::Metric>::ALL {
            assert!(!metric_scale(*m).0.is_empty(), "{m:?} declares no unit");
        }
    }

    fn map<'a>(
        values: &'a [Vec<f64>],
        palette: Palette,
        iv: Option<&'a [Vec<[f64; 2]>]>,
    ) -> Heatmap<'a> {
        Heatmap {
            title: "t",
            axes: ("α", "β"),
            xs: &[0.0, 1.0],
            ys: &[0.0, 1.0],
            values,
            decimals: 0,
            cross: None,
            palette,
            unit: "price units",
            intervals: iv,
        }
    }

    /// Categorical maps mark no extremes; others keep ▲ and ▼; every map has a colour bar
    /// with its unit, and each cell its value (and interval) on hover.
    #[test]
    fn maps_carry_extremes_a_colour_bar_and_hover_intervals() {
        let counts = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        assert!(!heatmap(&map(&counts, Palette::Categorical, None)).contains('▲'));
        assert!(!heatmap(&map(&counts, Palette::Sequential, None)).contains('▲'));
        let funds = vec![vec![10.4, -2.2], vec![3.7, 400.1]];
        let iv = vec![
            vec![[9.0, 11.0], [-3.0, -1.0]],
            vec![[3.0, 4.0], [390.0, 410.0]],
        ];
        let svg = heatmap(&map(&funds, Palette::Diverging, Some(&iv)));
        assert!(svg.contains('▲') && svg.contains('▼'));
        assert!(svg.contains("price units"), "the unit over the colour bar");
        assert!(
            svg.contains("\n-400\n") && svg.contains("\n400\n"),
            "symmetric ends: {svg}"
        );
        assert_eq!(svg.matches("<rect class=\"cell\"").count(), 4);
        assert!(
            svg.contains("<title>α = 1, β = 1: 400.1, 95% interval [390.0, 410.0]</title>"),
            "{svg}"
        );
        // Diverging: white at zero; sequential: the smallest value lightest.
        assert_eq!(
            colour(0.0, -1.0, 1.0, Palette::Diverging),
            RGBColor(247, 247, 247)
        );
        let light = luminance(&colour(0.0, 0.0, 1.0, Palette::Sequential));
        assert!(light > luminance(&colour(1.0, 0.0, 1.0, Palette::Sequential)));
    }

    #[test]
    fn the_running_best_trace_draws_every_evaluated_child_and_its_legend() {
        assert!(running_best("t", &[]).contains("no data"));
        let points = [
            (0.0, Some(10.0), 10.0),
            (1.0, None, 10.0),
            (2.0, Some(11.0), 10.5),
            (3.0, Some(-50.0), 10.5),
        ];
        let svg = running_best("trace of t", &points);
        assert!(svg.contains("trace of t") && svg.contains("running best (validation seeds)"));
        // Three evaluated children plus the legend's marker; the skipped iteration draws none.
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
    }
}

/// One bar of a tornado: a key (with its range) and the metric's lowest and highest value as
/// the key moves.
#[derive(Clone, Debug)]
pub struct TornadoBar {
    pub label: String,
    pub low: f64,
    pub high: f64,
}

/// A tornado diagram: one horizontal bar per key from the metric's lowest to its highest value,
/// in the order given (widest first), a line at the base value; a bar that is not a number is
/// left empty.
pub fn tornado(title: &str, base: f64, bars: &[TornadoBar]) -> String {
    let finite = bars
        .iter()
        .flat_map(|b| [b.low, b.high])
        .chain([base])
        .filter(|v| v.is_finite());
    let (x0, x1) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !x0.is_finite() || bars.is_empty() {
        return s_empty(title);
    }
    let pad = ((x1 - x0) * 0.08).max(x0.abs().max(1.0) * 1e-6);
    let (x0, x1) = (x0 - pad, x1 + pad);
    let n = bars.len();
    let h = 90 + 28 * n as u32;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (720, h)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(260)
            .build_cartesian_2d(x0..x1, -0.5..(n as f64 - 0.5))
        else {
            return s_empty(title);
        };
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                let k = y.round();
                let i = n as f64 - 1.0 - k;
                if (y - k).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| {
                if x1 - x0 >= 100.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.3}")
                }
            })
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw();
        let blue = RGBColor(33, 102, 172);
        for (i, b) in bars.iter().enumerate() {
            let y = n as f64 - 1.0 - i as f64;
            if b.low.is_finite() && b.high.is_finite() {
                let _ = chart.draw_series(std::iter::once(Rectangle::new(
                    [(b.low, y - 0.32), (b.high, y + 0.32)],
                    blue.mix(0.8).filled(),
                )));
            }
        }
        let _ = chart.draw_series(std::iter::once(PathElement::new(
            vec![(base, -0.5), (base, n as f64 - 0.5)],
            BLACK.stroke_width(1),
        )));
        let _ = root.present();
    }
    s
}
