//! `drill report`: one self-contained HTML page for a team meeting.
//!
//! Everything is inline (CSS, SVG); the page has no script and a
//! Content-Security-Policy of `default-src 'none'`, so opening it fetches
//! nothing, on or off line. Sections: the decision record, Kaplan–Meier
//! "fraction fixed by minute" per language (overall and per class), per-class
//! dot plots with medians and CIs, the comparison table with its warnings,
//! and the cost table. The numbers are the ones `drill stats` prints (one
//! [`StatsReport`]), so the page and the terminal never disagree.

mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::export;
use crate::stats::dataset::Dataset;
use crate::stats::km::KaplanMeier;
use crate::stats::{dist, StatsReport, Verdict};

/// The page's Content-Security-Policy: nothing may be loaded from anywhere.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn table(rows: &[Vec<String>], class: &str) -> String {
    let mut s = format!(r#"<table class="{class}">"#);
    for (i, r) in rows.iter().enumerate() {
        s.push_str("<tr>");
        for c in r {
            let tag = if i == 0 { "th" } else { "td" };
            let _ = write!(s, "<{tag}>{}</{tag}>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#111;padding:0 1rem}\
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left}\
th{background:#f3f3f3}.decision{border:2px solid #333;padding:0 1.2rem 1rem;background:#fafafa}\
.warn li{color:#8a3b00}.grid{display:flex;flex-wrap:wrap;gap:1rem}.grid figure{margin:0}\
figcaption{font-size:13px;color:#444}svg.chart{max-width:100%;height:auto;background:#fff}";

/// Renders the page.
pub fn render(report: &StatsReport, ds: &Dataset) -> String {
    let [la, lb] = &report.options.compare;
    let z = dist::norm_ppf(0.5 + report.options.conf / 2.0);
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>drillkit report: {la} vs {lb}</title><style>{STYLE}</style></head><body>"#
    );
    let _ = write!(
        h,
        "<h1>What debugging costs us: {} vs {}</h1><p>{}</p>",
        esc(la),
        esc(lb),
        esc(&export::notes(report).join(" "))
    );
    h.push_str(&decision_record(report));

    // Kaplan–Meier, overall then per class.
    let mut by_group: BTreeMap<&str, BTreeMap<&str, Vec<&crate::stats::dataset::Observation>>> =
        BTreeMap::new();
    let mut by_lang: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for o in &ds.observations {
        by_group
            .entry(report.options.group_by.key(o))
            .or_default()
            .entry(o.language.as_str())
            .or_default()
            .push(o);
        by_lang.entry(o.language.as_str()).or_default().push(o);
    }
    let ordered = |m: &BTreeMap<&str, Vec<&crate::stats::dataset::Observation>>| -> Vec<String> {
        let mut langs: Vec<String> = m.keys().map(|l| l.to_string()).collect();
        langs.sort_by_key(|l| (l != la, l != lb, l.clone()));
        langs
    };
    h.push_str("<h2>Fraction fixed by minute (Kaplan–Meier, 95% bands)</h2>");
    h.push_str("<p>Each curve is the estimated share of attempts fixed within that much active time. Give-ups and time-outs stay in the estimate as censored observations; a curve that stays below one half means the median is not reached.</p>");
    let curves: Vec<(String, KaplanMeier)> = ordered(&by_lang)
        .into_iter()
        .map(|l| {
            let obs: Vec<_> = by_lang[l.as_str()].iter().map(|o| o.fix_obs()).collect();
            (l, KaplanMeier::fit(&obs))
        })
        .collect();
    let _ = write!(
        h,
        "<figure>{}<figcaption>All {}s</figcaption></figure>",
        svg::km_chart("fraction fixed by minute, all", &curves, z),
        report.options.group_by.as_str()
    );
    h.push_str(r#"<div class="grid">"#);
    for (g, langs) in &by_group {
        let curves: Vec<(String, KaplanMeier)> = ordered(langs)
            .into_iter()
            .map(|l| {
                let obs: Vec<_> = langs[l.as_str()].iter().map(|o| o.fix_obs()).collect();
                (l, KaplanMeier::fit(&obs))
            })
            .collect();
        let _ = write!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            svg::km_chart(&format!("fraction fixed by minute, {g}"), &curves, z),
            esc(g)
        );
    }
    h.push_str("</div>");

    h.push_str(&format!(
        "<h2>Time to fix per {}</h2><p>One dot per attempt; the bar is the Kaplan–Meier median, the line under it its 95% CI.</p>",
        report.options.group_by.as_str()
    ));
    for (g, langs) in &by_group {
        let rows: Vec<_> = ordered(langs)
            .into_iter()
            .filter_map(|l| {
                let cell = report
                    .cells
                    .iter()
                    .find(|c| c.group == *g && c.language == l)?;
                let obs = langs[l.as_str()].clone();
                Some((l, obs, cell))
            })
            .collect();
        let _ = write!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            svg::dot_plot(g, &rows),
            esc(g)
        );
    }

    let _ = write!(h, "<h2>Comparison: {} vs {}</h2>", esc(la), esc(lb));
    h.push_str(&table(&export::comparison_rows(report), "comparison"));
    if !report.warnings.is_empty() {
        h.push_str(r#"<h3>Warnings</h3><ul class="warn">"#);
        for w in &report.warnings {
            let _ = write!(h, "<li>{}</li>", esc(&w.message));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Per language and class</h2>");
    h.push_str(&table(&export::cell_rows(report), "cells"));
    h.push_str("<h2>Cost</h2>");
    match export::cost_rows(report) {
        Some(rows) => {
            let cost = report.cost.as_ref().expect("rows imply cost");
            let _ = write!(
                h,
                "<p>A median incident: median time-to-fix × {} per hour × {} engineer(s).</p>",
                export::money(cost.hourly_rate),
                cost.engineers_per_incident
            );
            h.push_str(&table(&rows, "cost"));
        }
        None => h.push_str("<p>Pass <code>--hourly-rate</code> (and <code>--engineers-per-incident</code>) to price a median incident.</p>"),
    }
    h.push_str("</body></html>\n");
    h
}

fn decision_record(r: &StatsReport) -> String {
    let [la, lb] = &r.options.compare;
    let i = &r.inputs;
    let mut cheaper: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let (mut unclear, mut thin) = (Vec::new(), Vec::new());
    let mut overall = None;
    for c in &r.comparisons {
        if c.group == "all" {
            overall = Some(c);
            continue;
        }
        let line = format!(
            "{}: {b}/{a} {} ({} vs {} attempts, log-rank Holm p {})",
            c.group,
            export::ratio_with_ci(c),
            c.n[0],
            c.n[1],
            c.log_rank_p_holm.map_or("—".into(), export::p),
            a = la,
            b = lb
        );
        match c.verdict {
            Verdict::FirstCheaper => cheaper.entry(la.as_str()).or_default().push(line),
            Verdict::SecondCheaper => cheaper.entry(lb.as_str()).or_default().push(line),
            Verdict::NoClearDifference => unclear.push(line),
            Verdict::TooThin => thin.push(format!(
                "{} ({} vs {} attempts: the smallest p any test could give is {:.2})",
                c.group, c.n[0], c.n[1], c.min_attainable_p
            )),
        }
    }
    let censored: usize = r
        .cells
        .iter()
        .filter(|c| c.group == "all")
        .map(|c| c.attempts - c.fixed)
        .sum();
    let mut s = String::from(r#"<section class="decision"><h2>Decision record</h2>"#);
    let _ = write!(
        s,
        "<h3>What was measured</h3><p>{} attempts by {} engineers ({} not fixed: given up, timed out or still open, all kept as censored). Time is active time from the event logs: pauses and the kit's own verification excluded. Medians are Kaplan–Meier; {b}/{a} ratios carry {}% percentile-bootstrap intervals ({} resamples, seed {}); tests are log-rank and Mann–Whitney with Holm's correction across the {} groups.</p>",
        i.attempts,
        i.engineers,
        censored,
        (r.options.conf * 100.0).round(),
        r.options.resamples,
        r.options.seed,
        r.options.group_by.as_str(),
        a = esc(la),
        b = esc(lb)
    );
    if let Some(c) = overall {
        let _ = write!(
            s,
            "<p><strong>Overall:</strong> median time-to-fix {a} {}, {b} {}; {b}/{a} {}; verdict: {}.</p>",
            esc(&export::time(c.median[0])),
            esc(&export::time(c.median[1])),
            esc(&export::ratio_with_ci(c)),
            esc(&export::verdict(c, &r.options.compare)),
            a = esc(la),
            b = esc(lb)
        );
    }
    let list = |items: &[String]| -> String {
        if items.is_empty() {
            "<p>None.</p>".to_string()
        } else {
            let mut l = String::from("<ul>");
            for it in items {
                let _ = write!(l, "<li>{}</li>", esc(it));
            }
            l.push_str("</ul>");
            l
        }
    };
    for lang in [la, lb] {
        let items = cheaper.get(lang.as_str()).cloned().unwrap_or_default();
        let _ = write!(
            s,
            "<h3>Where {} is clearly cheaper</h3>{}",
            esc(lang),
            list(&items)
        );
    }
    let _ = write!(s, "<h3>No clear difference</h3>{}", list(&unclear));
    let _ = write!(s, "<h3>Too thin to say</h3>{}", list(&thin));
    let names = |lang: &str| -> Vec<String> {
        cheaper
            .get(lang)
            .map(|v| {
                v.iter()
                    .map(|l| l.split(':').next().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut rule = Vec::new();
    for lang in [la, lb] {
        let n = names(lang);
        if !n.is_empty() {
            rule.push(format!(
                "for services whose incidents are mostly {}, {} is measurably cheaper to debug here",
                n.join(", "),
                lang
            ));
        }
    }
    if rule.is_empty() {
        rule.push(format!(
            "these measurements do not separate {la} from {lb} on debugging cost: choose on other grounds, and keep drilling"
        ));
    }
    if !thin.is_empty() {
        rule.push(format!(
            "collect at least {} attempts per language for the thin classes before deciding on them",
            crate::stats::min_n_for(r.options.alpha).max(8)
        ));
    }
    let _ = write!(
        s,
        "<h3>The rule it suggests</h3><p>{}.</p><p><em>Limits:</em> these are these engineers on these drills; a difference the data cannot show is not shown to be absent. Every figure traces back to the attempt records listed by <code>drill attempts</code>.</p></section>",
        esc(&rule.join("; "))
    );
    s
}
