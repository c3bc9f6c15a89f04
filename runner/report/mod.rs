//! `drill report`: one self-contained HTML page for a team meeting.
//!
//! Everything is inline (CSS, SVG); the page has no script and a
//! Content-Security-Policy of `default-src 'none'`, so opening it fetches
//! nothing, on or off line. Sections: the decision record, Kaplan–Meier
//! "fraction fixed by minute" per language (overall and per class), per-class
//! dot plots with medians and CIs, the comparison table with its warnings,
//! the cost table, the runtime section (the stored `drill bench`
//! results) and, when game days were recorded, their clocks per language
//! and a table of them (`gameday.rs`, which also renders one game day's
//! debrief page). The decision record carries the monthly bill per scenario:
//! running it and debugging it (`decision.rs`). The numbers are the ones
//! `drill stats` and `drill bench` print (one [`StatsReport`], the bench's
//! own tables), so the page and the terminal never disagree.

pub mod decision;
pub mod gameday;
pub mod runtime;
mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::export;
use crate::stats::dataset::{Dataset, Observation, Outcome};
use crate::stats::km::KaplanMeier;
use crate::stats::{dist, RateSource, StatsReport, Verdict};

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
.warn li{color:#8a3b00}.grid{display:flex;flex-wrap:wrap;gap:1rem}.grid figure,figure{margin:0 0 1rem}\
figcaption{font-weight:600;font-size:14px;margin:0 0 .3rem}svg.chart{max-width:100%;height:auto;background:#fff}\
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-1px}";

/// What to say when there is nothing to show.
pub const NO_BENCH: &str = "No bench result in the results directory: run `drill bench SCENARIO` (it stores its result there) to see latency, memory, CPU, startup and build figures here.";

/// Most rows of the attempts table (the latest); `drill attempts` lists all.
pub const MAX_ATTEMPT_ROWS: usize = 2000;

/// `class` → `classes`, for "All classes".
fn plural(group_by: &str) -> String {
    if group_by.ends_with('s') {
        format!("{group_by}es")
    } else {
        format!("{group_by}s")
    }
}

/// A chart with its title above it.
fn figure(title: &str, svg: &str) -> String {
    format!(
        "<figure><figcaption>{}</figcaption>{svg}</figure>",
        esc(title)
    )
}

/// The runtime side of the page: the stored bench results, the attempts
/// analysed per scenario (for the debugging side of the bill), the prices.
pub struct RuntimeInputs<'a> {
    pub stored: &'a crate::bench::stored::Stored,
    /// The same attempts and options as the page's, grouped by scenario.
    pub by_scenario: &'a StatsReport,
    pub prices: &'a decision::Prices,
    /// Only these scenarios (the selection's `--scenario`), or all.
    pub scenarios: &'a [String],
}

