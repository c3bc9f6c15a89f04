//! `drill plan` (make and save a counterbalanced plan) and `drill plan
//! status`. The work is in `crate::plan`; `start --next` deals from the plan
//! in `session/start.rs`.

use clap::{Args, Subcommand};

use super::{Context, ResultsArgs};
use crate::console::table;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::plan::{self, Progress};
use crate::stats::{self, dataset};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: Option<PlanCommand>,
    /// The engineers taking part (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub engineers: Vec<String>,
    /// The drills to use (each class needs at least two).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "IDS",
        required_unless_present = "classes"
    )]
    pub drills: Vec<String>,
    /// Or: every catalog drill of these classes.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CLASSES",
        conflicts_with = "drills"
    )]
    pub classes: Vec<String>,
    /// The two languages, in the order engineer 1 starts with.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "go,rust",
        value_name = "A,B"
    )]
    pub languages: Vec<String>,
    #[command(flatten)]
    pub results: ResultsArgs,
    /// Replace an existing plan.
    #[arg(long)]
    pub force: bool,
    /// Instead of saving a plan: estimate by simulation how many engineers
    /// it needs to detect --ratio (docs/stats-format.md, "Power").
    #[arg(long, conflicts_with = "force")]
    pub power: bool,
    /// The ratio of median time-to-fix (second/first language) to detect.
    #[arg(long, default_value_t = 1.5, requires = "power", value_name = "R")]
    pub ratio: f64,
    /// The wanted probability of detecting it.
    #[arg(long, default_value_t = stats::power::DEFAULT_POWER, requires = "power", value_name = "P")]
    pub target_power: f64,
    /// Assume this median time-to-fix (minutes) of the first language
    /// instead of the pilot attempts in the results.
    #[arg(long, requires = "power", value_name = "MINUTES")]
    pub assume_median: Option<f64>,
    /// With no pilot: the assumed log-sd of times.
    #[arg(long, default_value_t = 0.6, requires = "power", value_name = "S")]
    pub assume_sigma: f64,
    /// With no pilot: the assumed fraction of give-ups.
    #[arg(long, default_value_t = 0.12, requires = "power", value_name = "F")]
    pub assume_give_up: f64,
    /// Simulated experiments per plan size.
    #[arg(long, default_value_t = stats::power::DEFAULT_SIMULATIONS, requires = "power",
          value_parser = clap::value_parser!(u32).range(50..=20_000))]
    pub simulations: u32,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Show each engineer's progress through the saved plan.
    Status {
        #[command(flatten)]
        results: ResultsArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `drill plan --power`: engineers needed, from the pilot in the results or
/// the stated assumption.
fn power(
    ctx: &Context,
    args: &PlanArgs,
    drills: &[(String, String)],
    languages: &[String; 2],
) -> Result<u8, Failure> {
    use stats::power::{self, Assumption, Baseline, Query};
    if !(args.ratio.is_finite() && args.ratio > 0.0 && args.ratio != 1.0) {
        return Err(Failure::usage(
            "--ratio must be a number > 0 other than 1, e.g. --ratio 1.5",
        ));
    }
    if !(args.target_power > 0.0 && args.target_power < 1.0) {
        return Err(Failure::usage(
            "--target-power must be between 0 and 1, e.g. 0.8",
        ));
    }
    if args
        .assume_median
        .is_some_and(|m| !(m.is_finite() && m > 0.0))
        || !(args.assume_sigma.is_finite() && args.assume_sigma > 0.0)
        || !(0.0..1.0).contains(&args.assume_give_up)
    {
        return Err(Failure::usage(
            "--assume-median must be > 0 minutes, --assume-sigma > 0 and --assume-give-up in [0, 1)",
        ));
    }
    let classes: std::collections::BTreeSet<&str> =
        drills.iter().map(|(_, c)| c.as_str()).collect();
    let dirs = ctx.results_dirs(&args.results)?;
    let roots: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.root().to_path_buf()).collect();
    let ds = dataset::load(&roots, &dataset::Filter::default(), ctx.now())
        .map_err(|e| Failure::new(Kind::Records, e))?;
    let opts = stats::Options::new(ctx.now());
    let pilot: Vec<_> = stats::select(&ds, &opts)
        .compared
        .into_iter()
        .filter(|o| o.language == languages[0] && classes.contains(o.class.as_str()))
        .map(|o| o.fix_obs())
        .collect();
    let assumption = Assumption {
        median_s: args.assume_median.unwrap_or(25.0) * 60.0,
        sigma: args.assume_sigma,
        give_up: args.assume_give_up,
    };
    let baseline = match args.assume_median {
        Some(_) => Baseline::Assumed(assumption),
        None => Baseline::from_pilot(&pilot, assumption),
    };
    let query = Query {
        ratio: args.ratio,
        classes: classes.len(),
        alpha: opts.alpha,
        power: args.target_power,
        simulations: args.simulations,
        seed: stats::bootstrap::DEFAULT_SEED,
    };
    let named =
        (!args.engineers.is_empty()).then(|| power::at(&baseline, &query, args.engineers.len()));
    let estimate = power::estimate(baseline, query);
    let from = roots
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    out!("{}", power::render(&estimate, languages, &from, named));
    Ok(exit_code::SUCCESS)
}

