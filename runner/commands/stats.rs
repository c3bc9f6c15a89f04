//! `drill stats` and `drill report`, and the attempt selection they share
//! with `drill attempts export`. Arguments and wiring only; the work is in
//! `stats`, `export` and `report`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{Context, ResultsArgs};
use crate::bench::stored::Stored;
use crate::clock::Timestamp;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::export::{self, Format};
use crate::gameday::stats as gdstats;
use crate::report::{self, decision::Prices};
use crate::stats::{self, bootstrap, dataset, GroupBy};

/// Which attempts: shared by stats, report and export.
#[derive(Debug, Args, Clone)]
pub struct Selection {
    #[command(flatten)]
    pub results: ResultsArgs,
    /// Only these engineers (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub engineer: Vec<String>,
    /// Only these scenarios.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub scenario: Vec<String>,
    /// Only these bug classes.
    #[arg(long, value_delimiter = ',', value_name = "CLASS")]
    pub class: Vec<String>,
    /// Only these languages.
    #[arg(long = "lang", value_delimiter = ',', value_name = "LANG")]
    pub language: Vec<String>,
    /// Only these drills (`scenario/bug`).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub drill: Vec<String>,
    /// Only attempts started on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only attempts started before the end of this date (YYYY-MM-DD) or before this instant.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// How to analyse: shared by stats and report.
#[derive(Debug, Args, Clone)]
pub struct Analysis {
    /// Rows per bug class (default), engineer, scenario or drill (always split by language).
    #[arg(long, value_enum, default_value = "class")]
    pub by: GroupBy,
    /// The two languages compared; ratios are second/first.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "go,rust",
        value_name = "A,B"
    )]
    pub compare: Vec<String>,
    /// Cost of an engineer-hour, to price a median incident (`drill report`
    /// prices at 100 without it, and says so).
    #[arg(long, value_name = "AMOUNT")]
    pub hourly_rate: Option<f64>,
    /// Engineers working one incident (with --hourly-rate).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub engineers_per_incident: f64,
    /// Bootstrap resamples for the ratio CIs (at least 10000).
    #[arg(long, default_value_t = bootstrap::DEFAULT_RESAMPLES,
          value_parser = clap::value_parser!(u32).range(10_000..=1_000_000))]
    pub resamples: u32,
    /// Bootstrap seed: the same seed and data give the same intervals.
    #[arg(long, default_value_t = bootstrap::DEFAULT_SEED)]
    pub seed: u64,
    /// Count still-open attempts in the comparisons, censored at their time
    /// so far (default: left out, and counted in the warnings).
    #[arg(long)]
    pub include_open: bool,
    /// Count repeat attempts (an engineer meeting a drill again; default:
    /// left out, and counted in the warnings).
    #[arg(long)]
    pub include_repeats: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub analysis: Analysis,
    /// Print the versioned JSON document (docs/stats-format.md).
    #[arg(long, conflicts_with_all = ["csv", "markdown"])]
    pub json: bool,
    /// Print CSV: one row per group × language.
    #[arg(long, conflicts_with = "markdown")]
    pub csv: bool,
    /// Print Markdown tables.
    #[arg(long)]
    pub markdown: bool,
    /// Game days instead of attempts: time to detect, acknowledge,
    /// mitigate, fix and resolve per language (Kaplan–Meier from the
    /// fault; docs/stats-format.md, "Game days"). Takes --drill,
    /// --scenario, --lang, --since, --until and --json.
    #[arg(long, conflicts_with_all = ["csv", "markdown"])]
    pub gameday: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to write the HTML page.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub analysis: Analysis,
    #[command(flatten)]
    pub prices: PriceArgs,
}

