//! Time-to-find / time-to-fix statistics: from attempts to the numbers a
//! team decides with (`drill stats`, `drill report`).
//!
//! - `dataset` reads and merges attempts; `km` (Kaplan–Meier), `hypothesis`
//!   (rank tests, log-rank, Holm), `bootstrap` and `dist` are the methods;
//! - this module groups attempts into cells (group × language), compares the
//!   two languages per group and overall, and writes the warnings a careful
//!   statistician would print. The result, [`StatsReport`], is what every
//!   exporter and the HTML report render; its JSON form is specified in
//!   `docs/stats-format.md`.
//!
//! Censoring: abandoned, timed-out and still-open attempts are right-censored
//! observations. They stay in every estimate (Kaplan–Meier, log-rank; the
//! rank tests rank them after every fix) and are never dropped nor averaged
//! in at a cap.

pub mod bootstrap;
pub mod dataset;
pub mod dist;
pub mod hypothesis;
pub mod km;
pub mod rng;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::clock::Timestamp;
use dataset::{Dataset, Observation, Outcome};
use hypothesis::{LogRank, MannWhitney, Shift, SignedRank};
use km::{KaplanMeier, Time};

pub const FORMAT_NAME: &str = "drillkit-stats";
/// Bumped on any change a version-1 reader would misread (docs/stats-format.md).
pub const FORMAT_VERSION: u32 = 1;

/// What the rows are split by (besides language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Class,
    Engineer,
    Scenario,
    Drill,
}

impl GroupBy {
    pub fn key(self, o: &Observation) -> &str {
        match self {
            GroupBy::Class => &o.class,
            GroupBy::Engineer => &o.engineer,
            GroupBy::Scenario => o.scenario(),
            GroupBy::Drill => &o.drill,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Class => "class",
            GroupBy::Engineer => "engineer",
            GroupBy::Scenario => "scenario",
            GroupBy::Drill => "drill",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Options {
    pub group_by: GroupBy,
    /// The two languages compared: ratios are `compare[1] / compare[0]`.
    pub compare: [String; 2],
    pub conf: f64,
    pub alpha: f64,
    pub resamples: u32,
    pub seed: u64,
    pub hourly_rate: Option<f64>,
    pub engineers_per_incident: f64,
    /// The time open attempts are censored at.
    pub now: Timestamp,
}

impl Options {
    pub fn new(now: Timestamp) -> Options {
        Options {
            group_by: GroupBy::Class,
            compare: ["go".to_string(), "rust".to_string()],
            conf: 0.95,
            alpha: 0.05,
            resamples: bootstrap::DEFAULT_RESAMPLES,
            seed: bootstrap::DEFAULT_SEED,
            hourly_rate: None,
            engineers_per_incident: 1.0,
            now,
        }
    }
}

/// Median, quartiles and p90 of a censored time, from Kaplan–Meier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub median: Time,
    pub median_ci: [Time; 2],
    pub q1: Time,
    pub q3: Time,
    pub p90: Time,
    /// Fraction with the event (fixed / found) by the end of follow-up.
    pub fraction: f64,
}

impl Distribution {
    fn of(km: &KaplanMeier, conf: f64) -> Distribution {
        let (lo, hi) = km.quantile_ci(0.5, conf);
        Distribution {
            median: km.quantile(0.5),
            median_ci: [lo, hi],
            q1: km.quantile(0.25),
            q3: km.quantile(0.75),
            p90: km.quantile(0.9),
            fraction: if km.n == 0 {
                0.0
            } else {
                1.0 - km.steps.last().map_or(1.0, |s| s.surv)
            },
        }
    }
}

/// One group × language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub group: String,
    pub language: String,
    pub attempts: usize,
    pub engineers: usize,
    pub fixed: usize,
    pub abandoned: usize,
    pub timed_out: usize,
    pub open: usize,
    pub censored_fraction: f64,
    pub time_to_fix: Distribution,
    pub time_to_find: Distribution,
    pub submits_per_attempt: f64,
    pub hints_per_attempt: f64,
}

/// A ratio of medians that may only be bounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Ratio {
    Value(f64),
    /// More than this (the numerator's median was not reached).
    Above(f64),
    /// Less than this (the denominator's median was not reached).
    Below(f64),
    /// Neither median reached.
    Undefined,
}