/// Renders the page; without `runtime`, its runtime section says how to get one.
pub fn render(
    report: &StatsReport,
    ds: &Dataset,
    runtime: Option<&RuntimeInputs>,
    gamedays: Option<&crate::gameday::stats::GamedayStats>,
) -> String {
    let [la, lb] = &report.options.compare;
    let z = dist::norm_ppf(0.5 + report.options.conf / 2.0);
    let unit = export::Unit::for_report(report);
    let palette = svg::Palette::new(
        ds.observations
            .iter()
            .map(|o| o.language.as_str())
            .chain([la.as_str(), lb.as_str()])
            .chain(
                gamedays
                    .into_iter()
                    .flat_map(|g| g.rows.iter().map(|r| r.language.as_str())),
            )
            .chain(runtime.into_iter().flat_map(|rt| {
                rt.stored
                    .results
                    .iter()
                    .flat_map(|r| r.languages.iter().map(|l| l.lang.as_str()))
            })),
    );
    let by = report.options.group_by.as_str();
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
    let bill = match runtime {
        Some(rt) => {
            let bills = decision::bills(rt.stored, rt.by_scenario, rt.prices, rt.scenarios);
            decision::html(&bills, rt.prices, !rt.stored.results.is_empty())
        }
        None => decision::html(&[], &decision::Prices::default(), false),
    };
    h.push_str(&decision_record(report, ds, unit, &bill));

    // Kaplan–Meier, overall then per group.
    let mut by_group: BTreeMap<&str, BTreeMap<&str, Vec<&Observation>>> = BTreeMap::new();
    let mut by_lang: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
    // The attempts the numbers come from (open ones and repeats left out
    // unless asked for; prevented drills apart).
    let selection = crate::stats::select(ds, &report.options);
    for o in selection.compared.iter().copied() {
        by_group
            .entry(report.options.group_by.key(o))
            .or_default()
            .entry(o.language.as_str())
            .or_default()
            .push(o);
        by_lang.entry(o.language.as_str()).or_default().push(o);
    }
    let ordered = |m: &BTreeMap<&str, Vec<&Observation>>| -> Vec<String> {
        let mut langs: Vec<String> = m.keys().map(|l| l.to_string()).collect();
        langs.sort_by_key(|l| (l != la, l != lb, l.clone()));
        langs
    };
    let legend: Vec<String> = ordered(&by_lang)
        .iter()
        .map(|l| {
            format!(
                r#"<span class="swatch" style="background:{}"></span>{}"#,
                palette.of(l),
                esc(l)
            )
        })
        .collect();
    let _ = write!(
        h,
        "<h2>Fraction fixed over active time (Kaplan–Meier, {} bands)</h2><p>Colours: {}. Each curve is the estimated share of attempts fixed within that much active time. Give-ups and time-outs stay in the estimate as censored observations; a curve that stays below 50% means the median is not reached.</p>",
        export::level(report.options.conf),
        legend.join(", ")
    );
    let curves = |m: &BTreeMap<&str, Vec<&Observation>>| -> Vec<(String, KaplanMeier)> {
        ordered(m)
            .into_iter()
            .map(|l| {
                let obs: Vec<_> = m[l.as_str()].iter().map(|o| o.fix_obs()).collect();
                (l, KaplanMeier::fit(&obs))
            })
            .collect()
    };
    let axis_for = |c: &[(String, KaplanMeier)]| {
        svg::Axis::for_seconds(c.iter().map(|(_, k)| k.max_time).fold(0.0, f64::max))
    };
    let all = curves(&by_lang);
    let title = format!("All {}", plural(by));
    h.push_str(&figure(
        &title,
        &svg::km_chart(&title, &all, z, &axis_for(&all), &palette),
    ));
    h.push_str(r#"<div class="grid">"#);
    for (g, langs) in &by_group {
        let c = curves(langs);
        h.push_str(&figure(
            g,
            &svg::km_chart(g, &c, z, &axis_for(&c), &palette),
        ));
    }
    h.push_str("</div>");

    let _ = write!(
        h,
        "<h2>Time to fix per {by}</h2><p>One dot per attempt; the bar is the Kaplan–Meier median, the line under it its {} CI (none from fewer than {} attempts).</p>",
        export::level(report.options.conf),
        crate::stats::MIN_PER_SIDE
    );
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
        let max = rows
            .iter()
            .flat_map(|(_, v, _)| v.iter().map(|o| o.time_s))
            .fold(0.0, f64::max);
        h.push_str(&figure(
            g,
            &svg::dot_plot(g, &rows, &svg::Axis::for_seconds(max), &palette),
        ));
    }

    let _ = write!(
        h,
        "<h2>Comparison: {} vs {} (times in {})</h2>",
        esc(la),
        esc(lb),
        unit.name()
    );
    h.push_str(&table(&export::comparison_rows(report, unit), "comparison"));
    let why = export::withheld_notes(report);
    if !why.is_empty() {
        h.push_str("<h3>Bounds and missing intervals</h3><ul>");
        for w in &why {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul>");
    }
    if let Some(x) = export::experience_view(report, unit) {
        let _ = write!(h, "<h2>{}</h2><ul>", esc(&export::experience_title(report)));
        for l in &x.lines {
            let _ = write!(h, "<li>{}</li>", esc(l));
        }
        h.push_str("</ul>");
        if let Some(rows) = &x.bands {
            h.push_str(&table(rows, "bands"));
        }
        if !x.notes.is_empty() {
            h.push_str("<ul>");
            for n in &x.notes {
                let _ = write!(h, "<li>{}</li>", esc(n));
            }
            h.push_str("</ul>");
        }
    }
    if !report.warnings.is_empty() {
        h.push_str(r#"<h3>Warnings</h3><ul class="warn">"#);
        for w in &report.warnings {
            let _ = write!(h, "<li>{}</li>", esc(&w.message));
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<h2>Per language and {by} (times in {})</h2>",
        unit.name()
    );
    h.push_str(&table(&export::cell_rows(report, unit), "cells"));
    if let Some(rows) = export::test_rows(report, unit) {
        let _ = write!(h, "<h2>{}</h2>", esc(export::TEST_TITLE));
        h.push_str(&table(&rows, "test-first"));
    }
    if !report.prevented.is_empty() {
        let _ = write!(h, "<h2>{}</h2>", esc(export::PREVENTED_TITLE));
        h.push_str("<p>A drill whose bug one language's compiler or idioms prevent has attempts in the other language only: they show what the bug costs where it can happen, and are not part of the comparison above.</p>");
        h.push_str(&table(&export::prevented_rows(report, unit), "prevented"));
    }
    h.push_str(&cost_section(report));
    h.push_str(&match runtime {
        Some(rt) => runtime::section(rt.stored, rt.scenarios, &palette),
        None => runtime::section(&Default::default(), &[], &palette),
    });
    if let Some(g) = gamedays {
        h.push_str(&gameday::section(g, &palette));
    }
    h.push_str(&attempts_table(ds, unit));
    h.push_str("</body></html>\n");
    h
}

/// The cost of a median incident: from `--hourly-rate`, or the documented
/// default, saying which.
fn cost_section(report: &StatsReport) -> String {
    let cost = report.cost.clone().unwrap_or_else(|| {
        crate::stats::cost(
            &report.cells,
            &report.comparisons,
            crate::stats::DEFAULT_HOURLY_RATE,
            report.options.engineers_per_incident,
            RateSource::Default,
        )
    });
    let mut s = String::from("<h2>Cost</h2>");
    let source = match cost.rate_source {
        RateSource::Given => "the rate given with <code>--hourly-rate</code>".to_string(),
        RateSource::Default => format!(
            "the default rate of {} per engineer-hour (no <code>--hourly-rate</code> was given; pass your team's fully-loaded rate)",
            export::money(crate::stats::DEFAULT_HOURLY_RATE)
        ),
    };
    let _ = write!(
        s,
        r#"<p class="cost-basis">A median incident: median time-to-fix × {} per hour × {} engineer(s), using {source}.</p>"#,
        export::money(cost.hourly_rate),
        cost.engineers_per_incident
    );
    s.push_str(&table(&export::cost_rows(report, &cost), "cost"));
    s
}

/// Every attempt (the latest [`MAX_ATTEMPT_ROWS`]), so each figure can be
/// traced to its records.
fn attempts_table(ds: &Dataset, unit: export::Unit) -> String {
    let mut all: Vec<&Observation> = ds.observations.iter().collect();
    all.sort_by(|a, b| (b.started, &b.id).cmp(&(a.started, &a.id)));
    let shown = all.len().min(MAX_ATTEMPT_ROWS);
    let mut s = format!("<h2>Attempts ({})</h2>", all.len());
    if shown < all.len() {
        let _ = write!(
            s,
            "<p>The latest {shown} of {}; <code>drill attempts</code> and <code>drill attempts export --csv</code> list them all.</p>",
            all.len()
        );
    }
    let u = unit.name();
    let mut rows = vec![vec![
        "started".to_string(),
        "engineer".to_string(),
        "drill".to_string(),
        "language".to_string(),
        "outcome".to_string(),
        format!("time to fix or stop ({u})"),
        format!("time to find ({u})"),
        "hints".to_string(),
        "submits".to_string(),
        "repeat".to_string(),
        "blind".to_string(),
        "attempt".to_string(),
    ]];
    for o in all.iter().take(shown) {
        let hidden = o.flags.blind && o.outcome == Outcome::Open;
        rows.push(vec![
            o.started.to_string()[..16].replace('T', " "),
            o.engineer.clone(),
            if hidden {
                "(hidden until it ends)".to_string()
            } else {
                o.drill.clone()
            },
            o.language.clone(),
            o.outcome.as_str().replace('_', " "),
            unit.num(o.time_s),
            o.time_to_find_s.map_or("—".to_string(), |t| unit.num(t)),
            o.hints.to_string(),
            o.submits.to_string(),
            if o.flags.repeat { "yes" } else { "" }.to_string(),
            if o.flags.blind { "yes" } else { "" }.to_string(),
            o.id.clone(),
        ]);
    }
    s.push_str(&table(&rows, "attempts"));
    s
}

/// The decision record; `bill` (the monthly bill per scenario) follows the overall result.
fn decision_record(r: &StatsReport, ds: &Dataset, unit: export::Unit, bill: &str) -> String {
    let [la, lb] = &r.options.compare;
    let i = &r.inputs;
    let lv = export::level(r.options.conf);
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
            export::ratio_with_ci(c, r.options.conf),
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
        "<h3>What was measured</h3><p>{} attempts by {} engineers ({} not fixed: given up, timed out or still open, all kept as censored). Time is active time from the event logs: pauses and the kit's own verification excluded. Medians are Kaplan–Meier; {b}/{a} ratios carry {lv} percentile-bootstrap intervals ({} resamples, seed {}); tests are log-rank and Mann–Whitney with Holm's correction across the {}.</p>",
        i.attempts,
        i.engineers,
        censored,
        r.options.resamples,
        r.options.seed,
        plural(r.options.group_by.as_str()),
        a = esc(la),
        b = esc(lb)
    );
    if let Some(c) = overall {
        let _ = write!(
            s,
            "<p><strong>Overall:</strong> median time-to-fix {a} {}, {b} {}; {b}/{a} {}; verdict: {}.</p>",
            esc(&export::time_with_unit(c.median[0], unit)),
            esc(&export::time_with_unit(c.median[1], unit)),
            esc(&export::ratio_with_ci(c, r.options.conf)),
            esc(&export::verdict(c, &r.options.compare)),
            a = esc(la),
            b = esc(lb)
        );
    }
    s.push_str(bill);
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

    // What the data can carry, and what it cannot.
    let mut can = Vec::new();
    for c in r.comparisons.iter().filter(|c| c.group != "all") {
        match (c.verdict, &c.ratio_ci) {
            (Verdict::FirstCheaper | Verdict::SecondCheaper, _) => can.push(format!(
                "{}: a difference in median time-to-fix ({}/{} {})",
                c.group,
                lb,
                la,
                export::ratio_with_ci(c, r.options.conf)
            )),
            (Verdict::NoClearDifference, Some(ci)) if ci.hi.is_finite() => can.push(format!(
                "{}: a limit on the difference: {}/{} between {} and {} ({} CI); a larger gap is unlikely with these engineers",
                c.group,
                lb,
                la,
                export::factor(ci.lo),
                export::factor(ci.hi),
                export::level(ci.conf)
            )),
            _ => {}
        }
    }
    let mut cannot = vec![format!(
        "Any claim beyond these {} engineers and these drills: they are a sample, not the team or the language.",
        i.engineers
    )];
    if !thin.is_empty() {
        cannot.push(format!(
            "Any comparison for {}: too few attempts for a test to reach p < {} (at least {} per language needed).",
            r.comparisons
                .iter()
                .filter(|c| c.verdict == Verdict::TooThin && c.group != "all")
                .map(|c| c.group.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            r.options.alpha,
            crate::stats::min_n_for(r.options.alpha)
        ));
    }
    if !unclear.is_empty() {
        cannot.push(
            "\"No difference\" where the verdict is no clear difference: a difference the data cannot show is not shown to be absent."
                .to_string(),
        );
    }
    let withheld = r
        .comparisons
        .iter()
        .filter(|c| !c.withheld.is_empty())
        .count();
    if withheld > 0 {
        cannot.push(format!(
            "A point figure for the {withheld} comparison(s) whose ratio or shift is only a bound or has no interval (listed under the comparison table)."
        ));
    }
    if i.open_left_out + i.repeats_left_out > 0 {
        cannot.push(format!(
            "The {} still-open and {} repeat attempt(s): they are listed below but not in these numbers.",
            i.open_left_out, i.repeats_left_out
        ));
    }
    if i.prevented > 0 {
        cannot.push(format!(
            "A Go/Rust figure for the {} attempt(s) on drills one language prevents: there is nothing to pair them with (their own table below).",
            i.prevented
        ));
    }
    let warned = |k: crate::stats::WarningKind| r.warnings.iter().any(|w| w.kind == k);
    if warned(crate::stats::WarningKind::UnbalancedExperience) {
        cannot.push(
            "Whether experience explains a difference: the languages' attempts came from unlike experience (see the warnings); only the comparison within experience bands compares like with like."
                .to_string(),
        );
    } else if warned(crate::stats::WarningKind::ExperienceNotRecorded) {
        cannot.push(
            "Whether experience explains a difference, fully: some attempts carry no engineer experience (no profile when they started), so a language whose attempts came from its novices can look slower than it is; record profiles with drill profile."
                .to_string(),
        );
    }
    if warned(crate::stats::WarningKind::OrderEffect) {
        cannot.push("A clean language effect: the order the languages were met in was unbalanced (see the warnings); counterbalance with drill plan.".to_string());
    }
    if warned(crate::stats::WarningKind::HeavyCensoring) {
        cannot.push(
            "Exact medians where many attempts were not fixed: there only bounds are known."
                .to_string(),
        );
    }
    let _ = write!(
        s,
        "<h3>What this data can support</h3>{}<h3>What it cannot support</h3>{}",
        list(&can),
        list(&cannot)
    );
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
            "collect at least {} attempts per language for the thin {} before deciding on them",
            crate::stats::min_n_for(r.options.alpha).max(8),
            plural(r.options.group_by.as_str())
        ));
    }
    let _ = write!(
        s,
        "<h3>The rule it suggests</h3><p>{}.</p><p>Every figure traces back to the {} attempt records listed at the end of this page (and by <code>drill attempts</code>).</p></section>",
        esc(&rule.join("; ")),
        ds.observations.len()
    );
    s
}
