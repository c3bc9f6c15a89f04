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
pub mod experience;
pub mod hypothesis;
pub mod km;
pub mod power;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::clock::Timestamp;
use dataset::{Dataset, Observation, Outcome};
use hypothesis::{LogRank, MannWhitney, Method, SignedRank};
use km::{KaplanMeier, Time};

pub const FORMAT_NAME: &str = "drillkit-stats";
/// Bumped on any change a reader of the previous version would misread
/// (docs/stats-format.md).
pub const FORMAT_VERSION: u32 = 4;

/// No interval is computed from fewer attempts than this on a side: below
/// it an interval says nothing (one attempt gives `[t, t]`).
pub const MIN_PER_SIDE: usize = 2;

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
    /// The time open attempts are censored at (with `include_open`).
    pub now: Timestamp,
    /// Count still-open attempts in the comparisons, censored at `now`
    /// (default: left out, so an attempt minutes old cannot move a median).
    pub include_open: bool,
    /// Count repeat attempts (an engineer meeting a drill again).
    pub include_repeats: bool,
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
            include_open: false,
            include_repeats: false,
        }
    }
}

/// Median, quartiles and p90 of a censored time, from Kaplan–Meier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub median: Time,
    /// The median's confidence interval at `Options::conf`; `None` (JSON
    /// `null`) below [`MIN_PER_SIDE`] attempts.
    pub median_ci: Option<[Time; 2]>,
    pub q1: Time,
    pub q3: Time,
    pub p90: Time,
    /// Fraction with the event (fixed / found) by the end of follow-up.
    pub fraction: f64,
}

impl Distribution {
    /// Median (with its interval from [`MIN_PER_SIDE`] observations on),
    /// quartiles and p90 of a fitted curve: the one estimator every censored
    /// time of the kit goes through.
    pub fn of(km: &KaplanMeier, conf: f64) -> Distribution {
        let median = km.quantile(0.5);
        let median_ci = (km.n >= MIN_PER_SIDE)
            .then(|| km.quantile_ci(0.5, conf))
            .filter(|&(lo, hi)| holds(lo, median, hi))
            .map(|(lo, hi)| [lo, hi]);
        Distribution {
            median,
            median_ci,
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
    /// The test-first attempts of the cell (`drill start --test-first`).
    pub test_first: usize,
    /// Time to the first reproducing test over the test-first attempts
    /// (Kaplan–Meier; no test yet is censored); `None` without any.
    pub time_to_test: Option<Distribution>,
    /// The share of time-to-fix spent reaching the reproducing test.
    pub test_share_of_fix: Option<Share>,
    pub submits_per_attempt: f64,
    pub hints_per_attempt: f64,
}

/// The median of a per-attempt share, and how many attempts it is over:
/// test-first attempts fixed with a reproducing test (no interval: a share
/// of two censoring-aware times has no honest one from a handful).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub median: f64,
    pub attempts: usize,
}

fn test_share(obs: &[&Observation]) -> Option<Share> {
    let mut shares: Vec<f64> = obs
        .iter()
        .filter(|o| o.flags.test_first && o.fixed() && o.time_s > 0.0)
        .filter_map(|o| Some(o.time_to_test_s? / o.time_s))
        .collect();
    (!shares.is_empty()).then(|| Share {
        attempts: shares.len(),
        median: median_of(&mut shares),
    })
}

/// Whether the interval `[lo, hi]` holds `t` ("not reached" ranks above
/// every time; an unknown holds nothing).
fn holds(lo: Time, t: Time, hi: Time) -> bool {
    let key = |x: Time| match x {
        Time::At(v) => v,
        Time::After(_) => f64::INFINITY,
        Time::Unknown => f64::NAN,
    };
    key(lo) <= key(t) && key(t) <= key(hi)
}

/// A point estimate the data may only bound. Never an infinity: where the
/// data only says "more than t", that is what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Estimate {
    Value(f64),
    /// More than this.
    Above(f64),
    /// Less than this.
    Below(f64),
    /// Nothing can be said (neither median reached, or no data).
    Undefined,
}

impl Estimate {
    /// median(b) / median(a): above a bound when b's median is not
    /// reached, below one when a's is not.
    fn ratio(a: Time, b: Time) -> Estimate {
        let finite = |e: Estimate| match e {
            Estimate::Value(v) | Estimate::Above(v) | Estimate::Below(v) if !v.is_finite() => {
                Estimate::Undefined
            }
            e => e,
        };
        finite(match (a, b) {
            (Time::At(a), Time::At(b)) if a > 0.0 => Estimate::Value(b / a),
            (Time::At(a), Time::After(b)) if a > 0.0 => Estimate::Above(b / a),
            (Time::After(a), Time::At(b)) if a > 0.0 => Estimate::Below(b / a),
            _ => Estimate::Undefined,
        })
    }

