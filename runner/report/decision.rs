//! The combined decision record: per scenario and language, what running it
//! costs a month (from the stored bench result) and what debugging it costs
//! a month (from the attempts' time-to-fix), and which of the workload's
//! limits each language meets. Model and defaults: docs/report.md.
//!
//! The runtime model, plainly: one instance serves the bench rate; its
//! memory is the median over rounds of the sampled peak RSS; its CPU is the
//! median CPU per 1,000 requests at that rate (so cores busy = CPU per
//! request × rate). A month is 730 hours. Priced per resource:
//! instances × (GB × price per GB-month + cores × 730 × price per
//! CPU-hour). In nodes: instances × the larger of GB / node GB and
//! cores / node cores (whichever runs out first), × price per node-month.
//! Debugging: incidents per month × the Kaplan–Meier median time-to-fix of
//! the scenario's attempts (hours) × engineers per incident × hourly rate,
//! with the median's confidence interval priced the same way.

use serde::Serialize;

use crate::bench::compare::Ratio;
use crate::bench::scenario::{BenchResult, RateSummary};
use crate::stats::km::Time;
use crate::stats::{Cell, Comparison, StatsReport, Verdict};

/// Hours in a month (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;
pub const DEFAULT_INSTANCES: f64 = 10.0;
/// A general-purpose node of 4 cores and 16 GB, by the month.
pub const DEFAULT_NODE_MONTH: f64 = 140.0;
pub const DEFAULT_NODE_CORES: f64 = 4.0;
pub const DEFAULT_NODE_MEMORY_GB: f64 = 16.0;
/// Round figures near public per-GB and per-vCPU container prices.
pub const DEFAULT_GB_MONTH: f64 = 3.25;
pub const DEFAULT_CPU_HOUR: f64 = 0.04;
pub const DEFAULT_INCIDENTS_PER_MONTH: f64 = 2.0;

/// An input of the model and whether it is the documented default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Input {
    pub value: f64,
    pub default: bool,
}

impl Input {
    /// `given`, else `default` (marked so).
    pub fn or(given: Option<f64>, default: f64) -> Input {
        match given {
            Some(value) => Input {
                value,
                default: false,
            },
            None => Input {
                value: default,
                default: true,
            },
        }
    }
}

/// Everything the bill is priced with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    pub instances: Input,
    pub node_month: Input,
    pub node_cores: Input,
    pub node_memory_gb: Input,
    pub gb_month: Input,
    pub cpu_hour: Input,
    pub incidents_per_month: Input,
    pub hourly_rate: Input,
    pub engineers_per_incident: Input,
}

impl Default for Prices {
    fn default() -> Prices {
        Prices {
            instances: Input::or(None, DEFAULT_INSTANCES),
            node_month: Input::or(None, DEFAULT_NODE_MONTH),
            node_cores: Input::or(None, DEFAULT_NODE_CORES),
            node_memory_gb: Input::or(None, DEFAULT_NODE_MEMORY_GB),
            gb_month: Input::or(None, DEFAULT_GB_MONTH),
            cpu_hour: Input::or(None, DEFAULT_CPU_HOUR),
            incidents_per_month: Input::or(None, DEFAULT_INCIDENTS_PER_MONTH),
            hourly_rate: Input::or(None, crate::stats::DEFAULT_HOURLY_RATE),
            engineers_per_incident: Input::or(None, 1.0),
        }
    }
}

impl Prices {
    /// (what, the option that sets it, its value) in the order printed.
    pub fn rows(&self) -> Vec<(&'static str, &'static str, Input)> {
        vec![
            ("instances", "--instances", self.instances),
            ("price per node-month", "--node-cost", self.node_month),
            ("cores per node", "--node-cores", self.node_cores),
            (
                "memory per node (GB)",
                "--node-memory-gb",
                self.node_memory_gb,
            ),
            ("price per GB-month", "--gb-month", self.gb_month),
            ("price per CPU-hour", "--cpu-hour", self.cpu_hour),
            (
                "incidents per month",
                "--incidents-per-month",
                self.incidents_per_month,
            ),
            ("price per engineer-hour", "--hourly-rate", self.hourly_rate),
            (
                "engineers per incident",
                "--engineers-per-incident",
                self.engineers_per_incident,
            ),
        ]
    }
}

