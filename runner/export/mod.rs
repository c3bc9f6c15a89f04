//! Rendering a [`StatsReport`]: one exporter per format behind one trait
//! (hyperfine's shape). The terminal table is the default; JSON is the
//! versioned machine format (docs/stats-format.md); CSV and Markdown are for
//! spreadsheets and pull requests.

mod csv;
mod json;
mod markdown;
mod terminal;

use crate::attempt::human_duration;
use crate::stats::km::Time;
use crate::stats::{Comparison, Ratio, StatsReport, Verdict};

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

/// `12m30s`, `> 1h30m00s` (not reached within the follow-up), `—` (no data).
pub fn time(t: Time) -> String {
    match t {
        Time::At(s) => human_duration((s * 1000.0).round() as u64),
        Time::After(s) => format!("> {}", human_duration((s * 1000.0).round() as u64)),
        Time::Unknown => "—".to_string(),
    }
}

pub fn time_ci(ci: &[Time; 2]) -> String {
    format!("[{}, {}]", time(ci[0]), time(ci[1]))
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

pub fn ratio(r: Ratio) -> String {
    match r {
        Ratio::Value(v) => format!("{}×", factor(v)),
        Ratio::Above(v) => format!("> {}×", factor(v)),
        Ratio::Below(v) => format!("< {}×", factor(v)),
        Ratio::Undefined => "—".to_string(),
    }
}

pub fn ratio_with_ci(c: &Comparison) -> String {
    format!(
        "{} [{}, {}]",
        ratio(c.ratio),
        factor(c.ratio_ci.lo),
        factor(c.ratio_ci.hi)
    )
}

/// Minutes with a sign, for shifts.
pub fn shift(s: f64) -> String {
    if s.is_infinite() {
        return if s > 0.0 { "+∞" } else { "−∞" }.to_string();
    }
    if s.is_nan() {
        return "—".to_string();
    }
    format!("{:+.1} min", s / 60.0)
}

pub fn shift_with_ci(c: &Comparison) -> String {
    let h = &c.hodges_lehmann;
    format!("{} [{}, {}]", shift(h.estimate), shift(h.lo), shift(h.hi))
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
pub fn cell_rows(r: &StatsReport) -> Vec<Vec<String>> {
    let mut rows = vec![[
        r.options.group_by.as_str(),
        "lang",
        "n",
        "fixed",
        "gave up",
        "timed out",
        "open",
        "median fix [95% CI]",
        "IQR",
        "p90",
        "median find",
        "submits",
        "hints",
    ]
    .map(String::from)
    .to_vec()];
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
                time(c.time_to_fix.median),
                time_ci(&c.time_to_fix.median_ci)
            ),
            format!("{} – {}", time(c.time_to_fix.q1), time(c.time_to_fix.q3)),
            time(c.time_to_fix.p90),
            time(c.time_to_find.median),
            format!("{:.1}", c.submits_per_attempt),
            format!("{:.1}", c.hints_per_attempt),
        ]);
    }
    rows
}

pub fn comparison_rows(r: &StatsReport) -> Vec<Vec<String>> {
    let [a, b] = &r.options.compare;
    let mut rows = vec![vec![
        r.options.group_by.as_str().to_string(),
        format!("n {a}/{b}"),
        format!("median {a}"),
        format!("median {b}"),
        format!("{b}/{a} [95% CI]"),
        format!("shift {b}−{a} [95% CI]"),
        "Mann–Whitney p".to_string(),
        "log-rank p".to_string(),
        "Holm p".to_string(),
        "paired (Wilcoxon)".to_string(),
        "verdict".to_string(),
    ]];
    for c in &r.comparisons {
        rows.push(vec![
            c.group.clone(),
            format!("{}/{}", c.n[0], c.n[1]),
            time(c.median[0]),
            time(c.median[1]),
            ratio_with_ci(c),
            shift_with_ci(c),
            p(c.mann_whitney.p),
            p(c.log_rank.p),
            c.log_rank_p_holm.map_or("—".to_string(), p),
            paired(c),
            verdict(c, &r.options.compare),
        ]);
    }
    rows
}

pub fn cost_rows(r: &StatsReport) -> Option<Vec<Vec<String>>> {
    let cost = r.cost.as_ref()?;
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
    Some(rows)
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
    v.push(
        "Gave-up, timed-out and open attempts are censored, never dropped: medians and quantiles \
         are Kaplan–Meier estimates; \"> t\" means not reached within the longest follow-up t."
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