    pub fn value(self) -> Option<f64> {
        match self {
            Estimate::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A confidence interval and its real level (an exact interval cannot hit
/// 95% exactly; with few attempts it can be far from it). An infinite bound
/// (JSON `null`) is an unbounded side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    pub conf: f64,
}

/// Hodges–Lehmann shift, second − first, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShiftSummary {
    pub estimate: Estimate,
    /// `None` when withheld (the reason is in `Comparison::withheld`).
    pub ci: Option<Interval>,
    pub method: Method,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// Engineers who did this group in both languages.
    pub pairs: usize,
    /// Median over engineers of ln(time b / time a) (give-ups rank last);
    /// `None` when give-ups make it unbounded.
    pub median_log_ratio: Option<f64>,
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
    pub ratio: Estimate,
    /// The bootstrap interval of the ratio; `None` when withheld (the
    /// reason is in `withheld`).
    pub ratio_ci: Option<bootstrap::RatioCi>,
    /// Bootstrap resamples where neither median was reached.
    pub resamples_undefined: u32,
    /// Shift second − first in seconds (give-ups rank last).
    pub hodges_lehmann: ShiftSummary,
    /// Why a figure is not given or is only a bound: figure name
    /// (`ratio_ci`, `hodges_lehmann`) → reason.
    pub withheld: BTreeMap<String, String>,
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
    Repeats,
    NotBlind,
    MissingLanguage,
    /// The languages' attempts come from unlike experience (`experience.rs`).
    UnbalancedExperience,
    /// Compared attempts without the engineer's experience recorded.
    ExperienceNotRecorded,
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
    /// Whether the rate was given (`--hourly-rate`) or is the documented
    /// default ([`DEFAULT_HOURLY_RATE`], used by `drill report` without one).
    pub rate_source: RateSource,
    pub rows: Vec<CostRow>,
    /// Per group: cost(second) − cost(first), when both medians are reached.
    pub difference: BTreeMap<String, Option<f64>>,
}

/// The rate `drill report` prices with when none is given: a round
/// fully-loaded engineer-hour, in whatever currency the reader thinks in.
pub const DEFAULT_HOURLY_RATE: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    Given,
    Default,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub results_dirs: Vec<String>,
    /// Every attempt read (after the filter).
    pub attempts: usize,
    /// Those in the comparisons and cells.
    pub compared: usize,
    /// Still open, left out (`--include-open` counts them).
    pub open_left_out: usize,
    /// Repeats, left out (`--include-repeats` counts them).
    pub repeats_left_out: usize,
    /// Open blind attempts, left out whatever is asked (runner/stats/dataset.rs).
    pub blind_open_left_out: usize,
    /// Compared attempts that were not dealt blind (chosen by id, or imported).
    pub not_blind: usize,
    /// On drills one language prevents: in `prevented`, not compared.
    pub prevented: usize,
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
    /// Drills with `prevented_in`, per drill and language.
    pub prevented: Vec<PreventedCell>,
    pub comparisons: Vec<Comparison>,
    pub cost: Option<Cost>,
    /// The engineers' experience per side and the comparison within
    /// experience bands; `None` when a language has no compared attempts.
    pub experience: Option<experience::ExperienceReport>,
    pub warnings: Vec<Warning>,
}

fn cell(group: &str, language: &str, obs: &[&Observation], conf: f64) -> Cell {
    let count = |o: Outcome| obs.iter().filter(|x| x.outcome == o).count();
    let fix: Vec<_> = obs.iter().map(|o| o.fix_obs()).collect();
    let find: Vec<_> = obs.iter().map(|o| o.find_obs()).collect();
    let test: Vec<_> = obs.iter().filter_map(|o| o.test_obs()).collect();
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
        test_first: test.len(),
        time_to_test: (!test.is_empty()).then(|| Distribution::of(&KaplanMeier::fit(&test), conf)),
        test_share_of_fix: test_share(obs),
        submits_per_attempt: obs.iter().map(|o| f64::from(o.submits)).sum::<f64>() / n,
        hints_per_attempt: obs.iter().map(|o| f64::from(o.hints)).sum::<f64>() / n,
    }
}