fn plan_failure(e: plan::PlanError) -> Failure {
    match e {
        plan::PlanError::Io { .. } => Failure::new(Kind::Records, e),
        _ => Failure::new(Kind::Usage, e),
    }
}

/// `drill plan` and `drill plan status`.
pub fn plan(ctx: &Context, args: PlanArgs) -> Result<u8, Failure> {
    if let Some(PlanCommand::Status { results, json }) = &args.command {
        return status(ctx, results, *json);
    }
    let languages = <[String; 2]>::try_from(args.languages.clone())
        .map_err(|_| Failure::usage("--languages takes exactly two, e.g. --languages go,rust"))?;
    let catalog = ctx.catalog()?;
    // A plan compares the two languages on the same drills: a drill that
    // exists in one of them only (its bug prevented by the other's idioms)
    // has no place in it; stats report such drills apart.
    let in_both = |d: &crate::catalog::Drill| {
        let have = d.declared_languages();
        languages.iter().all(|l| have.contains(l))
    };
    let mut drills = Vec::new();
    if args.classes.is_empty() {
        for id in &args.drills {
            let d = catalog.drill(id)?;
            if !in_both(d) {
                let why = d.prevented.as_ref().map_or_else(String::new, |p| {
                    format!(" (prevented in {}: {})", p.lang, p.note)
                });
                return Err(Failure::usage(format!(
                    "{} exists only in {}{why}; a plan compares {} on the same drills, so \
                     leave it out of --drills",
                    d.id,
                    d.declared_languages().join(", "),
                    languages.join(" and ")
                )));
            }
            drills.push((d.id.clone(), d.class.clone()));
        }
    } else {
        for class in &args.classes {
            let found: Vec<_> = catalog
                .drills
                .iter()
                .filter(|d| &d.class == class)
                .collect();
            if found.is_empty() {
                return Err(Failure::usage(format!(
                    "no drill in the catalog has class {class:?}"
                )));
            }
            let (usable, one_language): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|d| in_both(d));
            if !one_language.is_empty() {
                let ids: Vec<&str> = one_language.iter().map(|d| d.id.as_str()).collect();
                eprintln!(
                    "note: left out of the plan, as they exist in one language only: {}",
                    ids.join(", ")
                );
            }
            drills.extend(usable.into_iter().map(|d| (d.id.clone(), d.class.clone())));
        }
    }
    if args.power {
        return power(ctx, &args, &drills, &languages);
    }
    let dir = ctx.results_dir(&args.results)?;
    // Balance on the engineers' profiles as they are now (the plan is for
    // attempts to come).
    let mut profiles = std::collections::BTreeMap::new();
    for e in &args.engineers {
        if let Some(p) = dir.load_profile(e)? {
            profiles.insert(e.clone(), p.experience);
        }
    }
    let classes = drills
        .iter()
        .map(|(_, c)| c.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let balance = plan::balanced_order(&args.engineers, &profiles, &languages, classes);
    let p = plan::make(&balance.order, &drills, languages).map_err(plan_failure)?;
    if plan::path_in(dir.root()).exists() && !args.force {
        return Err(Failure::usage(format!(
            "a plan already exists at {} (see `drill plan status`); pass --force to replace it",
            plan::path_in(dir.root()).display()
        )));
    }
    let path = plan::save(&p, dir.root()).map_err(plan_failure)?;
    out!("{}", plan_table(&p, None));
    outln!("\n{}", balance_text(&p, &balance, &profiles));
    outln!(
        "\nsaved {}; start with `drill start --next --engineer NAME`",
        path.display()
    );
    Ok(exit_code::SUCCESS)
}