impl Ratio {
    fn of(a: Time, b: Time) -> Ratio {
        match (a, b) {
            (Time::At(a), Time::At(b)) if a > 0.0 => Ratio::Value(b / a),
            (Time::At(a), Time::After(b)) if a > 0.0 => Ratio::Above(b / a),
            (Time::After(a), Time::At(b)) if a > 0.0 => Ratio::Below(b / a),
            _ => Ratio::Undefined,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// Engineers who did this group in both languages.
    pub pairs: usize,
    /// Median over engineers of ln(time b / time a) (give-ups as +∞).
    pub median_log_ratio: f64,
    pub test: SignedRank,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The first language is clearly cheaper here.
    FirstCheaper,
    SecondCheaper,
    /// Enough data for a test, and no clear difference.
    NoClearDifference,
    /// Too little data: no test here could reach significance.
    TooThin,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The group, or `all` for the overall comparison.
    pub group: String,
    pub n: [usize; 2],
    pub median: [Time; 2],
    /// median(second) / median(first), time-to-fix.
    pub ratio: Ratio,
    pub ratio_ci: bootstrap::RatioCi,
    /// Shift second − first in seconds (give-ups rank last).
    pub hodges_lehmann: Shift,
    pub mann_whitney: MannWhitney,
    /// The smallest p any two-sided rank test could give with these sizes.
    pub min_attainable_p: f64,
    pub log_rank: LogRank,
    /// Holm-adjusted log-rank p across the groups (None for `all`).
    pub log_rank_p_holm: Option<f64>,
    pub mann_whitney_p_holm: Option<f64>,
    pub paired: Option<Paired>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    SmallSample,
    HeavyCensoring,
    OrderEffect,
    UnevenHints,
    Outlier,
    DamagedRecords,
    OpenAttempts,
    MissingLanguage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub group: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    pub group: String,
    pub language: String,
    /// Cost of a median incident: median time-to-fix × rate × engineers.
    pub median_cost: Time,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    pub hourly_rate: f64,
    pub engineers_per_incident: f64,
    pub rows: Vec<CostRow>,
    /// Per group: cost(second) − cost(first), when both medians are reached.
    pub difference: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub results_dirs: Vec<String>,
    pub attempts: usize,
    pub engineers: usize,
    pub damaged: Vec<crate::results::Damaged>,
    pub duplicates: usize,
    pub test_clock_excluded: usize,
    pub filtered_out: usize,
    pub first_started: Option<Timestamp>,
    pub last_started: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsReport {
    pub format: &'static str,
    pub format_version: u32,
    pub options: Options,
    pub inputs: Inputs,
    pub cells: Vec<Cell>,
    pub comparisons: Vec<Comparison>,
    pub cost: Option<Cost>,
    pub warnings: Vec<Warning>,
}

fn cell(group: &str, language: &str, obs: &[&Observation], conf: f64) -> Cell {
    let count = |o: Outcome| obs.iter().filter(|x| x.outcome == o).count();
    let fix: Vec<_> = obs.iter().map(|o| o.fix_obs()).collect();
    let find: Vec<_> = obs.iter().map(|o| o.find_obs()).collect();
    let n = obs.len().max(1) as f64;
    let fixed = count(Outcome::Fixed);
    Cell {
        group: group.to_string(),
        language: language.to_string(),
        attempts: obs.len(),
        engineers: obs
            .iter()
            .map(|o| &o.engineer)
            .collect::<BTreeSet<_>>()
            .len(),
        fixed,
        abandoned: count(Outcome::Abandoned),
        timed_out: count(Outcome::TimedOut),
        open: count(Outcome::Open),
        censored_fraction: (obs.len() - fixed) as f64 / n,
        time_to_fix: Distribution::of(&KaplanMeier::fit(&fix), conf),
        time_to_find: Distribution::of(&KaplanMeier::fit(&find), conf),
        submits_per_attempt: obs.iter().map(|o| f64::from(o.submits)).sum::<f64>() / n,
        hints_per_attempt: obs.iter().map(|o| f64::from(o.hints)).sum::<f64>() / n,
    }
}

fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        let (a, b) = (values[n / 2 - 1], values[n / 2]);
        if a == b {
            a
        } else {
            (a + b) / 2.0
        }
    }
}

/// Per engineer, the median log time-to-fix in each language (give-ups +∞),
/// differenced: ln(b) − ln(a). Both languages given up: a tie (0).
fn per_engineer<'a>(obs: &[&'a Observation]) -> BTreeMap<&'a str, Vec<f64>> {
    let mut m: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for o in obs {
        m.entry(o.engineer.as_str())
            .or_default()
            .push(o.rank_time().max(1e-3).ln());
    }
    m
}

