//! Inline SVG charts: no script, no external resource, sized by viewBox.

use std::fmt::Write as _;

use crate::stats::dataset::Observation;
use crate::stats::km::{KaplanMeier, Time};
use crate::stats::Cell;

use super::esc;

/// Colours per language slot (first, second, others), colour-blind safe.
pub const COLOURS: [&str; 4] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7"];

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

fn nice_step(range: f64) -> f64 {
    let raw = range / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Kaplan–Meier "fraction fixed by minute", one curve (and its 95% band)
/// per language.
pub fn km_chart(title: &str, curves: &[(String, KaplanMeier)], z: f64) -> String {
    let max_min = curves
        .iter()
        .map(|(_, k)| k.max_time / 60.0)
        .fold(1.0f64, f64::max);
    let step = nice_step(max_min);
    let xmax = (max_min / step).ceil() * step;
    let px = |m: f64| LEFT + (W - LEFT - RIGHT) * (m / xmax);
    let py = |f: f64| TOP + (H - TOP - BOTTOM) * (1.0 - f);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart km" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}"><title>{}</title>"#,
        esc(title)
    );
    axes(
        &mut s,
        xmax,
        step,
        px,
        py,
        "minutes of active time",
        "fraction fixed",
    );
    for (i, (lang, km)) in curves.iter().enumerate() {
        let colour = COLOURS[i.min(3)];
        // Thin to pixel resolution: one vertex pair per pixel column.
        let (mut line, mut upper, mut lower) = (Vec::new(), Vec::new(), Vec::new());
        line.push((px(0.0), py(0.0)));
        upper.push((px(0.0), py(0.0)));
        lower.push((px(0.0), py(0.0)));
        let (mut prev_f, mut prev_hi, mut prev_lo) = (0.0, 0.0, 0.0);
        let mut last_x = f64::NEG_INFINITY;
        for (k, st) in km.steps.iter().enumerate() {
            let x = px(st.time / 60.0);
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
        let end = px(km.max_time / 60.0);
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
            r#"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12">{} (n={}, {} fixed)</text>"#,
            LEFT + 12.0,
            TOP + 8.0 + 18.0 * i as f64,
            LEFT + 30.0,
            TOP + 18.0 + 18.0 * i as f64,
            esc(lang),
            km.n,
            km.events
        );
    }
    s.push_str("</svg>");
    s
}

fn axes(
    s: &mut String,
    xmax: f64,
    step: f64,
    px: impl Fn(f64) -> f64,
    py: impl Fn(f64) -> f64,
    xlabel: &str,
    ylabel: &str,
) {
    let _ = write!(
        s,
        r##"<g class="axes" stroke="#888" font-size="11" fill="#333"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>"##,
        l = LEFT,
        r = W - RIGHT,
        t = TOP,
        b = H - BOTTOM
    );
    let mut m = 0.0;
    while m <= xmax + 1e-9 {
        let x = px(m);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" stroke="none">{}</text>"#,
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            m
        );
        m += step;
    }
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = py(f);
        let _ = write!(
            s,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke-opacity="0.3"/><text x="{:.1}" y="{:.1}" text-anchor="end" stroke="none">{f}</text>"#,
            LEFT,
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{xlabel}</text><text transform="translate(12 {:.1}) rotate(-90)" text-anchor="middle" stroke="none">{ylabel}</text></g>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 6.0,
        (TOP + H - BOTTOM) / 2.0
    );
}

/// Most dots drawn per language row; beyond it, evenly spaced quantiles.
pub const MAX_DOTS: usize = 400;

/// Time-to-fix of every attempt in one class, a row per language: filled
/// dots are fixes, hollow ones give-ups (at the time they stopped), with the
/// KM median and its CI drawn over them.
pub fn dot_plot(class: &str, rows: &[(String, Vec<&Observation>, &Cell)]) -> String {
    let row_h = 36.0;
    let h = TOP + BOTTOM + row_h * rows.len() as f64;
    let max_min = rows
        .iter()
        .flat_map(|(_, v, _)| v.iter().map(|o| o.time_s / 60.0))
        .fold(1.0f64, f64::max);
    let step = nice_step(max_min);
    let xmax = (max_min / step).ceil() * step;
    let label_w = 56.0;
    let px = |m: f64| LEFT + label_w + (W - LEFT - label_w - RIGHT) * (m / xmax);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart dots" role="img" viewBox="0 0 {W} {h}" width="{W}" height="{h}"><title>time to fix, {}</title>"#,
        esc(class)
    );
    let _ = write!(
        s,
        r##"<g stroke="#888" font-size="11" fill="#333"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"##,
        px(0.0),
        h - BOTTOM,
        px(xmax),
        h - BOTTOM
    );
    let mut m = 0.0;
    while m <= xmax + 1e-9 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">{m}</text>"#,
            px(m),
            h - BOTTOM + 16.0
        );
        m += step;
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" stroke="none">minutes to fix (hollow: gave up / timed out, at the time they stopped)</text></g>"#,
        (px(0.0) + px(xmax)) / 2.0,
        h - 6.0
    );
    for (i, (lang, obs, cell)) in rows.iter().enumerate() {
        let colour = COLOURS[i.min(3)];
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
            r#"<text x="{:.1}" y="{:.1}" font-size="12" fill="{colour}">{}</text>"#,
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
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{fill}" stroke="{stroke}" fill-opacity="0.6"/>"#,
                px(o.time_s / 60.0),
                y + jitter
            );
        }
        let med = cell.time_to_fix.median;
        let [lo, hi] = cell.time_to_fix.median_ci;
        let xm = |t: Time| match t {
            Time::At(v) | Time::After(v) => px(v / 60.0),
            Time::Unknown => px(0.0),
        };
        let _ = write!(
            s,
            r##"<line class="ci" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#111" stroke-width="2"/><line class="median" x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}" stroke="#111" stroke-width="3"/>"##,
            xm(lo),
            y + 12.0,
            xm(hi),
            y + 12.0,
            y - 12.0,
            y + 14.0,
            m = xm(med)
        );
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