/// The median (sorts `values`); the midpoint of the middle two for an even count.
pub(crate) fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        let (a, b) = (values[n / 2 - 1], values[n / 2]);
        if a == b {
            a
        } else {
            a.midpoint(b)
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
    let median = median_of(&mut diffs);
    Some(Paired {
        pairs: diffs.len(),
        median_log_ratio: median.is_finite().then_some(median),
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
    let [la, lb] = [opts.compare[0].as_str(), opts.compare[1].as_str()];
    let mut withheld = BTreeMap::new();
    let thin = (a.len() < MIN_PER_SIDE || b.len() < MIN_PER_SIDE).then(|| {
        format!(
            "{} vs {} attempts: no interval from fewer than {MIN_PER_SIDE} a side",
            a.len(),
            b.len()
        )
    });
    let ratio = Estimate::ratio(median[0], median[1]);
    let resamples_undefined = ratio_ci.undefined;
    let ratio_why = match ratio {
        _ if thin.is_some() => thin.clone(),
        Estimate::Value(v) if ratio_ci.lo <= v && v <= ratio_ci.hi => None,
        Estimate::Value(_) => Some(
            "the bootstrap interval does not hold the estimate: too few fixes for a percentile interval"
                .to_string(),
        ),
        Estimate::Above(_) => Some(format!(
            "the {lb} median is not reached, so the ratio is only a lower bound"
        )),
        Estimate::Below(_) => Some(format!(
            "the {la} median is not reached, so the ratio is only an upper bound"
        )),
        Estimate::Undefined => Some(format!("neither the {la} nor the {lb} median is reached")),
    };
    if let Some(why) = &ratio_why {
        withheld.insert("ratio_ci".to_string(), why.clone());
    }
    let hodges_lehmann = shift(b, a, [la, lb], opts.conf, thin, &mut withheld);
    Comparison {
        group: group.to_string(),
        n: [a.len(), b.len()],
        median,
        ratio,
        ratio_ci: ratio_why.is_none().then_some(ratio_ci),
        resamples_undefined,
        hodges_lehmann,
        withheld,
        mann_whitney: hypothesis::mann_whitney(&rb, &ra),
        min_attainable_p: min_p,
        log_rank: hypothesis::log_rank(&fa, &fb),
        log_rank_p_holm: None,
        mann_whitney_p_holm: None,
        paired: paired(a, b),
        verdict: Verdict::TooThin,
    }
}

/// The Hodges–Lehmann shift `x − y` (x the second language's attempts, y
/// the first's; give-ups rank last, at +∞) as reported: an infinite
/// estimate (more than half the pairs are a give-up against a fix) becomes
/// the bound the censoring times give, and its interval is withheld.
fn shift(
    xo: &[&Observation],
    yo: &[&Observation],
    [la, lb]: [&str; 2],
    conf: f64,
    thin: Option<String>,
    withheld: &mut BTreeMap<String, String>,
) -> ShiftSummary {
    let rank = |v: &[&Observation]| v.iter().map(|o| o.rank_time()).collect::<Vec<f64>>();
    let at_stop = |v: &[&Observation]| v.iter().map(|o| o.time_s).collect::<Vec<f64>>();
    let (x, y) = (rank(xo), rank(yo));
    let raw = hypothesis::hodges_lehmann(&x, &y, conf);
    let e = raw.estimate;
    // Each pair's difference is at least (b's censoring time − a's time)
    // when b gave up, and unbounded below when a did; the median of those
    // lower bounds bounds the median difference from below (and the mirror
    // image from above).
    let estimate = if e.is_finite() {
        Estimate::Value(e)
    } else if e == f64::INFINITY {
        withheld.insert(
            "hodges_lehmann".to_string(),
            format!("more than half of the pairs are a {lb} give-up against a {la} fix: only a lower bound is known"),
        );
        bounded(
            hypothesis::hodges_lehmann_estimate(&at_stop(xo), &y),
            Estimate::Above,
        )
    } else if e == f64::NEG_INFINITY {
        withheld.insert(
            "hodges_lehmann".to_string(),
            format!("more than half of the pairs are a {la} give-up against a {lb} fix: only an upper bound is known"),
        );
        bounded(
            hypothesis::hodges_lehmann_estimate(&x, &at_stop(yo)),
            Estimate::Below,
        )
    } else {
        withheld.insert("hodges_lehmann".to_string(), "no pairs".to_string());
        Estimate::Undefined
    };
    let ci = match (&thin, estimate) {
        (Some(why), _) => {
            withheld
                .entry("hodges_lehmann".to_string())
                .or_insert_with(|| why.clone());
            None
        }
        (None, Estimate::Value(v)) if raw.lo <= v && v <= raw.hi => Some(Interval {
            lo: raw.lo,
            hi: raw.hi,
            conf: raw.conf,
        }),
        (None, Estimate::Value(_)) => {
            withheld.insert(
                "hodges_lehmann".to_string(),
                "the interval does not hold the estimate".to_string(),
            );
            None
        }
        (None, _) => None,
    };
    ShiftSummary {
        estimate,
        ci,
        method: raw.method,
    }
}

fn bounded(v: f64, bound: fn(f64) -> Estimate) -> Estimate {
    if v.is_finite() {
        bound(v)
    } else {
        Estimate::Undefined
    }
}

fn verdict(c: &Comparison, alpha: f64) -> Verdict {
    if c.min_attainable_p > alpha || c.n[0] < 3 || c.n[1] < 3 {
        return Verdict::TooThin;
    }
    let p = c.log_rank_p_holm.unwrap_or(c.log_rank.p);
    if p >= alpha {
        return Verdict::NoClearDifference;
    }
    // Significant, and the ratio clearly on one side of 1: its interval, or
    // a bound that is itself past 1.
    match (c.ratio, &c.ratio_ci) {
        (Estimate::Value(_), Some(ci)) if ci.hi < 1.0 => Verdict::SecondCheaper,
        (Estimate::Value(_), Some(ci)) if ci.lo > 1.0 => Verdict::FirstCheaper,
        (Estimate::Above(v), _) if v >= 1.0 => Verdict::FirstCheaper,
        (Estimate::Below(v), _) if v <= 1.0 => Verdict::SecondCheaper,
        _ => Verdict::NoClearDifference,
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

/// Which attempts the comparisons use, and what was left out.
#[derive(Debug, Default)]
pub struct Selection<'a> {
    /// In the Go/Rust comparison (and the cells).
    pub compared: Vec<&'a Observation>,
    /// Attempts on drills one language prevents: their own rows.
    pub prevented: Vec<&'a Observation>,
    pub open_left_out: usize,
    pub repeats_left_out: usize,
}

/// Open attempts and repeats are left out unless asked for; drills with
/// `prevented_in` go to their own rows.
pub fn select<'a>(ds: &'a Dataset, opts: &Options) -> Selection<'a> {
    let mut s = Selection::default();
    for o in &ds.observations {
        if o.outcome == Outcome::Open && !opts.include_open {
            s.open_left_out += 1;
        } else if o.flags.repeat && !opts.include_repeats {
            s.repeats_left_out += 1;
        } else if o.flags.prevented_in.is_some() {
            s.prevented.push(o);
        } else {
            s.compared.push(o);
        }
    }
    s
}

/// A drill that one language prevents, in the other language: reported
/// apart from the comparison (there is nothing to pair it with).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreventedCell {
    /// The language whose compiler or idioms prevent the bug.
    pub prevented_in: String,
    /// `group` is the drill.
    #[serde(flatten)]
    pub cell: Cell,
}

