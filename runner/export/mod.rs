//! Rendering a [`StatsReport`]: one exporter per format behind one trait
//! (hyperfine's shape). The terminal table is the default; JSON is the
//! versioned machine format (docs/stats-format.md); CSV and Markdown are for
//! spreadsheets and pull requests.

mod csv;
mod json;
mod markdown;
mod terminal;

use crate::stats::km::Time;
use crate::stats::{Comparison, Estimate, StatsReport, Verdict};

pub use self::csv::Csv;
pub use self::json::Json;
pub use self::markdown::Markdown;
pub use self::terminal::Terminal;

pub trait Exporter {
    fn render(&self, report: &StatsReport) -> String;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Terminal,
    Json,
    Csv,
    Markdown,
}

pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Terminal => Box::new(Terminal),
        Format::Json => Box::new(Json),
        Format::Csv => Box::new(Csv),
        Format::Markdown => Box::new(Markdown),
    }
}

/// The one time unit of a report's tables, chosen by the magnitude of its
/// typical time (the median of the cells' median times-to-fix): seconds
/// under 2 minutes, minutes under 2 hours, else hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
}

impl Unit {
    pub fn of_seconds(typical: f64) -> Unit {
        if typical < 120.0 {
            Unit::Seconds
        } else if typical < 7200.0 {
            Unit::Minutes
        } else {
            Unit::Hours
        }
    }

    pub fn for_report(r: &StatsReport) -> Unit {
        let mut v: Vec<f64> = r
            .cells
            .iter()
            .filter_map(|c| match c.time_to_fix.median {
                Time::At(s) | Time::After(s) if s.is_finite() => Some(s),
                _ => None,
            })
            .collect();
        if v.is_empty() {
            return Unit::Minutes;
        }
        v.sort_by(f64::total_cmp);
        Unit::of_seconds(v[v.len() / 2])
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Minutes => "min",
            Unit::Hours => "h",
        }
    }

    pub fn seconds(self) -> f64 {
        match self {
            Unit::Seconds => 1.0,
            Unit::Minutes => 60.0,
            Unit::Hours => 3600.0,
        }
    }

    /// `seconds` in this unit, at the precision the unit reads at.
    pub fn num(self, seconds: f64) -> String {
        let v = seconds / self.seconds();
        match self {
            Unit::Seconds => format!("{v:.0}"),
            Unit::Minutes => format!("{v:.1}"),
            Unit::Hours => format!("{v:.2}"),
        }
    }

    /// As `num`, with a sign (shifts); an unbounded side is `−∞` / `+∞`.
    pub fn signed(self, seconds: f64) -> String {
        if seconds.is_infinite() {
            return if seconds > 0.0 { "+∞" } else { "−∞" }.to_string();
        }
        let v = seconds / self.seconds();
        match self {
            Unit::Seconds => format!("{v:+.0}"),
            Unit::Minutes => format!("{v:+.1}"),
            Unit::Hours => format!("{v:+.2}"),
        }
    }
}