fn paired(a: &[&Observation], b: &[&Observation]) -> Option<Paired> {
    let per = per_engineer;
    let (pa, pb) = (per(a), per(b));
    let mut diffs: Vec<f64> = pa
        .iter()
        .filter_map(|(eng, va)| {
            let vb = pb.get(eng)?;
            let d = median_of(&mut vb.clone()) - median_of(&mut va.clone());
            Some(if d.is_nan() { 0.0 } else { d })
        })
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let test = hypothesis::wilcoxon_signed_rank(&diffs);
    Some(Paired {
        pairs: diffs.len(),
        median_log_ratio: median_of(&mut diffs),
        test,
    })
}

fn compare(
    group: &str,
    a: &[&Observation],
    b: &[&Observation],
    opts: &Options,
    ratio_ci: bootstrap::RatioCi,
) -> Comparison {
    let fa: Vec<_> = a.iter().map(|o| o.fix_obs()).collect();
    let fb: Vec<_> = b.iter().map(|o| o.fix_obs()).collect();
    let ra: Vec<f64> = a.iter().map(|o| o.rank_time()).collect();
    let rb: Vec<f64> = b.iter().map(|o| o.rank_time()).collect();
    let (ka, kb) = (KaplanMeier::fit(&fa), KaplanMeier::fit(&fb));
    let median = [ka.quantile(0.5), kb.quantile(0.5)];
    let min_p = hypothesis::min_attainable_p(a.len(), b.len());
    Comparison {
        group: group.to_string(),
        n: [a.len(), b.len()],
        median,
        ratio: Ratio::of(median[0], median[1]),
        ratio_ci,
        hodges_lehmann: hypothesis::hodges_lehmann(&rb, &ra, opts.conf),
        mann_whitney: hypothesis::mann_whitney(&rb, &ra),
        min_attainable_p: min_p,
        log_rank: hypothesis::log_rank(&fa, &fb),
        log_rank_p_holm: None,
        mann_whitney_p_holm: None,
        paired: paired(a, b),
        verdict: Verdict::TooThin,
    }
}

fn verdict(c: &Comparison, alpha: f64) -> Verdict {
    if c.min_attainable_p > alpha || c.n[0] < 3 || c.n[1] < 3 {
        return Verdict::TooThin;
    }
    let p = c.log_rank_p_holm.unwrap_or(c.log_rank.p);
    if p < alpha && c.ratio_ci.hi < 1.0 {
        Verdict::SecondCheaper
    } else if p < alpha && c.ratio_ci.lo > 1.0 {
        Verdict::FirstCheaper
    } else {
        Verdict::NoClearDifference
    }
}

/// `f` over `jobs` on every core, results in order (jobs are taken from the
/// end: the last, `all`, is the largest).
fn parallel_map<T: Send, R: Send>(jobs: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().map(f).collect();
    }
    let n = jobs.len();
    let queue = std::sync::Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (queue, f) = (&queue, &f);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let job = queue.lock().expect("job queue").pop();
                        let Some((i, job)) = job else { break };
                        done.push((i, f(job)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("comparison thread"))
            .collect()
    });
    debug_assert_eq!(out.len(), n);
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Smallest n per language for which a rank test can reach `alpha`.
pub fn min_n_for(alpha: f64) -> usize {
    (1..100)
        .find(|&n| hypothesis::min_attainable_p(n, n) <= alpha)
        .unwrap_or(100)
}

