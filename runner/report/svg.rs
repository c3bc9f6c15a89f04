//! Inline SVG charts: no script, no external resource, sized by viewBox.
//!
//! Every chart takes its colours from one [`Palette`] (a fixed colour per
//! language, the same in every chart of the page) and its axis from
//! [`Axis`] (round ticks in one unit chosen by magnitude, every label at
//! most six characters).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::export::Unit;
use crate::stats::dataset::Observation;
use crate::stats::km::{KaplanMeier, Time};
use crate::stats::Cell;

use super::esc;

/// Colour-blind safe (Okabe–Ito). Go and Rust have their own; any other
/// language takes the next free one in name order.
const FIXED: [(&str, &str); 2] = [("go", "#0072b2"), ("rust", "#d55e00")];
const OTHERS: [&str; 5] = ["#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];

/// One colour per language for the whole page.
#[derive(Debug, Clone)]
pub struct Palette(BTreeMap<String, &'static str>);

impl Palette {
    pub fn new<'a>(languages: impl IntoIterator<Item = &'a str>) -> Palette {
        let mut map: BTreeMap<String, &'static str> = BTreeMap::new();
        let mut rest: Vec<&str> = Vec::new();
        for l in languages {
            match FIXED.iter().find(|(name, _)| *name == l) {
                Some((_, c)) => {
                    map.insert(l.to_string(), c);
                }
                None => rest.push(l),
            }
        }
        rest.sort_unstable();
        rest.dedup();
        for (i, l) in rest.into_iter().enumerate() {
            map.insert(l.to_string(), OTHERS[i % OTHERS.len()]);
        }
        Palette(map)
    }

    pub fn of(&self, language: &str) -> &'static str {
        self.0.get(language).copied().unwrap_or("#555555")
    }
}

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
/// Longest tick label the axes print.
pub const MAX_TICK_LABEL: usize = 6;

/// A time axis from 0: its unit, its step and its ticks (in that unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub unit: Unit,
    pub step: f64,
    /// The axis' end, a whole number of steps.
    pub max: f64,
}

impl Axis {
    /// An axis that holds `max_seconds`, in the unit its magnitude reads in
    /// (seconds under 3 minutes, minutes under 8 hours, else hours) and
    /// about six round steps (1, 2 or 5 × a power of ten).
    pub fn for_seconds(max_seconds: f64) -> Axis {
        let max_seconds = if max_seconds.is_finite() && max_seconds > 0.0 {
            max_seconds
        } else {
            60.0
        };
        let unit = if max_seconds < 180.0 {
            Unit::Seconds
        } else if max_seconds < 8.0 * 3600.0 {
            Unit::Minutes
        } else {
            Unit::Hours
        };
        let (step, max) = round_steps(max_seconds / unit.seconds());
        Axis { unit, step, max }
    }

    /// The ticks as (value in the unit, label): computed as k × step, so no
    /// float accumulation shows (`0.6000000000000001`).
    pub fn ticks(&self) -> Vec<(f64, String)> {
        ticks(self.step, self.max)
    }

    /// Position (0..=1) of `seconds` on the axis.
    pub fn frac(&self, seconds: f64) -> f64 {
        (seconds / self.unit.seconds() / self.max).clamp(0.0, 1.0)
    }

    pub fn title(&self, what: &str) -> String {
        let unit = match self.unit {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
        };
        format!("{what} ({unit})")
    }
}

/// About six round steps (1, 2 or 5 × a power of ten) covering `0..=span`:
/// the step and the axis' end, a whole number of steps.
fn round_steps(span: f64) -> (f64, f64) {
    let raw = span / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let steps = (span / step).ceil().max(1.0);
    (step, steps * step)
}

/// The ticks `k × step` up to `max` with their labels (computed as
/// multiples, so no float accumulation shows: `0.6000000000000001`).
fn ticks(step: f64, max: f64) -> Vec<(f64, String)> {
    let n = (max / step).round() as u64;
    (0..=n.min(50))
        .map(|k| {
            let v = k as f64 * step;
            (v, tick_label(v, step))
        })
        .collect()
}