/// What the decision record's monthly bill is priced with; each has a
/// documented default (docs/report.md), marked as such on the page.
#[derive(Debug, Args, Clone)]
pub struct PriceArgs {
    /// Instances of each service the bill is for [default: 10].
    #[arg(long, value_name = "N")]
    pub instances: Option<f64>,
    /// Price of one node per month [default: 140].
    #[arg(long, value_name = "AMOUNT")]
    pub node_cost: Option<f64>,
    /// Cores of one node [default: 4].
    #[arg(long, value_name = "N")]
    pub node_cores: Option<f64>,
    /// Memory of one node, GB [default: 16].
    #[arg(long, value_name = "GB")]
    pub node_memory_gb: Option<f64>,
    /// Price of one GB of memory for a month [default: 3.25].
    #[arg(long, value_name = "AMOUNT")]
    pub gb_month: Option<f64>,
    /// Price of one core for an hour [default: 0.04].
    #[arg(long, value_name = "AMOUNT")]
    pub cpu_hour: Option<f64>,
    /// Incidents per service per month [default: 2].
    #[arg(long, value_name = "N")]
    pub incidents_per_month: Option<f64>,
}

fn parse_date(s: &str, end_of_day: bool) -> Result<Timestamp, Failure> {
    let s = s.trim();
    if s.len() == 10 {
        let t: Timestamp = format!("{s}T00:00:00Z")
            .parse()
            .map_err(|e| Failure::usage(format!("{e}")))?;
        return Ok(if end_of_day { t.plus_ms(86_400_000) } else { t });
    }
    s.parse().map_err(|e| Failure::usage(format!("{e}")))
}

/// The attempts `sel` selects, from the results directories it means
/// ([`Context::results_dirs`]); damaged records are warned about on stderr.
pub(crate) fn load(ctx: &Context, sel: &Selection) -> Result<dataset::Dataset, Failure> {
    let now = ctx.now();
    let filter = dataset::Filter {
        engineers: sel.engineer.clone(),
        scenarios: sel.scenario.clone(),
        classes: sel.class.clone(),
        languages: sel.language.clone(),
        drills: sel.drill.clone(),
        since: sel
            .since
            .as_deref()
            .map(|s| parse_date(s, false))
            .transpose()?,
        until: sel
            .until
            .as_deref()
            .map(|s| parse_date(s, true))
            .transpose()?,
    };
    let dirs: Vec<PathBuf> = ctx
        .results_dirs(&sel.results)?
        .iter()
        .map(|d| d.root().to_path_buf())
        .collect();
    let ds = dataset::load(&dirs, &filter, now).map_err(|e| Failure::new(Kind::Records, e))?;
    for d in &ds.damaged {
        eprintln!(
            "warning: damaged attempt record {} (not counted): {}; {}",
            d.path.display(),
            d.why,
            crate::results::DAMAGED_ADVICE
        );
    }
    Ok(ds)
}

fn options(a: &Analysis, now: Timestamp) -> Result<stats::Options, Failure> {
    let [first, second] = <[String; 2]>::try_from(a.compare.clone()).map_err(|_| {
        Failure::usage("--compare takes exactly two languages, e.g. --compare go,rust")
    })?;
    if a.hourly_rate.is_some_and(|r| !(r.is_finite() && r >= 0.0)) {
        return Err(Failure::usage("--hourly-rate must be a number >= 0"));
    }
    if !(a.engineers_per_incident.is_finite() && a.engineers_per_incident > 0.0) {
        return Err(Failure::usage(
            "--engineers-per-incident must be a number > 0",
        ));
    }
    let mut o = stats::Options::new(now);
    o.group_by = a.by;
    o.compare = [first, second];
    o.hourly_rate = a.hourly_rate;
    o.engineers_per_incident = a.engineers_per_incident;
    o.resamples = a.resamples;
    o.seed = a.seed;
    o.include_open = a.include_open;
    o.include_repeats = a.include_repeats;
    Ok(o)
}

/// Exit code for a command that read `ds`: damaged records are reported.
pub(crate) fn code(ds: &dataset::Dataset) -> u8 {
    if ds.damaged.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    }
}