/// What the plan balanced on, and what it could not.
fn balance_text(
    p: &plan::Plan,
    balance: &plan::Balance,
    profiles: &std::collections::BTreeMap<String, crate::profile::Experience>,
) -> String {
    use crate::terminal::safe;
    use plan::Stratum;
    let [a, b] = &p.languages;
    let mut s = format!(
        "Balanced: every engineer does every class once in {a} and once in {b}, so both \
         languages get the same engineers; classes follow Williams rows."
    );
    let unknown = balance.strata.get(&Stratum::Unknown).map_or(0, Vec::len);
    if unknown == p.engineers.len() {
        s.push_str(&format!(
            "\nNot balanced on experience: no engineer has a profile with both {a} and {b} \
             (record them with `drill profile --engineer NAME --{a}-years N ...`); the first \
             language alternates in the order given."
        ));
        return s;
    }
    s.push_str(
        "\nBalanced on experience (drill profile): the first language alternates within each group",
    );
    for (stratum, members) in &balance.strata {
        let name = match stratum {
            Stratum::First => format!("stronger in {a}"),
            Stratum::Even => "about even".to_string(),
            Stratum::Second => format!("stronger in {b}"),
            Stratum::Unknown => "no profile with both languages".to_string(),
        };
        let starts: Vec<String> = members
            .iter()
            .map(|m| format!("{} starts {}", safe(m), p.engineers[m][0].language))
            .collect();
        s.push_str(&format!("\n  {name}: {}", starts.join(", ")));
    }
    // What no plan can even out: the team's experience in each language.
    let side = |l: &str| {
        let known: Vec<_> = profiles.values().filter_map(|e| e.get(l)).collect();
        let mut years: Vec<f64> = known.iter().map(|e| e.years).collect();
        let median = if years.is_empty() {
            "—".to_string()
        } else {
            format!("{:.1}", stats::median_of(&mut years))
        };
        format!(
            "{l} median {median} years, {} of {} on call",
            known.iter().filter(|e| e.oncall).count(),
            known.len()
        )
    };
    s.push_str(&format!(
        "\nThe team's experience per language ({}; {}) is what it is: no plan changes it; \
         `drill stats` warns when it differs and compares within experience bands.",
        side(a),
        side(b)
    ));
    s
}

fn plan_table(
    p: &plan::Plan,
    progress: Option<&std::collections::BTreeMap<String, Vec<(plan::Assignment, Progress)>>>,
) -> String {
    let steps = p.engineers.values().map(Vec::len).max().unwrap_or(0);
    let mut rows = vec![std::iter::once("engineer".to_string())
        .chain((1..=steps).map(|i| i.to_string()))
        .collect::<Vec<_>>()];
    for (eng, seq) in &p.engineers {
        let mut row = vec![eng.clone()];
        for (k, a) in seq.iter().enumerate() {
            let mark = match progress.and_then(|m| m.get(eng)).map(|v| v[k].1) {
                Some(Progress::Done) => "✓ ",
                Some(Progress::InProgress) => "… ",
                _ => "",
            };
            // Planned attempts are blind: a drill is named once it is done.
            let shown = progress.is_none_or(|m| m.get(eng).is_some_and(|v| plan::shown(v[k].1)));
            if shown {
                row.push(format!("{mark}{} ({})", a.drill, a.language));
            } else {
                row.push(format!("{mark}hidden ({})", a.language));
            }
        }
        rows.push(row);
    }
    table(&rows)
}

fn status(ctx: &Context, results: &ResultsArgs, json: bool) -> Result<u8, Failure> {
    let dir = ctx.results_dir(results)?;
    let p = plan::load(dir.root()).map_err(plan_failure)?;
    let ds = dataset::load(
        &[dir.root().to_path_buf()],
        &dataset::Filter::default(),
        ctx.now(),
    )
    .map_err(|e| Failure::new(Kind::Records, e))?;
    let progress = plan::progress(&p, &ds.observations);
    if json {
        let value = serde_json::json!({
            "format": "drillkit-plan-status",
            "format_version": 1,
            "engineers": progress.iter().map(|(e, rows)| {
                serde_json::json!({
                    "engineer": e,
                    "done": rows.iter().filter(|(_, s)| *s == Progress::Done).count(),
                    "total": rows.len(),
                    "assignments": rows.iter().map(|(a, s)| {
                        let shown = plan::shown(*s);
                        serde_json::json!({
                            "order": a.order,
                            "drill": if shown { a.drill.as_str().into() } else { serde_json::Value::Null },
                            "class": if shown { a.class.as_str().into() } else { serde_json::Value::Null },
                            "hidden": !shown,
                            "language": a.language, "status": s,
                        })
                    }).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    out!("{}", plan_table(&p, Some(&progress)));
    outln!();
    for (e, rows) in &progress {
        let done = rows.iter().filter(|(_, s)| *s == Progress::Done).count();
        let next = rows.iter().find(|(_, s)| *s != Progress::Done);
        outln!(
            "{e}: {done}/{} done{}",
            rows.len(),
            next.map_or(String::new(), |(a, _)| format!(
                ", next: assignment {} ({}, drill hidden until done)",
                a.order, a.language
            ))
        );
    }
    Ok(exit_code::SUCCESS)
}