/// A value axis from 0 in the figure's own unit (milliseconds, MB,
/// seconds as measured), with round ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub step: f64,
    pub max: f64,
}

impl Scale {
    /// A scale that holds `max` (a unit scale when there is nothing to hold).
    pub fn for_max(max: f64) -> Scale {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let (step, max) = round_steps(max);
        Scale { step, max }
    }

    pub fn ticks(&self) -> Vec<(f64, String)> {
        ticks(self.step, self.max)
    }

    /// Position (0..=1) of `v` on the scale.
    pub fn frac(&self, v: f64) -> f64 {
        (v / self.max).clamp(0.0, 1.0)
    }
}

/// `v` at the precision of `step`, in at most six characters (`2e12` for
/// times no drill takes, so even absurd imported data labels cleanly).
pub fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.chars().count() <= MAX_TICK_LABEL {
        s
    } else {
        let e = format!("{v:.0e}");
        if e.chars().count() <= MAX_TICK_LABEL {
            e
        } else {
            "…".to_string()
        }
    }
}

/// Kaplan–Meier "fraction fixed", one curve (and its band) per language.
pub fn km_chart(
    title: &str,
    curves: &[(String, KaplanMeier)],
    z: f64,
    axis: &Axis,
    palette: &Palette,
) -> String {
    km_chart_of(title, curves, z, axis, palette, ["active time", "fixed"])
}

/// [`km_chart`] for any time to an event: `labels` = [what the x axis
/// measures, the event] ("from the fault", "detected").
pub fn km_chart_of(
    title: &str,
    curves: &[(String, KaplanMeier)],
    z: f64,
    axis: &Axis,
    palette: &Palette,
    labels: [&str; 2],
) -> String {
    let px = |secs: f64| LEFT + (W - LEFT - RIGHT) * axis.frac(secs);
    let py = |f: f64| TOP + (H - TOP - BOTTOM) * (1.0 - f);
    let mut s = share_chart("km", title, axis, &axis.title(labels[0]), labels[1]);
    for (i, (lang, km)) in curves.iter().enumerate() {
        let colour = palette.of(lang);
        // Thin to pixel resolution: one vertex pair per pixel column.
        let (mut line, mut upper, mut lower) = (Vec::new(), Vec::new(), Vec::new());
        line.push((px(0.0), py(0.0)));
        upper.push((px(0.0), py(0.0)));
        lower.push((px(0.0), py(0.0)));
        let (mut prev_f, mut prev_hi, mut prev_lo) = (0.0, 0.0, 0.0);
        let mut last_x = f64::NEG_INFINITY;
        for (k, st) in km.steps.iter().enumerate() {
            let x = px(st.time);
            let f = 1.0 - st.surv;
            let (lo, hi) = km.band(k, z);
            if x - last_x >= 1.0 || k + 1 == km.steps.len() {
                line.push((x, py(prev_f)));
                line.push((x, py(f)));
                upper.push((x, py(prev_hi)));
                upper.push((x, py(1.0 - lo)));
                lower.push((x, py(prev_lo)));
                lower.push((x, py(1.0 - hi)));
                last_x = x;
            }
            prev_f = f;
            prev_hi = 1.0 - lo;
            prev_lo = 1.0 - hi;
        }
        let end = px(km.max_time);
        line.push((end, py(prev_f)));
        upper.push((end, py(prev_hi)));
        lower.push((end, py(prev_lo)));
        let pts = |v: &[(f64, f64)]| {
            v.iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let band: Vec<(f64, f64)> = upper.iter().chain(lower.iter().rev()).copied().collect();
        let _ = write!(
            s,
            r#"<polygon class="band" points="{}" fill="{colour}" fill-opacity="0.15" stroke="none"/><polyline class="curve" data-lang="{}" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            pts(&band),
            esc(lang),
            pts(&line)
        );
        let _ = write!(
            s,
            r#"<rect class="key" data-lang="{}" x="{:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12">{} (n={}, {} {})</text>"#,
            esc(lang),
            // Bottom right: where rising "fraction fixed" curves are not.
            W - RIGHT - 190.0,
            H - BOTTOM - 26.0 - 18.0 * (curves.len() - 1 - i) as f64,
            W - RIGHT - 172.0,
            H - BOTTOM - 16.0 - 18.0 * (curves.len() - 1 - i) as f64,
            esc(lang),
            km.n,
            km.events,
            esc(labels[1])
        );
    }
    s.push_str("</svg>");
    s
}

/// The frame of a chart of size `W` × `H`: both axes, their ticks (pixel
/// position, label; horizontal grid lines at the y ticks) and their titles.
/// The opening of a chart whose y axis is a share (0–100%) and whose x axis
/// is `axis`: the `<svg>` element with its title, and both axes with ticks.
fn share_chart(class: &str, title: &str, axis: &Axis, xlabel: &str, ylabel: &str) -> String {
    let py = |f: f64| TOP + (H - TOP - BOTTOM) * (1.0 - f);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart {class}" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}"><title>{}</title>"#,
        esc(title)
    );
    let x_ticks: Vec<(f64, String)> = axis
        .ticks()
        .into_iter()
        .map(|(v, l)| (LEFT + (W - LEFT - RIGHT) * (v / axis.max), l))
        .collect();
    let y_ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&f| (py(f), format!("{:.0}%", f * 100.0)))
        .collect();
    axes(&mut s, &x_ticks, &y_ticks, xlabel, ylabel);
    s
}