/// `drill stats`.
pub fn stats(ctx: &Context, args: StatsArgs) -> Result<u8, Failure> {
    let now = ctx.now();
    if args.gameday {
        let conf = options(&args.analysis, now)?.conf;
        return gameday_stats(ctx, &args.selection, args.json, conf);
    }
    let ds = load(ctx, &args.selection)?;
    let report = stats::analyze(&ds, &options(&args.analysis, now)?);
    let format = match (args.json, args.csv, args.markdown) {
        (true, _, _) => Format::Json,
        (_, true, _) => Format::Csv,
        (_, _, true) => Format::Markdown,
        _ => Format::Terminal,
    };
    out!("{}", export::exporter(format).render(&report));
    Ok(code(&ds))
}

/// The bill's inputs: the ones given, the defaults for the rest.
fn prices(p: &PriceArgs, a: &Analysis) -> Result<Prices, Failure> {
    use report::decision::*;
    let given = [
        ("--instances", p.instances),
        ("--node-cost", p.node_cost),
        ("--node-cores", p.node_cores),
        ("--node-memory-gb", p.node_memory_gb),
        ("--gb-month", p.gb_month),
        ("--cpu-hour", p.cpu_hour),
        ("--incidents-per-month", p.incidents_per_month),
    ];
    for (name, v) in given {
        if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
            return Err(Failure::usage(format!("{name} must be a number >= 0")));
        }
    }
    Ok(Prices {
        instances: Input::or(p.instances, DEFAULT_INSTANCES),
        node_month: Input::or(p.node_cost, DEFAULT_NODE_MONTH),
        node_cores: Input::or(p.node_cores, DEFAULT_NODE_CORES),
        node_memory_gb: Input::or(p.node_memory_gb, DEFAULT_NODE_MEMORY_GB),
        gb_month: Input::or(p.gb_month, DEFAULT_GB_MONTH),
        cpu_hour: Input::or(p.cpu_hour, DEFAULT_CPU_HOUR),
        incidents_per_month: Input::or(p.incidents_per_month, DEFAULT_INCIDENTS_PER_MONTH),
        hourly_rate: Input::or(a.hourly_rate, stats::DEFAULT_HOURLY_RATE),
        engineers_per_incident: Input {
            value: a.engineers_per_incident,
            default: a.engineers_per_incident == 1.0,
        },
    })
}