/// Computes everything `drill stats` reports.
pub fn analyze(ds: &Dataset, opts: &Options) -> StatsReport {
    let obs = &ds.observations;
    let by = opts.group_by;
    let mut groups: BTreeMap<&str, BTreeMap<&str, Vec<&Observation>>> = BTreeMap::new();
    let mut languages: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
    for o in obs {
        groups
            .entry(by.key(o))
            .or_default()
            .entry(&o.language)
            .or_default()
            .push(o);
        languages.entry(&o.language).or_default().push(o);
    }
    let mut cells = Vec::new();
    for (g, langs) in &groups {
        for (l, v) in langs {
            cells.push(cell(g, l, v, opts.conf));
        }
    }
    for (l, v) in &languages {
        cells.push(cell("all", l, v, opts.conf));
    }
    let [la, lb] = [opts.compare[0].as_str(), opts.compare[1].as_str()];
    let empty: Vec<&Observation> = Vec::new();
    let mut warnings = Vec::new();
    // Every bootstrap interval at once: the overall one is stratified by group.
    let fix = |v: &Vec<&Observation>| v.iter().map(|o| o.fix_obs()).collect::<Vec<_>>();
    let samples: Vec<(&str, Vec<km::Obs>, Vec<km::Obs>)> = groups
        .iter()
        .map(|(g, langs)| {
            let side = |l| langs.get(l).map(fix).unwrap_or_default();
            (*g, side(la), side(lb))
        })
        .collect();
    let mut cis = bootstrap::ratio_intervals(
        &samples
            .iter()
            .map(|(name, a, b)| bootstrap::Group { name, a, b })
            .collect::<Vec<_>>(),
        opts.resamples,
        opts.seed,
        opts.conf,
    );
    type Job<'a> = (
        &'a str,
        &'a [&'a Observation],
        &'a [&'a Observation],
        bootstrap::RatioCi,
    );
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for ((g, langs), ci) in groups.iter().zip(cis.groups.iter_mut()) {
        let (a, b) = (
            langs.get(la).unwrap_or(&empty),
            langs.get(lb).unwrap_or(&empty),
        );
        if a.is_empty() || b.is_empty() {
            let missing = if a.is_empty() { la } else { lb };
            warnings.push(Warning {
                kind: WarningKind::MissingLanguage,
                group: Some(g.to_string()),
                message: format!("{g}: no {missing} attempts, so no {la}/{lb} comparison"),
            });
            continue;
        }
        let ci = ci.take().expect("an interval for every compared group");
        jobs.push((g, a, b, ci));
    }
    let tested = jobs.len();
    if let (Some(a), Some(b), Some(ci)) = (languages.get(la), languages.get(lb), cis.overall) {
        jobs.push(("all", a, b, ci));
    }
    // The rank tests and Hodges–Lehmann of each comparison, on every core.
    let mut comparisons = parallel_map(jobs, |(g, a, b, ci)| compare(g, a, b, opts, ci));
    // Holm across the groups that were tested (not `all`).
    let groups_tested = &comparisons[..tested];
    let adj_lr = hypothesis::holm(
        &groups_tested
            .iter()
            .map(|c| c.log_rank.p)
            .collect::<Vec<_>>(),
    );
    let adj_mw = hypothesis::holm(
        &groups_tested
            .iter()
            .map(|c| c.mann_whitney.p)
            .collect::<Vec<_>>(),
    );
    for (i, c) in comparisons.iter_mut().enumerate() {
        if i < tested {
            c.log_rank_p_holm = Some(adj_lr[i]);
            c.mann_whitney_p_holm = Some(adj_mw[i]);
        }
        c.verdict = verdict(c, opts.alpha);
    }
    warn(ds, opts, &groups, &comparisons, &cells, &mut warnings);
    let cost = opts.hourly_rate.map(|rate| {
        let per_s = rate * opts.engineers_per_incident / 3600.0;
        let scale = |t: Time| match t {
            Time::At(s) => Time::At(s * per_s),
            Time::After(s) => Time::After(s * per_s),
            Time::Unknown => Time::Unknown,
        };
        let rows: Vec<CostRow> = cells
            .iter()
            .map(|c| CostRow {
                group: c.group.clone(),
                language: c.language.clone(),
                median_cost: scale(c.time_to_fix.median),
            })
            .collect();
        let difference = comparisons
            .iter()
            .map(|c| {
                let d = match (c.median[0], c.median[1]) {
                    (Time::At(a), Time::At(b)) => Some((b - a) * per_s),
                    _ => None,
                };
                (c.group.clone(), d)
            })
            .collect();
        Cost {
            hourly_rate: rate,
            engineers_per_incident: opts.engineers_per_incident,
            rows,
            difference,
        }
    });
    StatsReport {
        format: FORMAT_NAME,
        format_version: FORMAT_VERSION,
        options: opts.clone(),
        inputs: Inputs {
            results_dirs: ds
                .results_dirs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            attempts: obs.len(),
            engineers: obs
                .iter()
                .map(|o| &o.engineer)
                .collect::<BTreeSet<_>>()
                .len(),
            damaged: ds.damaged.clone(),
            duplicates: ds.duplicates,
            test_clock_excluded: ds.test_clock_excluded,
            filtered_out: ds.filtered_out,
            first_started: obs.iter().map(|o| o.started).min(),
            last_started: obs.iter().map(|o| o.started).max(),
        },
        cells,
        comparisons,
        cost,
        warnings,
    }
}