/// A confidence level as printed: `95%`, or `96.8%` when it is not whole.
pub fn level(conf: f64) -> String {
    let pct = conf * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

/// A time in `unit`: `12.5`, `> 90.0` (not reached within the follow-up),
/// `—` (no data).
pub fn time(t: Time, unit: Unit) -> String {
    match t {
        Time::At(s) => unit.num(s),
        Time::After(s) => format!("> {}", unit.num(s)),
        Time::Unknown => "—".to_string(),
    }
}

/// A time with its unit: `12.5 min`, `> 1.50 h`.
pub fn time_with_unit(t: Time, unit: Unit) -> String {
    match t {
        Time::Unknown => "—".to_string(),
        _ => format!("{} {}", time(t, unit), unit.name()),
    }
}

pub fn time_ci(ci: &Option<[Time; 2]>, unit: Unit) -> String {
    match ci {
        Some([lo, hi]) => format!("[{}, {}]", time(*lo, unit), time(*hi, unit)),
        None => format!("(no CI: < {} attempts)", crate::stats::MIN_PER_SIDE),
    }
}

pub fn factor(x: f64) -> String {
    if x == f64::INFINITY {
        "∞".to_string()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

pub fn ratio(r: Estimate) -> String {
    match r {
        Estimate::Value(v) => format!("{}×", factor(v)),
        Estimate::Above(v) => format!("> {}×", factor(v)),
        Estimate::Below(v) => format!("< {}×", factor(v)),
        Estimate::Undefined => "—".to_string(),
    }
}

/// ` (66.7% CI)` when an interval's real level is not the one the column
/// header names.
fn level_note(conf: f64, nominal: f64) -> String {
    if (conf - nominal).abs() < 1e-12 {
        String::new()
    } else {
        format!(" ({} CI)", level(conf))
    }
}

pub fn ratio_with_ci(c: &Comparison, nominal: f64) -> String {
    match &c.ratio_ci {
        Some(ci) => format!(
            "{} [{}, {}]{}",
            ratio(c.ratio),
            factor(ci.lo),
            factor(ci.hi),
            level_note(ci.conf, nominal)
        ),
        None => format!("{} (no CI)", ratio(c.ratio)),
    }
}

pub fn shift_with_ci(c: &Comparison, unit: Unit, nominal: f64) -> String {
    let h = &c.hodges_lehmann;
    let est = match h.estimate {
        Estimate::Value(v) => unit.signed(v),
        Estimate::Above(v) => format!("> {}", unit.signed(v)),
        Estimate::Below(v) => format!("< {}", unit.signed(v)),
        Estimate::Undefined => "—".to_string(),
    };
    match &h.ci {
        Some(ci) => format!(
            "{est} [{}, {}]{}",
            unit.signed(ci.lo),
            unit.signed(ci.hi),
            level_note(ci.conf, nominal)
        ),
        None => format!("{est} (no CI)"),
    }
}

/// Why a comparison's figure is a bound or has no interval: one line each.
pub fn withheld_notes(r: &StatsReport) -> Vec<String> {
    withheld_notes_of(r.comparisons.iter())
}

fn withheld_notes_of<'a>(comparisons: impl Iterator<Item = &'a Comparison>) -> Vec<String> {
    let mut v = Vec::new();
    for c in comparisons {
        for (figure, why) in &c.withheld {
            let what = match figure.as_str() {
                "ratio_ci" => "ratio",
                "hodges_lehmann" => "shift",
                other => other,
            };
            v.push(format!("{}: {what}: {why}", c.group));
        }
    }
    v
}

pub fn p(v: f64) -> String {
    if v < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("{v:.3}")
    }
}

pub fn verdict(c: &Comparison, langs: &[String; 2]) -> String {
    match c.verdict {
        Verdict::FirstCheaper => format!("{} cheaper", langs[0]),
        Verdict::SecondCheaper => format!("{} cheaper", langs[1]),
        Verdict::NoClearDifference => "no clear difference".to_string(),
        Verdict::TooThin => "too thin to say".to_string(),
    }
}

pub fn paired(c: &Comparison) -> String {
    match &c.paired {
        Some(pr) => format!(
            "{} pair{}, p {}",
            pr.pairs,
            if pr.pairs == 1 { "" } else { "s" },
            p(pr.test.p)
        ),
        None => "—".to_string(),
    }
}

pub fn money(v: f64) -> String {
    format!("{v:.0}")
}

pub fn money_time(t: Time) -> String {
    match t {
        Time::At(v) => money(v),
        Time::After(v) => format!("> {}", money(v)),
        Time::Unknown => "—".to_string(),
    }
}

/// The rows of the per-cell table (header first), shared by terminal and Markdown.
pub fn cell_rows(r: &StatsReport, unit: Unit) -> Vec<Vec<String>> {
    let u = unit.name();
    let mut rows = vec![vec![
        r.options.group_by.as_str().to_string(),
        "lang".to_string(),
        "n".to_string(),
        "fixed".to_string(),
        "gave up".to_string(),
        "timed out".to_string(),
        "open".to_string(),
        format!("median fix ({u}) [{} CI]", level(r.options.conf)),
        format!("IQR ({u})"),
        format!("p90 ({u})"),
        format!("median find ({u})"),
        "submits".to_string(),
        "hints".to_string(),
    ]];
    for c in &r.cells {
        rows.push(vec![
            c.group.clone(),
            c.language.clone(),
            c.attempts.to_string(),
            c.fixed.to_string(),
            c.abandoned.to_string(),
            c.timed_out.to_string(),
            c.open.to_string(),
            format!(
                "{} {}",
                time(c.time_to_fix.median, unit),
                time_ci(&c.time_to_fix.median_ci, unit)
            ),
            format!(
                "{} – {}",
                time(c.time_to_fix.q1, unit),
                time(c.time_to_fix.q3, unit)
            ),
            time(c.time_to_fix.p90, unit),
            time(c.time_to_find.median, unit),
            format!("{:.1}", c.submits_per_attempt),
            format!("{:.1}", c.hints_per_attempt),
        ]);
    }
    rows
}

/// The heading over [`test_rows`].
pub const TEST_TITLE: &str =
    "Time to a reproducing test (test-first attempts; no test yet is censored)";

/// Time to a reproducing test per cell with test-first attempts, and its
/// share of time-to-fix; `None` when no attempt was test-first.
pub fn test_rows(r: &StatsReport, unit: Unit) -> Option<Vec<Vec<String>>> {
    let u = unit.name();
    let mut rows = vec![vec![
        r.options.group_by.as_str().to_string(),
        "lang".to_string(),
        "test-first".to_string(),
        "reproduced".to_string(),
        format!("median to test ({u}) [{} CI]", level(r.options.conf)),
        format!("IQR ({u})"),
        "share of fix (median, n)".to_string(),
    ]];
    for c in &r.cells {
        let Some(d) = &c.time_to_test else { continue };
        rows.push(vec![
            c.group.clone(),
            c.language.clone(),
            c.test_first.to_string(),
            format!("{:.0}%", d.fraction * 100.0),
            format!("{} {}", time(d.median, unit), time_ci(&d.median_ci, unit)),
            format!("{} – {}", time(d.q1, unit), time(d.q3, unit)),
            c.test_share_of_fix.as_ref().map_or("—".to_string(), |s| {
                format!("{:.0}% ({})", s.median * 100.0, s.attempts)
            }),
        ]);
    }
    (rows.len() > 1).then_some(rows)
}

/// Drills one language prevents (`prevented_in`), apart from the comparison.
pub fn prevented_rows(r: &StatsReport, unit: Unit) -> Vec<Vec<String>> {
    let u = unit.name();
    let mut rows = vec![vec![
        "drill".to_string(),
        "prevented in".to_string(),
        "lang".to_string(),
        "n".to_string(),
        "fixed".to_string(),
        format!("median fix ({u}) [{} CI]", level(r.options.conf)),
        format!("median find ({u})"),
    ]];
    for p in &r.prevented {
        let c = &p.cell;
        rows.push(vec![
            c.group.clone(),
            p.prevented_in.clone(),
            c.language.clone(),
            c.attempts.to_string(),
            c.fixed.to_string(),
            format!(
                "{} {}",
                time(c.time_to_fix.median, unit),
                time_ci(&c.time_to_fix.median_ci, unit)
            ),
            time(c.time_to_find.median, unit),
        ]);
    }
    rows
}

/// The heading over [`prevented_rows`].
pub const PREVENTED_TITLE: &str =
    "Drills one language prevents (not in the comparison: nothing to pair them with)";

pub fn comparison_rows(r: &StatsReport, unit: Unit) -> Vec<Vec<String>> {
    comparison_rows_of(r, r.options.group_by.as_str(), r.comparisons.iter(), unit)
}

/// The comparison table of `comparisons`, its first column headed `first`.
fn comparison_rows_of<'a>(
    r: &StatsReport,
    first: &str,
    comparisons: impl Iterator<Item = &'a Comparison>,
    unit: Unit,
) -> Vec<Vec<String>> {
    let [a, b] = &r.options.compare;
    let (u, lv, nominal) = (unit.name(), level(r.options.conf), r.options.conf);
    let mut rows = vec![vec![
        first.to_string(),
        format!("n {a}/{b}"),
        format!("median {a} ({u})"),
        format!("median {b} ({u})"),
        format!("{b}/{a} [{lv} CI]"),
        format!("shift {b}−{a} ({u}) [{lv} CI]"),
        "Mann–Whitney p".to_string(),
        "log-rank p".to_string(),
        "Holm p".to_string(),
        "paired (Wilcoxon)".to_string(),
        "verdict".to_string(),
    ]];
    for c in comparisons {
        rows.push(vec![
            c.group.clone(),
            format!("{}/{}", c.n[0], c.n[1]),
            time(c.median[0], unit),
            time(c.median[1], unit),
            ratio_with_ci(c, nominal),
            shift_with_ci(c, unit, nominal),
            p(c.mann_whitney.p),
            p(c.log_rank.p),
            c.log_rank_p_holm.map_or("—".to_string(), p),
            paired(c),
            verdict(c, &r.options.compare),
        ]);
    }
    rows
}