/// `drill report`.
pub fn report(ctx: &Context, args: ReportArgs) -> Result<u8, Failure> {
    let now = ctx.now();
    let ds = load(ctx, &args.selection)?;
    let opts = options(&args.analysis, now)?;
    let prices = prices(&args.prices, &args.analysis)?;
    let stats = stats::analyze(&ds, &opts);
    // The bill's debugging side: the same attempts, per scenario.
    let by_scenario = if opts.group_by == GroupBy::Scenario {
        stats.clone()
    } else {
        let mut o = opts.clone();
        o.group_by = GroupBy::Scenario;
        stats::analyze(&ds, &o)
    };
    let roots: Vec<PathBuf> = ctx
        .results_dirs(&args.selection.results)?
        .iter()
        .map(|d| d.root().to_path_buf())
        .collect();
    let stored = Stored::load(&roots.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    for d in &stored.damaged {
        eprintln!(
            "warning: damaged bench result {} (not shown): {}; {}",
            d.path.display(),
            d.why,
            crate::results::DAMAGED_ADVICE
        );
    }
    let runtime = report::RuntimeInputs {
        stored: &stored,
        by_scenario: &by_scenario,
        prices: &prices,
        scenarios: &args.selection.scenario,
    };
    // Game days, when the directories hold any (the filters that apply to them).
    let gamedays = if roots.iter().any(|r| crate::gameday::stats::any_in(r)) {
        Some(load_gamedays(ctx, &args.selection, opts.conf)?.0)
    } else {
        None
    };
    let html = report::render(&stats, &ds, Some(&runtime), gamedays.as_ref());
    std::fs::write(&args.out, html)
        .with_context(|| format!("writing the report to {}", args.out.display()))
        .map_err(|e| Failure::new(Kind::Environment, e))?;
    eprintln!(
        "wrote {} ({} attempts, {} comparisons, {} bench result(s), {} game day(s))",
        args.out.display(),
        stats.inputs.attempts,
        stats.comparisons.len(),
        stored.results.len(),
        gamedays.as_ref().map_or(0, |g| g.rows.len())
    );
    Ok(if stored.damaged.is_empty() {
        code(&ds)
    } else {
        exit_code::RECORDS
    })
}

/// The game days `sel` selects (the filters that apply to game days);
/// damaged records are warned about on stderr.
fn load_gamedays(
    ctx: &Context,
    sel: &Selection,
    conf: f64,
) -> Result<(crate::gameday::stats::GamedayStats, usize), Failure> {
    let date = |s: &Option<String>, end: bool| s.as_deref().map(|s| parse_date(s, end)).transpose();
    let filter = gdstats::Filter {
        drills: sel.drill.clone(),
        scenarios: sel.scenario.clone(),
        languages: sel.language.clone(),
        engineers: sel.engineer.clone(),
        classes: sel.class.clone(),
        since: date(&sel.since, false)?,
        until: date(&sel.until, true)?,
    };
    let dirs: Vec<PathBuf> = ctx
        .results_dirs(&sel.results)?
        .iter()
        .map(|d| d.root().to_path_buf())
        .collect();
    let mut loaded = gdstats::load(&dirs);
    // A record from before the header kept the class: the catalog's, if it
    // still has the drill.
    if !sel.class.is_empty() {
        if let Ok(catalog) = ctx.catalog() {
            for r in loaded
                .records
                .iter_mut()
                .filter(|r| r.gameday.class.is_none())
            {
                r.gameday.class = catalog
                    .drill(&r.gameday.drill)
                    .ok()
                    .map(|d| d.class.clone());
            }
        }
    }
    for d in &loaded.damaged {
        eprintln!(
            "warning: damaged game-day record {} (not counted): {}; {}",
            d.path.display(),
            d.why,
            crate::results::DAMAGED_ADVICE
        );
    }
    let selected = gdstats::select(&loaded, &filter);
    Ok((gdstats::analyze(&selected, conf), loaded.damaged.len()))
}

/// `drill stats --gameday`.
fn gameday_stats(ctx: &Context, sel: &Selection, json: bool, conf: f64) -> Result<u8, Failure> {
    let (s, damaged) = load_gamedays(ctx, sel, conf)?;
    if json {
        outln!("{}", s.json());
    } else {
        out!("{}", s.terminal());
    }
    Ok(if damaged == 0 {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::decision::{self as d, plain};

    #[test]
    fn the_price_options_help_states_the_defaults_the_bill_uses() {
        let mut cmd = <PriceArgs as Args>::augment_args(clap::Command::new("report"));
        let help = cmd.render_long_help().to_string();
        for (option, default) in [
            ("--instances", d::DEFAULT_INSTANCES),
            ("--node-cost", d::DEFAULT_NODE_MONTH),
            ("--node-cores", d::DEFAULT_NODE_CORES),
            ("--node-memory-gb", d::DEFAULT_NODE_MEMORY_GB),
            ("--gb-month", d::DEFAULT_GB_MONTH),
            ("--cpu-hour", d::DEFAULT_CPU_HOUR),
            ("--incidents-per-month", d::DEFAULT_INCIDENTS_PER_MONTH),
        ] {
            let at = help
                .find(&format!("  {option} "))
                .unwrap_or_else(|| panic!("{option} not in the help:\n{help}"));
            let line = help[at..].split("\n\n").next().unwrap_or_default();
            assert!(
                line.contains(&format!("[default: {}]", plain(default))),
                "{option}: {line}"
            );
        }
    }
}