/// Computes everything `drill stats` reports.
pub fn analyze(ds: &Dataset, opts: &Options) -> StatsReport {
    let selection = select(ds, opts);
    let obs = &selection.compared;
    let mut by_drill: BTreeMap<(&str, &str, &str), Vec<&Observation>> = BTreeMap::new();
    for o in &selection.prevented {
        let p = o.flags.prevented_in.as_deref().unwrap_or("");
        by_drill
            .entry((o.drill.as_str(), p, o.language.as_str()))
            .or_default()
            .push(o);
    }
    let prevented: Vec<PreventedCell> = by_drill
        .iter()
        .map(|((drill, p, lang), v)| PreventedCell {
            prevented_in: p.to_string(),
            cell: cell(drill, lang, v, opts.conf),
        })
        .collect();
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
    holm_and_verdicts(&mut comparisons, tested, opts.alpha);
    warn(
        ds,
        &selection,
        opts,
        &groups,
        &comparisons,
        &cells,
        &mut warnings,
    );
    let experience = match (languages.get(la), languages.get(lb)) {
        (Some(a), Some(b)) => Some(experience::analyze(a, b, opts)),
        _ => None,
    };
    if let Some(x) = &experience {
        experience::warnings(x, &mut warnings);
    }
    let cost = opts.hourly_rate.map(|rate| {
        cost(
            &cells,
            &comparisons,
            rate,
            opts.engineers_per_incident,
            RateSource::Given,
        )
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
            attempts: ds.observations.len(),
            compared: obs.len(),
            open_left_out: selection.open_left_out,
            repeats_left_out: selection.repeats_left_out,
            blind_open_left_out: ds.blind_open_excluded,
            not_blind: selection.compared.iter().filter(|o| !o.flags.blind).count(),
            prevented: selection.prevented.len(),
            engineers: ds
                .observations
                .iter()
                .map(|o| &o.engineer)
                .collect::<BTreeSet<_>>()
                .len(),
            damaged: ds.damaged.clone(),
            duplicates: ds.duplicates,
            test_clock_excluded: ds.test_clock_excluded,
            filtered_out: ds.filtered_out,
            first_started: ds.observations.iter().map(|o| o.started).min(),
            last_started: ds.observations.iter().map(|o| o.started).max(),
        },
        cells,
        prevented,
        comparisons,
        cost,
        experience,
        warnings,
    }
}