/// One language's runtime bill at the bench rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runtime {
    /// Requests per second per instance (the bench rate).
    pub rate: f64,
    /// Median over rounds of the sampled peak RSS, MB (1 GB = 1024 MB).
    pub rss_mb: f64,
    pub cpu_ms_per_1000_requests: f64,
    /// Cores busy per instance at the rate.
    pub cores: f64,
    /// All instances' memory, GB, and cores.
    pub total_gb: f64,
    pub total_cores: f64,
    pub memory_month: f64,
    pub cpu_month: f64,
    /// `memory_month + cpu_month`: the monthly runtime cost.
    pub month: f64,
    /// Nodes the instances fill (fractional), whichever resource runs out first.
    pub nodes: f64,
    pub nodes_month: f64,
}

/// The runtime bill of `instances` instances of one language.
pub fn runtime(rss_mb: f64, cpu_ms_per_1000_requests: f64, rate: f64, p: &Prices) -> Runtime {
    let n = p.instances.value;
    let gb = rss_mb / 1024.0;
    let cores = cpu_ms_per_1000_requests / 1000.0 * rate / 1000.0;
    let memory_month = n * gb * p.gb_month.value;
    let cpu_month = n * cores * HOURS_PER_MONTH * p.cpu_hour.value;
    let per_node = |need: f64, has: f64| if has > 0.0 { need / has } else { 0.0 };
    let nodes = n * per_node(gb, p.node_memory_gb.value).max(per_node(cores, p.node_cores.value));
    Runtime {
        rate,
        rss_mb,
        cpu_ms_per_1000_requests,
        cores,
        total_gb: n * gb,
        total_cores: n * cores,
        memory_month,
        cpu_month,
        month: memory_month + cpu_month,
        nodes,
        nodes_month: nodes * p.node_month.value,
    }
}

/// One language's debugging bill from its attempts on the scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Debugging {
    pub attempts: usize,
    pub fixed: usize,
    /// Kaplan–Meier median time-to-fix, seconds.
    pub median_s: Time,
    /// Its interval; none below two attempts.
    pub median_ci_s: Option<[Time; 2]>,
    /// incidents × median hours × engineers × rate.
    pub month: Time,
    pub month_ci: Option<[Time; 2]>,
}

/// The debugging bill of a cell (`None`: no attempts).
pub fn debugging(cell: Option<&Cell>, p: &Prices) -> Debugging {
    let per_s =
        p.incidents_per_month.value * p.engineers_per_incident.value * p.hourly_rate.value / 3600.0;
    match cell {
        None => Debugging {
            attempts: 0,
            fixed: 0,
            median_s: Time::Unknown,
            median_ci_s: None,
            month: Time::Unknown,
            month_ci: None,
        },
        Some(c) => Debugging {
            attempts: c.attempts,
            fixed: c.fixed,
            median_s: c.time_to_fix.median,
            median_ci_s: c.time_to_fix.median_ci,
            month: c.time_to_fix.median.scaled(per_s),
            month_ci: c
                .time_to_fix
                .median_ci
                .map(|[lo, hi]| [lo.scaled(per_s), hi.scaled(per_s)]),
        },
    }
}

/// A limit of the workload and how each language's median stands to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitCheck {
    /// `p95 ≤ 50 ms`.
    pub limit: String,
    /// Per language (in the compared order): its median and whether it is within.
    pub median: [Option<f64>; 2],
    pub met: [Option<bool>; 2],
}

/// One scenario, both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioBill {
    pub scenario: String,
    /// The bench result the runtime side comes from.
    pub bench_id: Option<String>,
    pub languages: [String; 2],
    /// Both languages' runtime bill (none without a bench result for both).
    pub runtime: Option<[Runtime; 2]>,
    /// Second over first, with the bench's paired bootstrap interval.
    pub memory_ratio: Option<Ratio>,
    pub cpu_ratio: Option<Ratio>,
    pub limits: Vec<LimitCheck>,
    pub debugging: [Debugging; 2],
    /// The scenario's time-to-fix comparison (second over first).
    pub debugging_comparison: Option<Comparison>,
    /// The latest saturation sweep's outcome per language, in words.
    pub saturation: Vec<String>,
    /// What a team lead reads.
    pub summary: Vec<String>,
}