/// The heading of the experience section.
pub fn experience_title(r: &StatsReport) -> String {
    format!(
        "{} vs {} by experience (in the attempt's language; bands in docs/stats-format.md)",
        r.options.compare[0], r.options.compare[1]
    )
}

/// The experience section, when there is one: a line per side, then the
/// comparison within each band that has 2 attempts a side (or why none
/// does), the bands too thin to compare, and the bands' bounds.
pub struct ExperienceView {
    pub lines: Vec<String>,
    pub bands: Option<Vec<Vec<String>>>,
    pub notes: Vec<String>,
}

pub fn experience_view(r: &StatsReport, unit: Unit) -> Option<ExperienceView> {
    let x = r.experience.as_ref()?;
    let lines = x
        .sides
        .iter()
        .map(crate::stats::experience::describe)
        .collect();
    let bands = (!x.band_comparisons.is_empty()).then(|| {
        comparison_rows_of(
            r,
            "experience band",
            x.band_comparisons.iter().map(|b| &b.comparison),
            unit,
        )
    });
    let mut notes = Vec::new();
    if bands.is_none() {
        notes.push(format!(
            "No experience band has {} attempts a side with experience recorded: no comparison within bands.",
            crate::stats::MIN_PER_SIDE
        ));
    }
    if !x.bands_too_thin.is_empty() {
        let thin: Vec<String> = x
            .bands_too_thin
            .iter()
            .map(|t| format!("{} ({}/{})", t.band.label(), t.n[0], t.n[1]))
            .collect();
        notes.push(format!(
            "Not compared, fewer than {} attempts a side: {}.",
            crate::stats::MIN_PER_SIDE,
            thin.join(", ")
        ));
    }
    notes.extend(withheld_notes_of(
        x.band_comparisons.iter().map(|b| &b.comparison),
    ));
    Some(ExperienceView {
        lines,
        bands,
        notes,
    })
}

