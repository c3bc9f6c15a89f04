//! The report's runtime section: the latest stored `drill bench` result of
//! each scenario as charts (corrected latency percentiles, RSS over time,
//! CPU per 1,000 requests, startup, build and edit-test loop times) and the
//! bench's own tables (`bench::table`), so the page and `drill bench` never
//! disagree.

use std::fmt::Write as _;

use super::svg::{self, Bar, Line, Palette, Scale};
use super::{esc, figure, table, NO_BENCH};
use crate::bench::build::{BuildFigures, Stats as BuildStats};
use crate::bench::compare::Spread;
use crate::bench::scenario::{BenchResult, RateSummary, STARTUP_FIGURE};
use crate::bench::stored::Stored;
use crate::bench::table as bench_table;

/// The percentiles drawn, as (label, how to read them off a summary).
const PERCENTILES: [(&str, &str); 6] = [
    ("p50", "latency_corrected_p50_ms"),
    ("p90", "latency_corrected_p90_ms"),
    ("p95", "latency_corrected_p95_ms"),
    ("p99", "latency_corrected_p99_ms"),
    ("p99.9", "latency_corrected_p999_ms"),
    ("max", "latency_corrected_max_ms"),
];

/// The section, for the scenarios `wanted` (all when empty).
pub fn section(stored: &Stored, wanted: &[String], palette: &Palette) -> String {
    let mut h = String::from(
        r#"<section class="runtime"><h2>Runtime: what each language costs to run</h2>"#,
    );
    let (latest, sweeps) = (stored.latest_per_scenario(), stored.latest_sweeps());
    let mut shown: Vec<&str> = latest.keys().chain(sweeps.keys()).copied().collect();
    shown.sort_unstable();
    shown.dedup();
    shown.retain(|s| wanted.is_empty() || wanted.iter().any(|w| w == s));
    if !stored.damaged.is_empty() {
        h.push_str(r#"<ul class="warn">"#);
        for d in &stored.damaged {
            let _ = write!(
                h,
                "<li>damaged bench result {} (not shown): {}; {}</li>",
                esc(&d.path.display().to_string()),
                esc(&d.why),
                crate::results::DAMAGED_ADVICE
            );
        }
        h.push_str("</ul>");
    }
    if shown.is_empty() {
        let _ = write!(h, r#"<p class="no-bench">{}</p></section>"#, esc(NO_BENCH));
        return h;
    }
    h.push_str("<p>From the stored <code>drill bench</code> results, the latest of each scenario: both languages built as they ship, under the scenario's workload (open loop, constant rate), in interleaved rounds. Latency is corrected (from each request's intended start); each figure is the median over rounds, the whiskers and lines show every round.</p>");
    for scenario in shown {
        let _ = write!(h, "<h3>{}</h3>", esc(scenario));
        if let Some((r, others)) = latest.get(scenario) {
            about(&mut h, r, *others);
            h.push_str(&charts(r, palette));
            if let Some(rows) = bench_table::build_rows(r) {
                h.push_str(&table(&rows, "bench-build"));
            }
            for s in &r.summary {
                h.push_str(&table(&bench_table::rows(r, s), "bench"));
            }
            notes(&mut h, bench_table::notes(r));
        }
        if let Some((r, others)) = sweeps.get(scenario) {
            h.push_str("<h4>Saturation sweep: the highest rate each language sustains</h4>");
            about(&mut h, r, *others);
            h.push_str(&sweep_chart(r, palette));
            notes(&mut h, bench_table::sweep_lines(r));
            if let Some(rows) = bench_table::sweep_rows(r) {
                h.push_str(&table(&rows, "sweep"));
            }
            notes(&mut h, bench_table::notes(r));
        }
    }
    h.push_str("</section>");
    h
}

/// What ran on what, the result's id and how many older ones are not shown.
fn about(h: &mut String, r: &BenchResult, others: usize) {
    h.push_str("<p>");
    for line in bench_table::preamble(r) {
        let _ = write!(h, "{}<br>", esc(&line));
    }
    let _ = write!(h, "result <code>{}</code>", esc(&r.id));
    if others > 0 {
        let _ = write!(
            h,
            " (the latest; {others} older result(s) of this kind for this scenario are not shown)"
        );
    }
    h.push_str("</p>");
}

fn notes(h: &mut String, notes: Vec<String>) {
    if !notes.is_empty() {
        h.push_str("<ul>");
        for n in notes {
            let _ = write!(h, "<li>{}</li>", esc(&n));
        }
        h.push_str("</ul>");
    }
}

/// A sweep's judged latency by rate, a line per language through its steps
/// in rate order.
fn sweep_chart(r: &BenchResult, palette: &Palette) -> String {
    let Some(sw) = &r.sweep else {
        return String::new();
    };
    let lines: Vec<Line> = sw
        .langs
        .iter()
        .filter(|l| !l.steps.is_empty())
        .map(|l| {
            let mut points: Vec<(f64, f64)> = l
                .steps
                .iter()
                .map(|s| (s.rate, s.point.latency_ms))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Line {
                lang: l.lang.clone(),
                points,
            }
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let (mut top_rate, mut top_ms) = (0.0f64, sw.judge.latency_ms);
    for p in lines.iter().flat_map(|l| &l.points) {
        top_rate = top_rate.max(p.0);
        top_ms = top_ms.max(p.1);
    }
    let x = Scale::for_max(top_rate);
    let title = format!(
        "Saturation sweep: corrected {} by rate (limit {} ms)",
        sw.judge.percentile,
        super::decision::plain(sw.judge.latency_ms)
    );
    figure(
        &title,
        &svg::line_chart(
            &title,
            "sweep",
            &lines,
            x.max,
            &x.ticks(),
            &Scale::for_max(top_ms * 1.35),
            [
                "rate (req/s)",
                &format!("{} latency (ms)", sw.judge.percentile),
            ],
            true,
            palette,
        ),
    )
}

/// How to read one step's wall times off a language's build figures.
type BuildStep = fn(&BuildFigures) -> &BuildStats;

fn langs(r: &BenchResult) -> Vec<&str> {
    r.languages.iter().map(|l| l.lang.as_str()).collect()
}

fn spread<'a>(s: &'a RateSummary, name: &str, lang: &str) -> Option<&'a Spread> {
    s.figures
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.by_lang.get(lang))
}

fn bar(lang: &str, s: &Spread) -> Bar {
    Bar {
        lang: lang.to_string(),
        median: s.median,
        min: s.min,
        max: s.max,
    }
}

/// The bars of one figure: a group per rate (or one group when the figure
/// does not depend on the rate).
fn bars_of(r: &BenchResult, name: &str, per_rate: bool) -> Vec<(String, Vec<Bar>)> {
    let summaries: Vec<&RateSummary> = if per_rate {
        r.summary.iter().collect()
    } else {
        r.summary.iter().take(1).collect()
    };
    summaries
        .into_iter()
        .map(|s| {
            let label = if per_rate {
                format!("at {} req/s", super::decision::plain(s.rate))
            } else {
                "all rounds".to_string()
            };
            let bars = langs(r)
                .into_iter()
                .filter_map(|l| spread(s, name, l).map(|x| bar(l, x)))
                .collect();
            (label, bars)
        })
        .filter(|(_, b): &(String, Vec<Bar>)| !b.is_empty())
        .collect()
}

fn max_of(groups: &[(String, Vec<Bar>)]) -> f64 {
    groups
        .iter()
        .flat_map(|(_, b)| b.iter().map(|x| x.max.max(x.median)))
        .fold(0.0, f64::max)
}

fn charts(r: &BenchResult, palette: &Palette) -> String {
    let mut h = String::from(r#"<div class="grid">"#);
    for s in &r.summary {
        let rate = super::decision::plain(s.rate);
        // Latency percentiles, one line per language.
        let lines: Vec<Line> = langs(r)
            .into_iter()
            .filter_map(|l| {
                let points: Vec<(f64, f64)> = PERCENTILES
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (_, name))| {
                        spread(s, name, l).map(|x| (i as f64 + 0.5, x.median))
                    })
                    .collect();
                (!points.is_empty()).then(|| Line {
                    lang: l.to_string(),
                    points,
                })
            })
            .collect();
        if !lines.is_empty() {
            let top = lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .fold(0.0, f64::max);
            let ticks: Vec<(f64, String)> = PERCENTILES
                .iter()
                .enumerate()
                .map(|(i, (label, _))| (i as f64 + 0.5, label.to_string()))
                .collect();
            let title =
                format!("Latency percentiles at {rate} req/s (corrected, median over rounds)");
            h.push_str(&figure(
                &title,
                &svg::line_chart(
                    &title,
                    "latency",
                    &lines,
                    PERCENTILES.len() as f64,
                    &ticks,
                    &Scale::for_max(top * 1.1),
                    ["percentile", "latency (ms)"],
                    true,
                    palette,
                ),
            ));
        }
        // RSS over time: every round of every language at this rate.
        let lines: Vec<Line> = r
            .runs
            .iter()
            .filter(|x| x.rate == s.rate && !x.resources.rss_mb_per_second.is_empty())
            .map(|x| Line {
                lang: x.lang.clone(),
                points: x
                    .resources
                    .rss_mb_per_second
                    .iter()
                    .enumerate()
                    .map(|(i, mb)| (i as f64 + 0.5, *mb))
                    .collect(),
            })
            .collect();
        if !lines.is_empty() {
            let secs = lines.iter().map(|l| l.points.len()).max().unwrap_or(1) as f64;
            let top = lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .fold(0.0, f64::max);
            let x = Scale::for_max(secs);
            let title = format!("RSS over time at {rate} req/s (MB, each round)");
            h.push_str(&figure(
                &title,
                &svg::line_chart(
                    &title,
                    "rss",
                    &lines,
                    x.max,
                    &x.ticks(),
                    // Headroom above the lines for the key.
                    &Scale::for_max(top * 1.35),
                    ["second of the measurement", "RSS (MB)"],
                    false,
                    palette,
                ),
            ));
        }
    }
    let mut bars = |title: &str, class: &str, groups: Vec<(String, Vec<Bar>)>, unit: &str| {
        if !groups.is_empty() {
            h.push_str(&figure(
                title,
                &svg::bar_chart(
                    title,
                    class,
                    &groups,
                    &Scale::for_max(max_of(&groups)),
                    unit,
                    palette,
                ),
            ));
        }
    };
    bars(
        "CPU per 1000 requests (ms, user + system)",
        "cpu",
        bars_of(r, "cpu_ms_per_1000_requests", true),
        "CPU ms per 1000 requests",
    );
    bars(
        "Startup to the first ready answer (ms)",
        "startup",
        bars_of(r, STARTUP_FIGURE, false),
        "startup (ms)",
    );
    if !r.build.is_empty() {
        let steps: [(&str, BuildStep); 3] = [
            ("clean build", |f| &f.clean_build.wall_s),
            ("incremental build", |f| &f.incremental_build.wall_s),
            ("visible tests", |f| &f.tests.wall_s),
        ];
        let groups: Vec<(String, Vec<Bar>)> = steps
            .iter()
            .map(|(name, get)| {
                let bars = r
                    .build
                    .iter()
                    .map(|(l, f)| {
                        let st = get(f);
                        Bar {
                            lang: l.clone(),
                            median: st.median,
                            min: st.min,
                            max: st.max,
                        }
                    })
                    .collect();
                (name.to_string(), bars)
            })
            .collect();
        bars(
            "Build and edit-test loop (wall seconds)",
            "builds",
            groups,
            "seconds",
        );
    }
    h.push_str("</div>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_bench_result_the_section_says_so_and_how_to_get_one() {
        let h = section(&Stored::default(), &[], &Palette::new(["go", "rust"]));
        assert!(h.contains(&esc(NO_BENCH)), "{h}");
        assert!(NO_BENCH.contains("drill bench SCENARIO"));
        assert!(!h.contains("<svg"));
    }
}
