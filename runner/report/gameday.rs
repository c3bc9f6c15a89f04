//! Game days on the page: the debrief of one game day as a page of its own
//! (`drill gameday debrief --html`), and the report's game-day section (the
//! clocks per language as Kaplan–Meier curves and tables, the game days).
//! The same style, palette and policy as the report: inline CSS and SVG,
//! no script, nothing fetched.

use std::fmt::Write as _;

use super::{esc, figure, svg, table, CSP, STYLE};
use crate::export;
use crate::gameday::debrief::{self, Debrief, State};
use crate::gameday::sli::Window;
use crate::gameday::stats::GamedayStats;
use crate::stats::dist;

/// Extra rules for the debrief page, in the report's colours.
const DEBRIEF_STYLE: &str = "pre.diff{background:#f6f6f6;border:1px solid #ddd;padding:.6rem;overflow-x:auto;font-size:12px}\
.running{border:2px solid #8a3b00;color:#8a3b00;padding:.4rem .8rem;font-weight:600}\
table.actions td{height:1.6em;min-width:12em}";

/// The debrief of one game day as a self-contained page.
pub fn debrief_page(d: &Debrief) -> String {
    let palette = svg::Palette::new([d.language.as_str()]);
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>game day debrief: {}</title><style>{STYLE}{DEBRIEF_STYLE}</style></head><body>"#,
        esc(&d.id)
    );
    let _ = write!(
        h,
        "<h1>Game day debrief: {} ({})</h1><p>{} — started {}; {}.</p><p>On call: {}{}{}.</p>",
        esc(&d.drill),
        esc(&d.language),
        esc(&d.id),
        esc(&d.started_at.to_string()),
        esc(&d.status_line()),
        esc(d.on_call.as_deref().unwrap_or("not recorded")),
        d.class
            .as_deref()
            .map_or(String::new(), |c| format!("; class {}", esc(c))),
        if d.blind { "; dealt blind" } else { "" }
    );
    if d.running() {
        h.push_str(r#"<p class="running">This game day has not ended: the clocks not reached are running (not censored), and every figure is as of now.</p>"#);
    }
    let _ = write!(
        h,
        "<p>SLO: {:.2}% of requests good (answered below 500 within {} ms), windows of {} ms; the alert pages at {}× burn over {} and {} windows.</p>",
        d.slo.availability * 100.0,
        d.slo.latency_ms,
        d.slo.window_ms,
        d.alert.burn_rate,
        d.alert.long_windows,
        d.alert.short_windows
    );

    h.push_str(r#"<section class="clocks"><h2>Clocks from the fault</h2>"#);
    let mut rows = vec![vec!["clock".to_string(), "time from the fault".to_string()]];
    rows.push(vec![
        "fault started".into(),
        d.clocks
            .fault_start_ms
            .map_or("never (no fault injected)".into(), |ms| {
                format!("{:.1} s after the traffic", ms as f64 / 1000.0)
            }),
    ]);
    for r in &d.clock_rows {
        rows.push(vec![r.name.to_string(), Debrief::clock_text(r)]);
    }
    h.push_str(&table(&rows, "clocks"));
    h.push_str("</section>");

    h.push_str(r#"<section class="sli"><h2>The SLI over time</h2>"#);
    if let Some(p) = &d.sli.problem {
        let _ = write!(h, r#"<ul class="warn"><li>{}</li></ul>"#, esc(p));
    }
    if d.sli.windows.is_empty() {
        h.push_str("<p>No SLI window was recorded for this game day.</p>");
    } else {
        h.push_str(&figure(
            "Good requests per window, with the objective and the incident's moments",
            &sli_svg(d, &palette),
        ));
    }
    h.push_str("</section>");

    h.push_str(r#"<section class="timeline"><h2>Timeline</h2><p>T is the fault's start.</p>"#);
    let mut rows = vec![vec![
        "T".to_string(),
        "time (UTC)".into(),
        "event".into(),
        "what happened".into(),
    ]];
    for e in &d.timeline {
        let name = serde_json::to_value(&e.event.kind)
            .ok()
            .and_then(|v| v["event"].as_str().map(str::to_string))
            .unwrap_or_default();
        rows.push(vec![
            debrief::offset(e),
            e.event.at.to_string(),
            name,
            e.description.clone(),
        ]);
    }
    h.push_str(&table(&rows, "timeline"));
    h.push_str("</section>");

    h.push_str(r#"<section class="cause"><h2>Root cause</h2>"#);
    match &d.reference {
        Some(r) => {
            for p in r.root_cause.trim().split("\n\n") {
                let _ = write!(h, "<p>{}</p>", esc(p));
            }
            h.push_str("<h3>The fix</h3>");
            for p in r.fix.trim().split("\n\n") {
                let _ = write!(h, "<p>{}</p>", esc(p));
            }
            if let Some(diff) = &r.diff {
                let _ = write!(
                    h,
                    r#"<h3>The reference fix ({})</h3><pre class="diff">{}</pre>"#,
                    esc(&d.language),
                    esc(diff)
                );
            }
        }
        None => {
            let _ = write!(
                h,
                "<p>{} is not in this catalog: no root cause or reference fix to show.</p>",
                esc(&d.drill)
            );
        }
    }
    h.push_str("</section>");

    h.push_str(r#"<section class="actions"><h2>Action items</h2><p>For the team to fill in.</p>"#);
    let mut rows = vec![vec!["action".to_string(), "owner".into(), "due".into()]];
    rows.extend((0..5).map(|_| vec![String::new(), String::new(), String::new()]));
    h.push_str(&table(&rows, "actions"));
    h.push_str("</section></body></html>\n");
    h
}

fn sli_svg(d: &Debrief, palette: &svg::Palette) -> String {
    let w = d.slo.window_ms as f64 / 1000.0;
    let points: Vec<(f64, Option<f64>)> = d
        .sli
        .windows
        .iter()
        .map(|x| ((x.index as f64 + 0.5) * w, Window::sli(x)))
        .collect();
    let end = match &d.state {
        State::Ended { at, .. } => at.ms_since(d.started_at) as f64 / 1000.0,
        State::Running { as_of } => as_of.ms_since(d.started_at) as f64 / 1000.0,
    };
    let last_window = d
        .sli
        .windows
        .iter()
        .map(|x| (x.index + 1) as f64 * w)
        .fold(0.0, f64::max);
    let axis = svg::Axis::for_seconds(end.max(last_window));
    let markers: Vec<svg::Marker> = d
        .timeline
        .iter()
        .filter_map(|e| {
            let kind = e.marker?;
            let label = match &e.event.kind {
                crate::gameday::record::EventKind::Deploy { n, .. } => format!("deploy {n}"),
                _ => kind.to_string(),
            };
            Some(svg::Marker {
                seconds: e.since_start_ms as f64 / 1000.0,
                kind,
                label,
            })
        })
        .collect();
    svg::sli_chart(
        &format!("SLI of {}", d.id),
        &points,
        d.slo.availability,
        &axis,
        &markers,
        palette.of(&d.language),
    )
}

/// The report's game-day section; empty without a game day.
pub fn section(s: &GamedayStats, palette: &svg::Palette) -> String {
    if s.rows.is_empty() {
        return String::new();
    }
    let unit = s.unit();
    let z = dist::norm_ppf(0.5 + s.conf / 2.0);
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<section class="gamedays"><h2>Game days: the clocks from the fault (Kaplan–Meier, {} bands)</h2><p>{} game day(s) counted. Each curve is the estimated share of game days whose clock had stopped within that much time from the fault; a game day that ended before a clock stopped stays in as a censored observation.</p>"#,
        export::level(s.conf),
        s.gamedays
    );
    if s.gamedays > 0 {
        h.push_str(r#"<div class="grid">"#);
        for c in &s.clocks {
            let curves: Vec<(String, crate::stats::km::KaplanMeier)> = c
                .by_language
                .iter()
                .map(|l| (l.language.clone(), l.km.clone()))
                .collect();
            let max = curves.iter().map(|(_, k)| k.max_time).fold(0.0, f64::max);
            let axis = svg::Axis::for_seconds(max);
            let title = format!("Time to {}", c.clock);
            h.push_str(&figure(
                &title,
                &svg::km_chart_of(
                    &title,
                    &curves,
                    z,
                    &axis,
                    palette,
                    ["from the fault", "reached"],
                ),
            ));
        }
        h.push_str("</div>");
        let _ = write!(
            h,
            "<h3>Per clock and language (times in {})</h3>",
            unit.name()
        );
        h.push_str(&table(&s.clock_rows(unit), "gameday-clocks"));
    }
    let _ = write!(h, "<h3>The game days (times in {})</h3>", unit.name());
    h.push_str(&table(&s.gameday_rows(unit), "gamedays"));
    h.push_str("<ul>");
    for n in s.notes() {
        let _ = write!(h, "<li>{}</li>", esc(&n));
    }
    h.push_str("</ul></section>");
    h
}