fn axes(s: &mut String, x: &[(f64, String)], y: &[(f64, String)], xlabel: &str, ylabel: &str) {
    let _ = write!(
        s,
        r##"<g class="axes" stroke="#888" font-size="11" fill="#333"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>"##,
        l = LEFT,
        r = W - RIGHT,
        t = TOP,
        b = H - BOTTOM
    );
    for (x, label) in x {
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text>"#,
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            esc(label)
        );
    }
    for (y, label) in y {
        let _ = write!(
            s,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke-opacity="0.3"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end" stroke="none">{}</text>"#,
            LEFT,
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            esc(label)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text><text transform="translate(12 {:.1}) rotate(-90)" text-anchor="middle" stroke="none">{}</text></g>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 6.0,
        esc(xlabel),
        (TOP + H - BOTTOM) / 2.0,
        esc(ylabel)
    );
}

/// One line of a [`line_chart`]: points (x, y) in the chart's own units.
#[derive(Debug, Clone)]
pub struct Line {
    pub lang: String,
    pub points: Vec<(f64, f64)>,
}

/// Lines on a linear x axis from 0 to `x_max` (ticks at the given values,
/// with their labels) and a linear y scale. Every line is drawn in its
/// language's colour, with a dot per point when `dots` (few points, each
/// meaningful, as percentiles); a language's first line carries its key.
#[allow(clippy::too_many_arguments)]
pub fn line_chart(
    title: &str,
    class: &str,
    lines: &[Line],
    x_max: f64,
    x_ticks: &[(f64, String)],
    y: &Scale,
    labels: [&str; 2],
    dots: bool,
    palette: &Palette,
) -> String {
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let px = |v: f64| LEFT + (W - LEFT - RIGHT) * (v / x_max).clamp(0.0, 1.0);
    let py = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - y.frac(v));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart {class}" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}"><title>{}</title>"#,
        esc(title)
    );
    let xt: Vec<(f64, String)> = x_ticks.iter().map(|(v, l)| (px(*v), l.clone())).collect();
    let yt: Vec<(f64, String)> = y.ticks().into_iter().map(|(v, l)| (py(v), l)).collect();
    axes(&mut s, &xt, &yt, labels[0], labels[1]);
    let mut keyed: Vec<&str> = Vec::new();
    for line in lines {
        let colour = palette.of(&line.lang);
        let pts: Vec<String> = line
            .points
            .iter()
            .map(|(x, v)| format!("{:.1},{:.1}", px(*x), py(*v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="curve" data-lang="{}" points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-opacity="0.8"/>"#,
            esc(&line.lang),
            pts.join(" ")
        );
        if dots {
            for (x, v) in &line.points {
                let _ = write!(
                    s,
                    r#"<circle data-lang="{}" cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                    esc(&line.lang),
                    px(*x),
                    py(*v)
                );
            }
        }
        if !keyed.contains(&line.lang.as_str()) {
            // Top left: where rising percentiles and a flat memory line
            // (its scale keeps headroom above it) are not.
            let k = keyed.len() as f64;
            let _ = write!(
                s,
                r#"<rect class="key" data-lang="{l}" x="{:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12">{l}</text>"#,
                LEFT + 10.0,
                TOP + 6.0 + 18.0 * k,
                LEFT + 28.0,
                TOP + 16.0 + 18.0 * k,
                l = esc(&line.lang)
            );
            keyed.push(&line.lang);
        }
    }
    s.push_str("</svg>");
    s
}

/// A moment marked on an [`sli_chart`]: a vertical line at `seconds`.
#[derive(Debug, Clone)]
pub struct Marker {
    pub seconds: f64,
    /// `fault`, `alert`, `ack`, `deploy`, `mitigation`, `mitigated`, `resolved`.
    pub kind: &'static str,
    pub label: String,
}

fn marker_colour(kind: &str) -> &'static str {
    match kind {
        "fault" => "#b00020",
        "alert" => "#e69f00",
        "ack" => "#56b4e9",
        "deploy" => "#009e73",
        "mitigation" => "#0072b2",
        "mitigated" => "#cc79a7",
        _ => "#000000",
    }
}