/// Holm across the first `tested` comparisons (the groups, not `all`),
/// then every comparison's verdict.
fn holm_and_verdicts(comparisons: &mut [Comparison], tested: usize, alpha: f64) {
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
        c.verdict = verdict(c, alpha);
    }
}

/// The cost of a median incident per cell, and the difference per comparison.
pub fn cost(
    cells: &[Cell],
    comparisons: &[Comparison],
    rate: f64,
    engineers_per_incident: f64,
    rate_source: RateSource,
) -> Cost {
    let per_s = rate * engineers_per_incident / 3600.0;
    let rows: Vec<CostRow> = cells
        .iter()
        .map(|c| CostRow {
            group: c.group.clone(),
            language: c.language.clone(),
            median_cost: c.time_to_fix.median.scaled(per_s),
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
        engineers_per_incident,
        rate_source,
        rows,
        difference,
    }
}

type Groups<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Observation>>>;

fn warn(
    ds: &Dataset,
    selection: &Selection<'_>,
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
    if selection.open_left_out > 0 {
        out.push(w(
            WarningKind::OpenAttempts,
            None,
            format!(
                "{} attempt(s) still open, left out of the comparisons (--include-open counts them, censored at their time so far)",
                selection.open_left_out
            ),
        ));
    } else if open > 0 {
        out.push(w(
            WarningKind::OpenAttempts,
            None,
            format!(
                "{open} attempt(s) still open, counted as censored at their time so far ({})",
                opts.now
            ),
        ));
    }
    if selection.repeats_left_out > 0 {
        out.push(w(
            WarningKind::Repeats,
            None,
            format!(
                "{} repeat attempt(s) (an engineer meeting a drill again) left out of the comparisons (--include-repeats counts them)",
                selection.repeats_left_out
            ),
        ));
    }
    if ds.blind_open_excluded > 0 {
        out.push(w(
            WarningKind::OpenAttempts,
            None,
            format!(
                "{} blind attempt(s) still open, left out whatever is asked: counted in any row, one \
                 would tell its drill before it ends",
                ds.blind_open_excluded
            ),
        ));
    }
    let chosen = selection.compared.iter().filter(|o| !o.flags.blind).count();
    if chosen > 0 {
        out.push(w(
            WarningKind::NotBlind,
            None,
            format!(
                "{chosen} of the {} compared attempt(s) were not dealt blind (the engineer chose the \
                 drill by id and could read it with `drill show`, or the attempt was imported)",
                selection.compared.len()
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
        if c.resamples_undefined > opts.resamples / 20 {
            out.push(w(
                WarningKind::HeavyCensoring,
                Some(&c.group),
                format!(
                    "{}: in {} of {} bootstrap resamples neither median was reached",
                    c.group, c.resamples_undefined, opts.resamples
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

/// Test helpers on the bootstrap's generator.
#[cfg(test)]
pub(crate) mod test_rng {
    use rand_xoshiro::rand_core::Rng as _;
    use rand_xoshiro::Xoshiro256StarStar;

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32
    /// for the sizes the tests use, far under any tolerance they check).
    pub fn below(rng: &mut Xoshiro256StarStar, n: usize) -> usize {
        ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
    }

    #[test]
    fn the_generator_is_xoshiro256_starstar_seeded_through_splitmix64() {
        use rand_xoshiro::rand_core::SeedableRng as _;
        // The stream the bootstrap's documented seeding gives (the values of
        // the generator drillkit carried before it used the crate): a
        // reported interval stays reproducible across versions.
        let mut r = Xoshiro256StarStar::seed_from_u64(20_250_101);
        assert_eq!(
            [r.next_u64(), r.next_u64(), r.next_u64()],
            [
                0xe97a_ea34_34c2_ddfe,
                0x0d3d_fa38_7d44_16c3,
                0x5f06_ec90_4bcd_9e53
            ]
        );
        let mut r = Xoshiro256StarStar::seed_from_u64(0);
        assert_eq!(r.next_u64(), 0x99ec_5f36_cb75_f2b4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::Observation;

    pub(super) fn obs(
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
            time_to_test_s: None,
            submits: 1,
            hints: 0,
            source: String::new(),
            flags: Default::default(),
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
        let small: Vec<&Warning> = r
            .warnings
            .iter()
            .filter(|w| {
                w.kind == WarningKind::SmallSample && w.group.as_deref() == Some("lost-update")
            })
            .collect();
        assert_eq!(small.len(), 1, "{:?}", r.warnings);
        assert!(
            small[0]
                .message
                .contains("no two-sided rank test can go below p = 0.10"),
            "{}",
            small[0].message
        );
        assert_eq!(c.ratio, Estimate::Value(3.0));
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
            c.ratio_ci
                .as_ref()
                .is_some_and(|ci| ci.lo > 2.0 && ci.hi < 4.0),
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

    /// Every interval a report carries holds its estimate, none comes from
    /// fewer than two attempts a side, and no point estimate is infinite.
    fn assert_honest(r: &StatsReport) {
        for c in &r.cells {
            let d = &c.time_to_fix;
            if let Some([lo, hi]) = d.median_ci {
                assert!(c.attempts >= MIN_PER_SIDE, "{c:?}");
                assert!(holds(lo, d.median, hi), "{c:?}");
            }
            for t in [d.median, d.q1, d.q3, d.p90, c.time_to_find.median] {
                if let Time::At(v) | Time::After(v) = t {
                    assert!(v.is_finite(), "{c:?}");
                }
            }
        }
        let finite = |e: Estimate| match e {
            Estimate::Value(v) | Estimate::Above(v) | Estimate::Below(v) => v.is_finite(),
            Estimate::Undefined => true,
        };
        for c in &r.comparisons {
            assert!(
                finite(c.ratio) && finite(c.hodges_lehmann.estimate),
                "{c:?}"
            );
            if let Some(ci) = &c.ratio_ci {
                assert!(c.n[0] >= MIN_PER_SIDE && c.n[1] >= MIN_PER_SIDE, "{c:?}");
                let v = c.ratio.value().expect("an interval only around a value");
                assert!(ci.lo <= v && v <= ci.hi, "{c:?}");
            } else {
                assert!(c.withheld.contains_key("ratio_ci"), "{c:?}");
            }
            if let Some(ci) = &c.hodges_lehmann.ci {
                assert!(c.n[0] >= MIN_PER_SIDE && c.n[1] >= MIN_PER_SIDE, "{c:?}");
                let v = c.hodges_lehmann.estimate.value().expect("a value");
                assert!(ci.lo <= v && v <= ci.hi, "{c:?}");
                assert!((0.0..=1.0).contains(&ci.conf), "{c:?}");
            } else {
                assert!(c.withheld.contains_key("hodges_lehmann"), "{c:?}");
            }
        }
    }

    /// Random attempts with the values that break arithmetic: zeros, ties,
    /// times up to f64::MAX, all-censored sides, empty and single sides.
    fn random_dataset(rng: &mut rand_xoshiro::Xoshiro256StarStar, case: usize) -> Dataset {
        use test_rng::below;
        let menu = [
            0.0,
            1e-3,
            1.0,
            60.0,
            60.0,
            600.0,
            1e16,
            3.3e17,
            1e300,
            f64::MAX / 3.0,
            f64::MAX,
        ];
        let mut v = Vec::new();
        let groups = 1 + below(rng, 3);
        let mut id = 0;
        for g in 0..groups {
            for lang in ["go", "rust", "zig"] {
                let n = match below(rng, 6) {
                    0 => 0,
                    1 => 1,
                    2 => 2,
                    _ => below(rng, 14),
                };
                // Some sides all censored, some all fixed, most mixed.
                let censor_pct = [0, 100, 30, 60][(case + g + lang.len()) % 4];
                for _ in 0..n {
                    id += 1;
                    let t = if below(rng, 3) == 0 {
                        menu[below(rng, menu.len())]
                    } else {
                        (1 + below(rng, 90)) as f64 * 60.0
                    };
                    let outcome = if below(rng, 100) < censor_pct {
                        [Outcome::Abandoned, Outcome::TimedOut, Outcome::Open][below(rng, 3)]
                    } else {
                        Outcome::Fixed
                    };
                    let mut o = obs(
                        id,
                        &format!("e{}", below(rng, 4)),
                        &format!("c{g}"),
                        lang,
                        t,
                        outcome,
                    );
                    o.time_to_find_s = (below(rng, 2) == 0).then_some(t * 0.5);
                    o.hints = below(rng, 3) as u32;
                    o.flags.repeat = below(rng, 8) == 0;
                    if g == 2 && below(rng, 2) == 0 {
                        o.flags.prevented_in = Some("rust".into());
                    }
                    v.push(o);
                }
            }
        }
        dataset(v)
    }

    #[test]
    fn no_input_makes_stats_or_the_report_panic_or_print_a_dishonest_interval() {
        use crate::export::{self, Format};
        use rand_xoshiro::rand_core::SeedableRng as _;
        let mut rng = rand_xoshiro::Xoshiro256StarStar::seed_from_u64(77);
        for case in 0..400 {
            let ds = random_dataset(&mut rng, case);
            let mut opts = Options::new(Timestamp::from_unix_ms(1_800_000_000_000));
            opts.resamples = 200;
            opts.seed = case as u64;
            if case % 3 == 0 {
                opts.hourly_rate = Some(1e6);
            }
            opts.group_by = [GroupBy::Class, GroupBy::Engineer, GroupBy::Drill][case % 3];
            opts.include_open = case % 4 < 2;
            opts.include_repeats = case % 2 == 0;
            let r = analyze(&ds, &opts);
            assert_honest(&r);
            for f in [
                Format::Terminal,
                Format::Json,
                Format::Csv,
                Format::Markdown,
            ] {
                let out = export::exporter(f).render(&r);
                assert!(
                    !out.contains("NaN") && !out.contains("inf×"),
                    "case {case}: {out}"
                );
            }
            let html = crate::report::render(&r, &ds, None, None);
            assert!(html.ends_with("</html>\n"));
        }
    }

    #[test]
    fn hand_made_edge_cases_give_no_interval_that_excludes_its_estimate() {
        use Outcome::{Abandoned as A, Fixed as F};
        type Side = &'static [(f64, Outcome)];
        let cases: [(&str, Side, Side); 7] = [
            ("n = 1", &[(600.0, F)], &[(900.0, F)]),
            (
                "n = 2",
                &[(600.0, F), (700.0, F)],
                &[(900.0, F), (1000.0, F)],
            ),
            (
                "all censored",
                &[(600.0, A), (700.0, A)],
                &[(900.0, A), (1000.0, A), (50.0, A)],
            ),
            (
                "one side all censored",
                &[(600.0, F), (700.0, F), (650.0, F)],
                &[(30.0, A), (40.0, A), (50.0, A)],
            ),
            (
                "the other side all censored",
                &[(30.0, A), (40.0, A), (50.0, A)],
                &[(600.0, F), (700.0, F), (650.0, F)],
            ),
            (
                "ties",
                &[(600.0, F); 4],
                &[(600.0, F), (600.0, F), (600.0, A)],
            ),
            (
                "1 against many",
                &[(120.0, F)],
                &[(600.0, F), (60.0, F), (100.0, A), (300.0, F)],
            ),
        ];
        for (name, a, b) in cases {
            let mut v = Vec::new();
            for (k, &(t, o)) in a.iter().enumerate() {
                v.push(obs(k, &format!("e{k}"), "c", "go", t, o));
            }
            for (k, &(t, o)) in b.iter().enumerate() {
                v.push(obs(100 + k, &format!("e{k}"), "c", "rust", t, o));
            }
            let r = analyze(&dataset(v), &Options::new(Timestamp::from_unix_ms(0)));
            assert_honest(&r);
            let c = &r.comparisons[0];
            if a.len() < 2 || b.len() < 2 {
                assert!(
                    c.ratio_ci.is_none() && c.hodges_lehmann.ci.is_none(),
                    "{name}"
                );
                assert!(r
                    .cells
                    .iter()
                    .filter(|c| c.attempts < 2)
                    .all(|c| c.time_to_fix.median_ci.is_none()));
            }
            let text = crate::export::exporter(crate::export::Format::Terminal).render(&r);
            assert!(
                !text.contains("−∞ [") && !text.contains("+∞ [") && !text.contains("∞×"),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn a_give_up_dominated_shift_is_a_bound_from_the_censoring_times() {
        // Rust gave up at 40 and 50 min on attempts go fixed in 10 to 12:
        // the shift is at least 40 − 12 = 28 min for most pairs.
        let mut v = Vec::new();
        for (k, t) in [600.0, 660.0, 720.0].into_iter().enumerate() {
            v.push(obs(k, "e", "c", "go", t, Outcome::Fixed));
        }
        for (k, t) in [2400.0, 3000.0, 2700.0].into_iter().enumerate() {
            v.push(obs(10 + k, "e", "c", "rust", t, Outcome::Abandoned));
        }
        let r = analyze(&dataset(v), &Options::new(Timestamp::from_unix_ms(0)));
        let c = &r.comparisons[0];
        // Differences 2400..3000 − 600..720; their median is 2700 − 660.
        assert_eq!(c.hodges_lehmann.estimate, Estimate::Above(2040.0));
        assert!(c.hodges_lehmann.ci.is_none());
        assert!(c.withheld["hodges_lehmann"].contains("rust give-up against a go fix"));
        assert!(matches!(c.ratio, Estimate::Above(_)) && c.ratio_ci.is_none());
    }

    #[test]
    fn open_attempts_and_repeats_are_left_out_by_default_and_counted() {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(obs(i, "e", "c", "go", 600.0, Outcome::Fixed));
            v.push(obs(10 + i, "e", "c", "rust", 900.0, Outcome::Fixed));
        }
        // Two seconds old: it must not move the headline.
        v.push(obs(20, "e", "c", "rust", 2.0, Outcome::Open));
        let mut again = obs(21, "e", "c", "go", 60.0, Outcome::Fixed);
        again.flags.repeat = true;
        v.push(again);
        let ds = dataset(v);
        let mut opts = Options::new(Timestamp::from_unix_ms(0));
        let r = analyze(&ds, &opts);
        let (i, c) = (&r.inputs, &r.comparisons[0]);
        assert_eq!((i.attempts, i.compared), (10, 8));
        assert_eq!((i.open_left_out, i.repeats_left_out), (1, 1));
        assert_eq!(c.n, [4, 4]);
        assert_eq!(c.median, [Time::At(600.0), Time::At(900.0)]);
        let kinds: Vec<WarningKind> = r.warnings.iter().map(|w| w.kind).collect();
        assert!(
            kinds.contains(&WarningKind::OpenAttempts) && kinds.contains(&WarningKind::Repeats)
        );
        let open = r
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::OpenAttempts)
            .unwrap();
        assert!(open.message.contains("left out") && open.message.contains("--include-open"));
        opts.include_open = true;
        opts.include_repeats = true;
        let r = analyze(&ds, &opts);
        assert_eq!(r.comparisons[0].n, [5, 5]);
        assert_eq!(
            r.cells
                .iter()
                .find(|c| c.group == "c" && c.language == "rust")
                .unwrap()
                .open,
            1
        );
    }

    #[test]
    fn drills_one_language_prevents_get_their_own_rows_outside_the_comparison() {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(obs(i, "e", "c", "go", 600.0, Outcome::Fixed));
            v.push(obs(10 + i, "e", "c", "rust", 900.0, Outcome::Fixed));
            let mut p = obs(20 + i, "e", "use-after-close", "go", 1200.0, Outcome::Fixed);
            p.drill = "s/use-after-close".into();
            p.flags.prevented_in = Some("rust".into());
            v.push(p);
        }
        let r = analyze(&dataset(v), &Options::new(Timestamp::from_unix_ms(0)));
        assert_eq!(r.inputs.prevented, 3);
        assert_eq!(r.prevented.len(), 1);
        let p = &r.prevented[0];
        assert_eq!(
            (
                p.prevented_in.as_str(),
                p.cell.group.as_str(),
                p.cell.language.as_str()
            ),
            ("rust", "s/use-after-close", "go")
        );
        assert_eq!(p.cell.time_to_fix.median, Time::At(1200.0));
        // Not in the comparison, not in the cells, not in `all`.
        assert!(r.cells.iter().all(|c| c.group != "use-after-close"));
        let all = r.comparisons.iter().find(|c| c.group == "all").unwrap();
        assert_eq!(all.n, [3, 3]);
        assert_eq!(all.median[0], Time::At(600.0));
        let text = crate::export::exporter(crate::export::Format::Terminal).render(&r);
        assert!(
            text.contains(crate::export::PREVENTED_TITLE) && text.contains("s/use-after-close"),
            "{text}"
        );
    }
}