pub fn cost_rows(r: &StatsReport, cost: &crate::stats::Cost) -> Vec<Vec<String>> {
    let [a, b] = &r.options.compare;
    let mut rows = vec![vec![
        r.options.group_by.as_str().to_string(),
        format!("median incident {a}"),
        format!("median incident {b}"),
        format!("{b} − {a}"),
    ]];
    let find = |g: &str, l: &str| {
        cost.rows
            .iter()
            .find(|x| x.group == g && x.language == *l)
            .map_or("—".to_string(), |x| money_time(x.median_cost))
    };
    for c in &r.comparisons {
        let d = cost.difference.get(&c.group).copied().flatten();
        rows.push(vec![
            c.group.clone(),
            find(&c.group, a),
            find(&c.group, b),
            d.map_or("—".to_string(), |v| format!("{v:+.0}")),
        ]);
    }
    rows
}

/// The lines every human format prints under its tables.
pub fn notes(r: &StatsReport) -> Vec<String> {
    let i = &r.inputs;
    let o = &r.options;
    let mut v = vec![format!(
        "{} attempt(s) by {} engineer(s){}; {} duplicate(s) counted once; {} test-clock record(s) left out.",
        i.attempts,
        i.engineers,
        match (i.first_started, i.last_started) {
            (Some(a), Some(b)) => format!(", started {} to {}", &a.to_string()[..10], &b.to_string()[..10]),
            _ => String::new(),
        },
        i.duplicates,
        i.test_clock_excluded
    )];
    if i.open_left_out + i.repeats_left_out + i.prevented > 0 {
        v.push(format!(
            "In the comparisons: {} of them; left out: {} still open (--include-open), {} repeat(s) (--include-repeats); {} on drills one language prevents, reported apart.",
            i.compared, i.open_left_out, i.repeats_left_out, i.prevented
        ));
    }
    v.push(
        "Gave-up, timed-out and open attempts are censored, never dropped: medians and quantiles \
         are Kaplan–Meier estimates; \"> t\" means not reached within the longest follow-up t; \
         no interval is given from fewer than 2 attempts a side."
            .to_string(),
    );
    v.push(format!(
        "Ratios are {b}/{a} of median time-to-fix, percentile bootstrap ({} resamples, seed {}); \
         rank tests put give-ups after every fix; Holm corrects across the {} groups.",
        o.resamples,
        o.seed,
        o.group_by.as_str(),
        a = o.compare[0],
        b = o.compare[1]
    ));
    v
}