/// A game day's SLI over time: the good share of each window (a point at
/// the window's middle; a gap where no request completed), the objective
/// as a dashed line, and the marked moments as labelled vertical lines.
pub fn sli_chart(
    title: &str,
    windows: &[(f64, Option<f64>)],
    objective: f64,
    axis: &Axis,
    markers: &[Marker],
    colour: &str,
) -> String {
    let px = |secs: f64| LEFT + (W - LEFT - RIGHT) * axis.frac(secs);
    let py = |f: f64| TOP + (H - TOP - BOTTOM) * (1.0 - f.clamp(0.0, 1.0));
    let mut s = share_chart(
        "sli",
        title,
        axis,
        &axis.title("since the traffic started"),
        "good requests",
    );
    let _ = write!(
        s,
        r##"<line class="objective" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#333" stroke-dasharray="5 4"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">objective {}</text>"##,
        LEFT,
        W - RIGHT,
        W - RIGHT - 4.0,
        py(objective) + 13.0,
        esc(&format!("{:.2}%", objective * 100.0)),
        y = py(objective)
    );
    // One polyline per run of windows with requests.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(t, v) in windows {
        match v {
            Some(v) => runs.last_mut().expect("a run").push((px(t), py(v))),
            None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    for run in runs.iter().filter(|r| !r.is_empty()) {
        let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        // A lone window is drawn as a dot so it is seen.
        if run.len() == 1 {
            let _ = write!(
                s,
                r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
                run[0].0, run[0].1
            );
        }
        let _ = write!(
            s,
            r#"<polyline class="curve" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            pts.join(" ")
        );
    }
    for (i, m) in markers.iter().enumerate() {
        let x = px(m.seconds);
        let c = marker_colour(m.kind);
        let _ = write!(
            s,
            r#"<g class="marker" data-kind="{}"><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{c}" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{c}" text-anchor="{}">{}</text></g>"#,
            m.kind,
            TOP,
            H - BOTTOM,
            // Labels read rightwards, except near the right edge.
            if x > W * 0.8 { x - 3.0 } else { x + 3.0 },
            // Near the bottom, where an SLI that is not at zero is not;
            // staggered so that close moments keep their labels apart.
            H - BOTTOM - 6.0 - 11.0 * (i % 4) as f64,
            if x > W * 0.8 { "end" } else { "start" },
            esc(&m.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar of a [`bar_chart`]: a language's median, and the range of the
/// values it is the median of.
#[derive(Debug, Clone)]
pub struct Bar {
    pub lang: String,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Horizontal bars, a row per language within each labelled group: the
/// bar is the median, the black whisker the range (min to max).
pub fn bar_chart(
    title: &str,
    class: &str,
    groups: &[(String, Vec<Bar>)],
    scale: &Scale,
    xlabel: &str,
    palette: &Palette,
) -> String {
    let (row_h, gap, label_w) = (22.0, 10.0, 150.0);
    let rows: usize = groups.iter().map(|(_, b)| b.len()).sum();
    let h = TOP + BOTTOM + row_h * rows as f64 + gap * groups.len().saturating_sub(1) as f64;
    let x0 = LEFT + label_w;
    let px = |v: f64| x0 + (W - x0 - RIGHT - 56.0) * scale.frac(v);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart bars {class}" role="img" viewBox="0 0 {W} {h}" width="{W}" height="{h}"><title>{}</title>"#,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<g stroke="#888" font-size="11" fill="#333"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"##,
        px(0.0),
        h - BOTTOM,
        px(scale.max),
        h - BOTTOM
    );
    for (v, label) in scale.ticks() {
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke-opacity="0.3"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text>"#,
            TOP,
            h - BOTTOM + 4.0,
            h - BOTTOM + 16.0,
            esc(&label),
            x = px(v)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{} — bar: median; whisker: range</text></g>"#,
        (px(0.0) + px(scale.max)) / 2.0,
        h - 6.0,
        esc(xlabel)
    );
    let mut y = TOP;
    for (gi, (group, bars)) in groups.iter().enumerate() {
        if gi > 0 {
            y += gap;
        }
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#111">{}</text>"##,
            LEFT - 40.0,
            y + row_h * bars.len() as f64 / 2.0 + 4.0,
            esc(group)
        );
        for b in bars {
            let colour = palette.of(&b.lang);
            let _ = write!(
                s,
                r#"<rect class="bar" data-lang="{l}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="{colour}" text-anchor="end">{l}</text>"#,
                px(0.0),
                y + 3.0,
                (px(b.median) - px(0.0)).max(1.0),
                row_h - 6.0,
                px(0.0) - 4.0,
                y + row_h / 2.0 + 4.0,
                l = esc(&b.lang)
            );
            let _ = write!(
                s,
                r##"<line class="range" x1="{:.1}" y1="{m:.1}" x2="{:.1}" y2="{m:.1}" stroke="#111" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
                px(b.min),
                px(b.max),
                px(b.max.max(b.median)) + 4.0,
                y + row_h / 2.0 + 4.0,
                esc(&crate::bench::table::num(b.median)),
                m = y + row_h / 2.0
            );
            y += row_h;
        }
    }
    s.push_str("</svg>");
    s
}

/// Most dots drawn per language row; beyond it, evenly spaced quantiles.
pub const MAX_DOTS: usize = 400;

/// Time-to-fix of every attempt in one group, a row per language: filled
/// dots are fixes, hollow ones give-ups (at the time they stopped), with the
/// KM median and its CI drawn over them.
pub fn dot_plot(
    group: &str,
    rows: &[(String, Vec<&Observation>, &Cell)],
    axis: &Axis,
    palette: &Palette,
) -> String {
    let row_h = 36.0;
    let h = TOP + BOTTOM + row_h * rows.len() as f64;
    let label_w = 56.0;
    let px = |frac: f64| LEFT + label_w + (W - LEFT - label_w - RIGHT) * frac;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart dots" role="img" viewBox="0 0 {W} {h}" width="{W}" height="{h}"><title>time to fix, {}</title>"#,
        esc(group)
    );
    let _ = write!(
        s,
        r##"<g stroke="#888" font-size="11" fill="#333"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"##,
        px(0.0),
        h - BOTTOM,
        px(1.0),
        h - BOTTOM
    );
    for (v, label) in axis.ticks() {
        let _ = write!(
            s,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text>"#,
            px(v / axis.max),
            h - BOTTOM + 16.0,
            esc(&label)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{} — hollow: gave up or timed out, at the time they stopped</text></g>"#,
        (px(0.0) + px(1.0)) / 2.0,
        h - 6.0,
        esc(&axis.title("time to fix"))
    );
    for (i, (lang, obs, cell)) in rows.iter().enumerate() {
        let colour = palette.of(lang);
        let y = TOP + row_h * (i as f64 + 0.5);
        let mut sorted: Vec<&&Observation> = obs.iter().collect();
        sorted.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        let shown: Vec<&&Observation> = if sorted.len() > MAX_DOTS {
            (0..MAX_DOTS)
                .map(|k| sorted[k * (sorted.len() - 1) / (MAX_DOTS - 1)])
                .collect()
        } else {
            sorted
        };
        let _ = write!(
            s,
            r#"<text class="key" data-lang="{}" x="{:.1}" y="{:.1}" font-size="12" fill="{colour}">{}</text>"#,
            esc(lang),
            LEFT - 40.0,
            y + 4.0,
            esc(lang)
        );
        for (k, o) in shown.iter().enumerate() {
            let jitter = ((k * 7919) % 13) as f64 - 6.0;
            let (fill, stroke) = if o.fixed() {
                (colour, "none")
            } else {
                ("none", colour)
            };
            let _ = write!(
                s,
                r#"<circle data-lang="{}" cx="{:.1}" cy="{:.1}" r="3" fill="{fill}" stroke="{stroke}" fill-opacity="0.6"/>"#,
                esc(lang),
                px(axis.frac(o.time_s)),
                y + jitter
            );
        }
        let xm = |t: Time| match t {
            Time::At(v) | Time::After(v) => px(axis.frac(v)),
            Time::Unknown => px(0.0),
        };
        if let Some([lo, hi]) = cell.time_to_fix.median_ci {
            let _ = write!(
                s,
                r##"<line class="ci" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#111" stroke-width="2"/>"##,
                xm(lo),
                y + 12.0,
                xm(hi),
                y + 12.0,
            );
        }
        if let Time::At(_) = cell.time_to_fix.median {
            let _ = write!(
                s,
                r##"<line class="median" x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}" stroke="#111" stroke-width="3"/>"##,
                y - 12.0,
                y + 14.0,
                m = xm(cell.time_to_fix.median)
            );
        }
        if obs.len() > MAX_DOTS {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#555">{MAX_DOTS} of {} shown (quantiles)</text>"##,
                W - RIGHT,
                y - 8.0,
                obs.len()
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_multiples_of_the_step_in_at_most_six_characters() {
        for max in [
            0.5, 7.0, 59.0, 179.0, 600.0, 1234.0, 3599.0, 10_799.0, 40_000.0, 1e6, 1e9, 1e16, 1e300,
        ] {
            let axis = Axis::for_seconds(max);
            let ticks = axis.ticks();
            assert!(ticks.len() >= 2, "{max}: {ticks:?}");
            assert!(axis.max * axis.unit.seconds() >= max * (1.0 - 1e-12));
            for (_, label) in &ticks {
                assert!(label.chars().count() <= MAX_TICK_LABEL, "{max}: {label}");
                assert!(!label.contains("000000"), "{max}: {label}");
            }
        }
        // 0.6 min, not 0.6000000000000001.
        let axis = Axis::for_seconds(100.0);
        assert_eq!(axis.unit, Unit::Seconds);
        let labels: Vec<String> = Axis {
            unit: Unit::Minutes,
            step: 0.2,
            max: 1.0,
        }
        .ticks()
        .into_iter()
        .map(|t| t.1)
        .collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(Axis::for_seconds(3000.0).unit, Unit::Minutes);
        assert_eq!(Axis::for_seconds(4.0 * 3600.0).unit, Unit::Minutes);
        assert_eq!(Axis::for_seconds(9.0 * 3600.0).unit, Unit::Hours);
    }

    #[test]
    fn each_language_keeps_its_colour_whatever_else_is_in_the_data() {
        let a = Palette::new(["rust", "go"]);
        let b = Palette::new(["zig", "go", "rust", "c"]);
        assert_eq!(a.of("go"), b.of("go"));
        assert_eq!(a.of("rust"), b.of("rust"));
        assert_ne!(b.of("zig"), b.of("c"));
        assert_ne!(b.of("go"), b.of("rust"));
    }
}