/// The rate the bill is priced at: the highest rate both languages ran.
fn priced_rate<'a>(r: &'a BenchResult, langs: &[String; 2]) -> Option<&'a RateSummary> {
    r.summary
        .iter()
        .filter(|s| {
            let f = s.figures.iter().find(|f| f.name == "rss_peak_mb");
            f.is_some_and(|f| langs.iter().all(|l| f.by_lang.contains_key(l)))
        })
        .max_by(|a, b| a.rate.total_cmp(&b.rate))
}

/// `p95 ≤ 50 ms` for a limited figure.
fn limit_words(figure: &str, max: f64) -> String {
    let n = plain;
    match figure {
        "latency_corrected_p95_ms" => format!("p95 ≤ {} ms", n(max)),
        "latency_corrected_p99_ms" => format!("p99 ≤ {} ms", n(max)),
        "rss_peak_mb" => format!("peak RSS ≤ {} MB", n(max)),
        crate::bench::scenario::STARTUP_FIGURE => format!("startup ≤ {} ms", n(max)),
        "error_rate" => format!("errors ≤ {}%", n(max * 100.0)),
        other => format!("{other} ≤ {}", n(max)),
    }
}

/// The bill of one scenario: `bench` its latest bench result, `stats` the
/// analysis grouped by scenario.
pub fn bill(
    scenario: &str,
    bench: Option<&BenchResult>,
    sweep: Option<&BenchResult>,
    stats: &StatsReport,
    p: &Prices,
) -> ScenarioBill {
    let langs = stats.options.compare.clone();
    let cell = |l: &str| {
        stats
            .cells
            .iter()
            .find(|c| c.group == scenario && c.language == l)
    };
    let debugging = [debugging(cell(&langs[0]), p), debugging(cell(&langs[1]), p)];
    let debugging_comparison = stats
        .comparisons
        .iter()
        .find(|c| c.group == scenario)
        .cloned();
    let mut b = ScenarioBill {
        scenario: scenario.to_string(),
        bench_id: bench.map(|r| r.id.clone()),
        languages: langs.clone(),
        runtime: None,
        memory_ratio: None,
        cpu_ratio: None,
        limits: Vec::new(),
        debugging,
        debugging_comparison,
        saturation: sweep
            .map(crate::bench::table::sweep_lines)
            .unwrap_or_default(),
        summary: Vec::new(),
    };
    if let Some(s) = bench.and_then(|r| priced_rate(r, &langs)) {
        let fig = |name: &str| s.figures.iter().find(|f| f.name == name);
        let median =
            |name: &str, l: &str| fig(name).and_then(|f| f.by_lang.get(l)).map(|x| x.median);
        let rt = |l: &str| -> Option<Runtime> {
            Some(runtime(
                median("rss_peak_mb", l)?,
                median("cpu_ms_per_1000_requests", l)?,
                s.rate,
                p,
            ))
        };
        if let (Some(a), Some(c)) = (rt(&langs[0]), rt(&langs[1])) {
            b.runtime = Some([a, c]);
        }
        // The bench stores its ratio as its own second over first; only use
        // it when that is the order compared here.
        let bench_order = bench
            .map(|r| {
                r.languages
                    .iter()
                    .map(|l| l.lang.as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if bench_order == [langs[0].as_str(), langs[1].as_str()] {
            b.memory_ratio = fig("rss_peak_mb").and_then(|f| f.ratio.clone());
            b.cpu_ratio = fig("cpu_ms_per_1000_requests").and_then(|f| f.ratio.clone());
        }
        for f in &s.figures {
            if let Some(l) = &f.limit {
                b.limits.push(LimitCheck {
                    limit: limit_words(&f.name, l.max),
                    median: [0, 1].map(|i| f.by_lang.get(&langs[i]).map(|x| x.median)),
                    met: [0, 1].map(|i| l.met.get(&langs[i]).copied()),
                });
            }
        }
    }
    b.summary = summary(&b, stats, p);
    b
}

/// An amount of money: cents below 100, whole units above.
pub fn money(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

pub use crate::bench::table::plain;

fn money_time(t: Time) -> String {
    match t {
        Time::At(v) => money(v),
        Time::After(v) => format!("more than {}", money(v)),
        Time::Unknown => "unknown".into(),
    }
}

/// A time-to-fix: minutes under two hours, else hours.
fn hours(t: Time) -> String {
    let f = |s: f64| {
        if s < 7200.0 {
            format!("{:.0} min", s / 60.0)
        } else {
            format!("{:.1} h", s / 3600.0)
        }
    };
    match t {
        Time::At(s) => f(s),
        Time::After(s) => format!("more than {}", f(s)),
        Time::Unknown => "unknown".into(),
    }
}

/// `[0.35, 0.36]`, or nothing without an interval.
fn interval(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!(
            " [{}, {}]",
            crate::export::factor(lo),
            crate::export::factor(hi)
        ),
        _ => String::new(),
    }
}

fn marked(what: &str, i: Input) -> String {
    if i.default {
        format!("{what} (default)")
    } else {
        what.to_string()
    }
}

/// The sentences of one scenario's bill.
fn summary(b: &ScenarioBill, stats: &StatsReport, p: &Prices) -> Vec<String> {
    let [la, lb] = &b.languages;
    let mut out = Vec::new();
    let n = p.instances.value;
    match &b.runtime {
        None => out.push(format!(
            "Runtime: not measured for both {la} and {lb}: run `drill bench {}` to price it.",
            b.scenario
        )),
        Some([ra, rb]) => {
            let ratio = |r: &Option<Ratio>, x: f64, y: f64| match r {
                Some(r) => format!(
                    "{}×{}",
                    crate::export::factor(r.ratio),
                    interval(r.lo, r.hi)
                ),
                None if x > 0.0 => format!("{}×", crate::export::factor(y / x)),
                None => "—".into(),
            };
            let less_more = |d: f64| if d <= 0.0 { "less" } else { "more" };
            let dgb = rb.total_gb - ra.total_gb;
            let dcores = rb.total_cores - ra.total_cores;
            let dmonth = rb.month - ra.month;
            let dnodes = rb.nodes - ra.nodes;
            out.push(format!(
                "{lb} uses {} the memory and {} the CPU per request of {la} (ratios {lb}/{la} of the medians over rounds, with 95% bootstrap intervals). At {} of {} req/s each, that is {:.2} GB {} memory and {:.2} cores {} CPU: {} {} a month priced per GB-month and CPU-hour ({la} {}, {lb} {}), or {:.2} {} nodes of {} cores / {} GB ({la} {:.2}, {lb} {:.2}; {} a month per node).",
                ratio(&b.memory_ratio, ra.rss_mb, rb.rss_mb),
                ratio(&b.cpu_ratio, ra.cpu_ms_per_1000_requests, rb.cpu_ms_per_1000_requests),
                marked(&format!("{} instances", plain(n)), p.instances),
                plain(ra.rate),
                dgb.abs(),
                less_more(dgb),
                dcores.abs(),
                less_more(dcores),
                money(dmonth.abs()),
                less_more(dmonth),
                money(ra.month),
                money(rb.month),
                dnodes.abs(),
                if dnodes <= 0.0 { "fewer" } else { "more" },
                plain(p.node_cores.value),
                plain(p.node_memory_gb.value),
                ra.nodes,
                rb.nodes,
                money(p.node_month.value)
            ));
        }
    }
    let [da, db] = &b.debugging;
    let rate_words = format!(
        "{} × {} per engineer-hour × {}",
        marked(
            &format!("{} incidents a month", plain(p.incidents_per_month.value)),
            p.incidents_per_month
        ),
        marked(&plain(p.hourly_rate.value), p.hourly_rate),
        marked(
            &format!("{} engineer(s)", plain(p.engineers_per_incident.value)),
            p.engineers_per_incident
        )
    );
    let side = |lang: &str, d: &Debugging| -> String {
        match (d.attempts, d.month_ci) {
            (0, _) => format!("{lang}: no attempts on this scenario's drills yet"),
            (k, None) => format!(
                "{lang}: {} a month (median time-to-fix {}; {k} attempt(s), too few for an interval)",
                money_time(d.month),
                hours(d.median_s)
            ),
            (k, Some([lo, hi])) => format!(
                "{lang}: {} [{}, {}] a month (median time-to-fix {}, {k} attempts)",
                money_time(d.month),
                money_time(lo),
                money_time(hi),
                hours(d.median_s)
            ),
        }
    };
    let compared = match &b.debugging_comparison {
        None => format!("Debugging: no attempts to compare on {}.", b.scenario),
        Some(c) if c.verdict == Verdict::TooThin => format!(
            "Debugging: too few attempts to compare ({} vs {}; at least {} per language are needed for a test to reach p < {}).",
            c.n[0],
            c.n[1],
            crate::stats::min_n_for(stats.options.alpha),
            stats.options.alpha
        ),
        Some(c) => format!(
            "Debugging takes {} as long in {lb} as in {la} (median time-to-fix; verdict: {}).",
            crate::export::ratio_with_ci(c, stats.options.conf),
            crate::export::verdict(c, &b.languages)
        ),
    };
    out.push(format!(
        "{compared} At {rate_words}: {}; {}.",
        side(la, da),
        side(lb, db)
    ));
    if let Some([ra, rb]) = &b.runtime {
        let total = |r: &Runtime, d: &Debugging| match d.month {
            Time::At(v) => money(r.month + v),
            Time::After(v) => format!("more than {}", money(r.month + v)),
            Time::Unknown => format!("{} + debugging (unknown)", money(r.month)),
        };
        out.push(format!(
            "Together, a month: {la} {}, {lb} {} (runtime priced per resource + debugging at the median).",
            total(ra, da),
            total(rb, db)
        ));
    }
    if !b.saturation.is_empty() {
        out.push(format!(
            "Saturation (the latest sweep): {}.",
            b.saturation.join("; ")
        ));
    }
    if !b.limits.is_empty() {
        let mut parts = Vec::new();
        for (i, lang) in b.languages.iter().enumerate() {
            let missed: Vec<String> = b
                .limits
                .iter()
                .filter(|l| l.met[i] == Some(false))
                .map(|l| {
                    format!(
                        "{} (median {})",
                        l.limit,
                        l.median[i].map_or("—".into(), crate::bench::table::num)
                    )
                })
                .collect();
            let met = b.limits.iter().filter(|l| l.met[i] == Some(true)).count();
            parts.push(if missed.is_empty() {
                format!("{lang} meets all {met}")
            } else {
                format!("{lang} misses {} and meets {met}", missed.join(", "))
            });
        }
        out.push(format!(
            "Limits of the workload ({}): {}.",
            b.limits
                .iter()
                .map(|l| l.limit.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            parts.join("; ")
        ));
    }
    out
}

/// The bill of every scenario with a bench result or attempts (`wanted`
/// limits them, when given).
pub fn bills(
    stored: &crate::bench::stored::Stored,
    stats: &StatsReport,
    p: &Prices,
    wanted: &[String],
) -> Vec<ScenarioBill> {
    let (latest, sweeps) = (stored.latest_per_scenario(), stored.latest_sweeps());
    let mut names: Vec<&str> = latest.keys().chain(sweeps.keys()).copied().collect();
    names.extend(
        stats
            .cells
            .iter()
            .map(|c| c.group.as_str())
            .filter(|g| *g != "all"),
    );
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter(|n| wanted.is_empty() || wanted.iter().any(|w| w == n))
        .map(|n| {
            let fixed = latest.get(n).map(|(r, _)| *r);
            let sweep = sweeps.get(n).map(|(r, _)| *r);
            bill(n, fixed, sweep, stats, p)
        })
        .collect()
}

/// The combined part of the decision record.
pub fn html(bills: &[ScenarioBill], p: &Prices, any_bench: bool) -> String {
    use super::{esc, table};
    use std::fmt::Write as _;
    let mut h = String::from(
        r#"<div class="bill"><h3>The monthly bill per scenario: running it and debugging it</h3>"#,
    );
    if !any_bench {
        let _ = write!(h, r#"<p class="no-bench">{}</p>"#, esc(super::NO_BENCH));
    }
    let _ = write!(
        h,
        "<p>Runtime: one instance serves the bench rate; its memory is the median peak RSS over rounds, its CPU the median CPU per 1,000 requests times that rate (cores busy). A month is {HOURS_PER_MONTH:.0} hours. Priced per resource: instances × (GB × price per GB-month + cores × {HOURS_PER_MONTH:.0} × price per CPU-hour); in nodes: instances × the larger of GB / node GB and cores / node cores. Debugging: incidents per month × the median time-to-fix of the scenario's attempts × engineers × price per engineer-hour, with the median's confidence interval priced the same way. Inputs (pass your own; a default is marked):</p>"
    );
    let mut rows = vec![vec![
        "input".to_string(),
        "option".to_string(),
        "value".to_string(),
        "".to_string(),
    ]];
    for (what, opt, i) in p.rows() {
        rows.push(vec![
            what.to_string(),
            opt.to_string(),
            plain(i.value),
            if i.default { "default" } else { "given" }.to_string(),
        ]);
    }
    h.push_str(&table(&rows, "prices"));
    for b in bills {
        let _ = write!(h, r#"<h4>{}</h4><ul class="plain">"#, esc(&b.scenario));
        for line in &b.summary {
            let _ = write!(h, "<li>{}</li>", esc(line));
        }
        h.push_str("</ul>");
        h.push_str(&table(&bill_rows(b), "bill"));
    }
    h.push_str("</div>");
    h
}

/// One scenario's figures side by side (header first).
pub fn bill_rows(b: &ScenarioBill) -> Vec<Vec<String>> {
    let [la, lb] = &b.languages;
    let mut rows = vec![vec!["per month".to_string(), la.clone(), lb.clone()]];
    let n = crate::bench::table::num;
    if let Some([ra, rb]) = &b.runtime {
        let mut row = |what: &str, f: &dyn Fn(&Runtime) -> String| {
            rows.push(vec![what.to_string(), f(ra), f(rb)]);
        };
        row("peak RSS per instance (MB)", &|r| n(r.rss_mb));
        row("cores busy per instance", &|r| format!("{:.3}", r.cores));
        row("memory, priced per GB-month", &|r| money(r.memory_month));
        row("CPU, priced per CPU-hour", &|r| money(r.cpu_month));
        row("runtime", &|r| money(r.month));
        row("nodes filled", &|r| format!("{:.2}", r.nodes));
        row("runtime in nodes", &|r| money(r.nodes_month));
    } else {
        rows.push(vec![
            "runtime".into(),
            "not measured".into(),
            "not measured".into(),
        ]);
    }
    let debug = |d: &Debugging| match d.month_ci {
        Some([lo, hi]) => format!(
            "{} [{}, {}]",
            money_time(d.month),
            money_time(lo),
            money_time(hi)
        ),
        None if d.attempts == 0 => "no attempts".into(),
        None => format!(
            "{} ({} attempt(s): no interval)",
            money_time(d.month),
            d.attempts
        ),
    };
    let [da, db] = &b.debugging;
    rows.push(vec![
        "median time-to-fix".into(),
        hours(da.median_s),
        hours(db.median_s),
    ]);
    rows.push(vec!["debugging".into(), debug(da), debug(db)]);
    for l in &b.limits {
        let mark = |i: usize| match l.met[i] {
            Some(true) => format!("met ({})", l.median[i].map_or("—".into(), n)),
            Some(false) => format!("MISSED ({})", l.median[i].map_or("—".into(), n)),
            None => "—".into(),
        };
        rows.push(vec![format!("limit {}", l.limit), mark(0), mark(1)]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        Prices {
            instances: Input::or(Some(80.0), DEFAULT_INSTANCES),
            gb_month: Input::or(Some(4.0), DEFAULT_GB_MONTH),
            cpu_hour: Input::or(Some(0.05), DEFAULT_CPU_HOUR),
            node_month: Input::or(Some(200.0), DEFAULT_NODE_MONTH),
            node_cores: Input::or(Some(4.0), DEFAULT_NODE_CORES),
            node_memory_gb: Input::or(Some(8.0), DEFAULT_NODE_MEMORY_GB),
            incidents_per_month: Input::or(Some(3.0), DEFAULT_INCIDENTS_PER_MONTH),
            hourly_rate: Input::or(Some(120.0), 100.0),
            engineers_per_incident: Input::or(Some(2.0), 1.0),
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    #[test]
    fn runtime_cost_is_memory_and_cpu_at_the_bench_rate_times_the_instances() {
        // 512 MB = 0.5 GB; 400 ms per 1000 requests at 500 req/s = 0.2 cores.
        let r = runtime(512.0, 400.0, 500.0, &prices());
        close(r.cores, 0.2);
        close(r.total_gb, 40.0); // 80 × 0.5
        close(r.total_cores, 16.0); // 80 × 0.2
        close(r.memory_month, 160.0); // 40 GB × 4
        close(r.cpu_month, 584.0); // 16 cores × 730 h × 0.05
        close(r.month, 744.0);
        // Memory runs out first: 0.5 / 8 = 0.0625 of a node, CPU 0.2 / 4 = 0.05.
        close(r.nodes, 5.0); // 80 × 0.0625
        close(r.nodes_month, 1000.0); // 5 × 200
                                      // CPU-bound: 64 MB, 1000 ms per 1000 requests at 1000 req/s = 1 core.
        let c = runtime(64.0, 1000.0, 1000.0, &prices());
        close(c.nodes, 20.0); // 80 × 1 / 4
    }

    #[test]
    fn debugging_cost_prices_the_median_and_its_interval() {
        use crate::stats::{Cell, Distribution};
        let dist = Distribution {
            median: Time::At(1800.0),
            median_ci: Some([Time::At(1200.0), Time::After(3600.0)]),
            q1: Time::At(900.0),
            q3: Time::At(2400.0),
            p90: Time::At(3000.0),
            fraction: 0.8,
        };
        let cell = Cell {
            group: "edge-proxy".into(),
            language: "go".into(),
            attempts: 10,
            engineers: 5,
            fixed: 8,
            abandoned: 2,
            timed_out: 0,
            open: 0,
            censored_fraction: 0.2,
            time_to_fix: dist.clone(),
            time_to_find: dist,
            test_first: 0,
            time_to_test: None,
            test_share_of_fix: None,
            submits_per_attempt: 1.0,
            hints_per_attempt: 0.0,
        };
        let d = debugging(Some(&cell), &prices());
        // 3 incidents × 0.5 h × 2 engineers × 120 = 360.
        assert_eq!(d.month, Time::At(360.0));
        // [20 min, more than 1 h] → [240, more than 720].
        assert_eq!(d.month_ci, Some([Time::At(240.0), Time::After(720.0)]));
        let none = debugging(None, &prices());
        assert_eq!((none.attempts, none.month), (0, Time::Unknown));
    }

    #[test]
    fn an_input_not_given_is_the_default_and_says_so() {
        let p = Prices::default();
        assert!(p.rows().iter().all(|(_, _, i)| i.default));
        assert_eq!(p.instances.value, DEFAULT_INSTANCES);
        let given = Input::or(Some(80.0), DEFAULT_INSTANCES);
        assert!(!given.default);
        assert_eq!(marked("80 instances", given), "80 instances");
        assert_eq!(
            marked("10 instances", p.instances),
            "10 instances (default)"
        );
    }

    #[test]
    fn a_scenario_with_too_few_attempts_says_so_instead_of_an_interval() {
        use crate::clock::Timestamp;
        use crate::stats::dataset::{Dataset, Observation, Outcome};
        let obs = |i: i64, lang: &str, t: f64| Observation {
            id: format!("a{i}"),
            engineer: format!("e{i}"),
            drill: "edge-proxy/lost-update".into(),
            class: "lost-update".into(),
            language: lang.into(),
            started: Timestamp::from_unix_ms(1_700_000_000_000 + i * 1000),
            outcome: Outcome::Fixed,
            time_to_find_s: None,
            time_to_test_s: None,
            time_s: t,
            submits: 1,
            hints: 0,
            source: String::new(),
            flags: Default::default(),
        };
        let ds = Dataset {
            observations: vec![
                obs(1, "go", 1800.0),
                obs(2, "rust", 900.0),
                obs(3, "rust", 2700.0),
            ],
            ..Dataset::default()
        };
        let mut o = crate::stats::Options::new(Timestamp::from_unix_ms(1_800_000_000_000));
        o.group_by = crate::stats::GroupBy::Scenario;
        let stats = crate::stats::analyze(&ds, &o);
        let b = bill("edge-proxy", None, None, &stats, &prices());
        assert!(b.runtime.is_none());
        // go: 3 incidents × 0.5 h × 2 engineers × 120 = 360, from one attempt.
        assert_eq!(b.debugging[0].month, Time::At(360.0));
        assert_eq!(b.debugging[0].month_ci, None);
        let text = b.summary.join(" ");
        for want in [
            "Runtime: not measured for both go and rust: run `drill bench edge-proxy` to price it.",
            "Debugging: too few attempts to compare (1 vs 2;",
            "go: 360 a month (median time-to-fix 30 min; 1 attempt(s), too few for an interval)",
            "At 3 incidents a month × 120 per engineer-hour × 2 engineer(s):",
        ] {
            assert!(text.contains(want), "{want:?} not in {text}");
        }
    }
}