type Groups<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Observation>>>;

fn warn(
    ds: &Dataset,
    opts: &Options,
    groups: &Groups<'_>,
    comparisons: &[Comparison],
    cells: &[Cell],
    out: &mut Vec<Warning>,
) {
    let w = |kind, group: Option<&str>, message: String| Warning {
        kind,
        group: group.map(str::to_string),
        message,
    };
    let [la, lb] = [opts.compare[0].as_str(), opts.compare[1].as_str()];
    if !ds.damaged.is_empty() {
        let paths: Vec<String> = ds
            .damaged
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        out.push(w(
            WarningKind::DamagedRecords,
            None,
            format!(
                "{} damaged record(s) could not be read and are not counted: {}",
                ds.damaged.len(),
                paths.join(", ")
            ),
        ));
    }
    let open = ds
        .observations
        .iter()
        .filter(|o| o.outcome == Outcome::Open)
        .count();
    if open > 0 {
        out.push(w(
            WarningKind::OpenAttempts,
            None,
            format!(
                "{open} attempt(s) still open, counted as censored at their time so far ({})",
                opts.now
            ),
        ));
    }
    let need = min_n_for(opts.alpha);
    for c in comparisons {
        if c.min_attainable_p > opts.alpha {
            out.push(w(
                WarningKind::SmallSample,
                Some(&c.group),
                format!(
                    "{}: {} vs {} attempts is too small: no two-sided rank test can go below p = {:.2} \
                     (need at least {need} per language to reach p < {})",
                    c.group, c.n[0], c.n[1], c.min_attainable_p, opts.alpha
                ),
            ));
        } else if c.n[0].min(c.n[1]) < 10 {
            out.push(w(
                WarningKind::SmallSample,
                Some(&c.group),
                format!(
                    "{}: {} vs {} attempts is a small sample: only a large difference can show, \
                     and a non-significant result is not evidence of no difference",
                    c.group, c.n[0], c.n[1]
                ),
            ));
        }
        if c.ratio_ci.undefined > c.ratio_ci.resamples / 20 {
            out.push(w(
                WarningKind::HeavyCensoring,
                Some(&c.group),
                format!(
                    "{}: in {} of {} bootstrap resamples neither median was reached",
                    c.group, c.ratio_ci.undefined, c.ratio_ci.resamples
                ),
            ));
        }
    }
    for c in cells {
        if c.censored_fraction >= 0.3 || matches!(c.time_to_fix.median, Time::After(_)) {
            out.push(w(
                WarningKind::HeavyCensoring,
                Some(&c.group),
                format!(
                    "{} / {}: {} of {} attempts not fixed ({:.0}% censored){}",
                    c.group,
                    c.language,
                    c.attempts - c.fixed,
                    c.attempts,
                    100.0 * c.censored_fraction,
                    if matches!(c.time_to_fix.median, Time::After(_)) {
                        "; the median time-to-fix is not reached"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    // Order: which language did each engineer meet first, per group?
    let mut first = [0usize; 2];
    let mut second_over_first: Vec<f64> = Vec::new();
    for langs in groups.values() {
        let (Some(a), Some(b)) = (langs.get(la), langs.get(lb)) else {
            continue;
        };
        let engineers: BTreeSet<&str> = a.iter().map(|o| o.engineer.as_str()).collect();
        for e in engineers {
            let fa = a
                .iter()
                .filter(|o| o.engineer == e)
                .min_by_key(|o| o.started);
            let fb = b
                .iter()
                .filter(|o| o.engineer == e)
                .min_by_key(|o| o.started);
            if let (Some(x), Some(y)) = (fa, fb) {
                let (early, late) = if x.started <= y.started {
                    (x, y)
                } else {
                    (y, x)
                };
                first[usize::from(x.started > y.started)] += 1;
                if early.fixed() && late.fixed() && early.time_s > 0.0 {
                    second_over_first.push(late.time_s / early.time_s);
                }
            }
        }
    }
    let pairs = first[0] + first[1];
    if pairs >= 2 && first[0].max(first[1]) as f64 >= 0.75 * pairs as f64 {
        let (lang, k) = if first[0] >= first[1] {
            (la, first[0])
        } else {
            (lb, first[1])
        };
        let learning = if second_over_first.is_empty() {
            String::new()
        } else {
            format!(
                "; the second attempt took a median {:.2}× the first",
                median_of(&mut second_over_first)
            )
        };
        out.push(w(
            WarningKind::OrderEffect,
            None,
            format!(
                "order effect: in {k} of {pairs} engineer × {} pairs {lang} came first, so \
                 learning favours the other language{learning}; counterbalance with `drill plan`",
                opts.group_by.as_str()
            ),
        ));
    }
    for (g, langs) in groups {
        let (Some(a), Some(b)) = (langs.get(la), langs.get(lb)) else {
            continue;
        };
        let mean =
            |v: &[&Observation]| v.iter().map(|o| f64::from(o.hints)).sum::<f64>() / v.len() as f64;
        let (ha, hb) = (mean(a), mean(b));
        if (ha - hb).abs() >= 0.5 && ha.max(hb) >= 1.5 * ha.min(hb) {
            out.push(w(
                WarningKind::UnevenHints,
                Some(g),
                format!(
                    "{g}: hints used unevenly ({la} {ha:.1} per attempt, {lb} {hb:.1}): \
                     times are not like for like"
                ),
            ));
        }
        for (l, v) in [(la, a), (lb, b)] {
            let mut logs: Vec<(f64, &str)> = v
                .iter()
                .filter(|o| o.fixed() && o.time_s > 0.0)
                .map(|o| (o.time_s.ln(), o.id.as_str()))
                .collect();
            if logs.len() < 8 {
                continue;
            }
            logs.sort_by(|x, y| x.0.total_cmp(&y.0));
            let q = |p: f64| logs[((logs.len() - 1) as f64 * p).round() as usize].0;
            let (q1, q3) = (q(0.25), q(0.75));
            let fence = 3.0 * (q3 - q1);
            let far: Vec<&str> = logs
                .iter()
                .filter(|(x, _)| *x > q3 + fence || *x < q1 - fence)
                .map(|(_, id)| *id)
                .collect();
            if !far.is_empty() {
                let shown: Vec<&str> = far.iter().take(3).copied().collect();
                out.push(w(
                    WarningKind::Outlier,
                    Some(g),
                    format!(
                        "{g} / {l}: {} far outlier(s) in time-to-fix (beyond 3 IQR on the log scale): {}{}",
                        far.len(),
                        shown.join(", "),
                        if far.len() > 3 { ", …" } else { "" }
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::Observation;

    fn obs(
        id: usize,
        engineer: &str,
        class: &str,
        lang: &str,
        t: f64,
        outcome: Outcome,
    ) -> Observation {
        Observation {
            id: format!("a{id}"),
            engineer: engineer.into(),
            drill: format!("s/{class}"),
            class: class.into(),
            language: lang.into(),
            started: Timestamp::from_unix_ms(1_700_000_000_000 + id as i64 * 1000),
            outcome,
            time_to_find_s: None,
            time_s: t,
            submits: 1,
            hints: 0,
            source: String::new(),
        }
    }

    fn dataset(v: Vec<Observation>) -> Dataset {
        Dataset {
            observations: v,
            ..Dataset::default()
        }
    }

    #[test]
    fn three_against_three_is_called_too_thin_and_says_why() {
        let mut v = Vec::new();
        for (i, t) in [600.0, 700.0, 800.0].into_iter().enumerate() {
            v.push(obs(
                i,
                &format!("e{i}"),
                "lost-update",
                "go",
                t,
                Outcome::Fixed,
            ));
            v.push(obs(
                10 + i,
                &format!("e{i}"),
                "lost-update",
                "rust",
                t * 3.0,
                Outcome::Fixed,
            ));
        }
        let mut opts = Options::new(Timestamp::from_unix_ms(0));
        opts.resamples = 10_000;
        let r = analyze(&dataset(v), &opts);
        let c = &r.comparisons[0];
        assert_eq!(c.verdict, Verdict::TooThin);
        assert!((c.min_attainable_p - 0.1).abs() < 1e-12);
        assert!(r.warnings.iter().any(|w| w.kind == WarningKind::SmallSample
            && w.message.contains("cannot go below p = 0.10")
            || w.message
                .contains("no two-sided rank test can go below p = 0.10")));
        assert_eq!(c.ratio, Ratio::Value(3.0));
    }

    #[test]
    fn give_ups_are_censored_not_dropped_and_can_leave_the_median_unreached() {
        let mut v = Vec::new();
        for i in 0..6 {
            let outcome = if i < 2 {
                Outcome::Fixed
            } else {
                Outcome::Abandoned
            };
            v.push(obs(
                i,
                "e",
                "lost-update",
                "rust",
                600.0 + i as f64,
                outcome,
            ));
        }
        let r = analyze(&dataset(v), &Options::new(Timestamp::from_unix_ms(0)));
        let c = &r.cells[0];
        assert_eq!((c.attempts, c.fixed, c.abandoned), (6, 2, 4));
        assert_eq!(c.time_to_fix.median, Time::After(605.0));
        assert!(r
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::HeavyCensoring));
    }

    #[test]
    fn a_clear_difference_with_enough_data_is_called() {
        let mut v = Vec::new();
        for i in 0..20 {
            let e = format!("e{}", i % 10);
            v.push(obs(
                i,
                &e,
                "lost-update",
                "go",
                600.0 + 10.0 * i as f64,
                Outcome::Fixed,
            ));
            v.push(obs(
                100 + i,
                &e,
                "lost-update",
                "rust",
                1800.0 + 30.0 * i as f64,
                Outcome::Fixed,
            ));
        }
        let r = analyze(&dataset(v), &Options::new(Timestamp::from_unix_ms(0)));
        let c = &r.comparisons[0];
        assert_eq!(c.verdict, Verdict::FirstCheaper, "{c:?}");
        assert!(
            c.ratio_ci.lo > 2.0 && c.ratio_ci.hi < 4.0,
            "{:?}",
            c.ratio_ci
        );
        assert_eq!(c.paired.as_ref().map(|p| p.pairs), Some(10));
        assert_eq!(r.comparisons.last().map(|c| c.group.as_str()), Some("all"));
    }

    #[test]
    fn cost_is_median_time_times_rate_times_engineers() {
        let v = vec![
            obs(1, "e", "lost-update", "go", 1800.0, Outcome::Fixed),
            obs(2, "e", "lost-update", "rust", 3600.0, Outcome::Fixed),
        ];
        let mut opts = Options::new(Timestamp::from_unix_ms(0));
        opts.hourly_rate = Some(100.0);
        opts.engineers_per_incident = 2.0;
        let r = analyze(&dataset(v), &opts);
        let cost = r.cost.unwrap();
        assert_eq!(cost.rows[0].median_cost, Time::At(100.0));
        assert_eq!(cost.difference["lost-update"], Some(100.0));
    }
}
