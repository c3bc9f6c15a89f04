//! `drill profile`: record or show an engineer's self-reported experience
//! per language. The data is `crate::profile`, its files `results.rs`;
//! `drill start` takes the same flags ([`ExperienceArgs`]) and copies the
//! profile into each new attempt.

use clap::Args;

use super::{Context, ResultsArgs};
use crate::console::table;
use crate::error::Failure;
use crate::exit_code;
use crate::profile::{self, Change, Profile};
use crate::results::ResultsDir;
use crate::terminal::safe;

/// The languages the profile flags name (the catalog's two).
const LANGUAGES: [&str; 2] = ["go", "rust"];

/// Experience flags, shared by `drill profile` and `drill start`.
#[derive(Debug, Args, Clone, Default)]
pub struct ExperienceArgs {
    /// Years you have worked in Go (self-reported; decimals allowed, e.g. 0.5).
    #[arg(long, value_name = "YEARS")]
    pub go_years: Option<f64>,
    /// You have been on call for a service written in Go.
    #[arg(long, overrides_with = "no_go_oncall")]
    pub go_oncall: bool,
    /// You have never been on call for a Go service.
    #[arg(long, overrides_with = "go_oncall")]
    pub no_go_oncall: bool,
    /// Years you have worked in Rust (self-reported; decimals allowed).
    #[arg(long, value_name = "YEARS")]
    pub rust_years: Option<f64>,
    /// You have been on call for a service written in Rust.
    #[arg(long, overrides_with = "no_rust_oncall")]
    pub rust_oncall: bool,
    /// You have never been on call for a Rust service.
    #[arg(long, overrides_with = "rust_oncall")]
    pub no_rust_oncall: bool,
}

impl ExperienceArgs {
    fn oncall(yes: bool, no: bool) -> Option<bool> {
        match (yes, no) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }

    /// What the flags say, per language (only the languages they name).
    pub fn changes(&self) -> Vec<Change> {
        let [go, rust] = LANGUAGES;
        [
            (
                go,
                self.go_years,
                Self::oncall(self.go_oncall, self.no_go_oncall),
            ),
            (
                rust,
                self.rust_years,
                Self::oncall(self.rust_oncall, self.no_rust_oncall),
            ),
        ]
        .into_iter()
        .filter(|(_, y, o)| y.is_some() || o.is_some())
        .map(|(l, years, oncall)| Change {
            language: l.to_string(),
            years,
            oncall,
        })
        .collect()
    }

    pub fn is_given(&self) -> bool {
        !self.changes().is_empty()
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  drill profile --engineer ada --go-years 6 --go-oncall --rust-years 1 --no-rust-oncall
  drill profile --engineer ada               show it (--json for machines)
  drill profile --all                        every engineer's profile

The profile is one file in the results directory (profiles/), so it travels
with the results. Every attempt keeps a copy of its engineer's profile from
the moment it started: changing the profile later changes no attempt.
`drill stats` warns when the languages' attempts come from unequal experience
and compares them within experience bands; `drill plan` balances on it.")]
pub struct ProfileArgs {
    /// Whose profile; default: git config user.name (as `drill start`).
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub engineer: Option<String>,
    /// List every engineer's profile in the results directory.
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub results: ResultsArgs,
    #[command(
        flatten,
        next_help_heading = "Experience (self-reported; only what you pass changes)"
    )]
    pub experience: ExperienceArgs,
}

/// The `--json` of `drill profile` (one engineer) and `--all`.
const SHOW_FORMAT: &str = "drillkit-profile-show";
const SHOW_VERSION: u32 = 1;

pub fn profile(ctx: &Context, args: ProfileArgs) -> Result<u8, Failure> {
    let results = ctx.results_dir(&args.results)?;
    if args.all {
        if args.experience.is_given() {
            return Err(Failure::usage(
                "--all lists profiles; to change one, pass --engineer NAME with the experience flags",
            ));
        }
        return list(&results, args.json);
    }
    let engineer = super::engineer_name(args.engineer.as_deref()).ok_or_else(|| {
        Failure::usage("whose profile? pass --engineer NAME (or set git config --global user.name)")
    })?;
    super::check_engineer_name(&engineer)?;
    let saved = if args.experience.is_given() {
        Some(update(ctx, &results, &engineer, &args.experience)?)
    } else {
        None
    };
    let current = match saved {
        Some(p) => Some(p),
        None => results.load_profile(&engineer)?,
    };
    let path = results.profile_path(&engineer);
    if args.json {
        let value = serde_json::json!({
            "format": SHOW_FORMAT,
            "format_version": SHOW_VERSION,
            "engineer": engineer,
            "path": path.display().to_string(),
            "profile": current,
        });
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    match &current {
        Some(p) => {
            out!("{}", describe(p));
            if args.experience.is_given() {
                outln!("saved {}", path.display());
            }
            outln!(
                "Attempts keep the experience they started with; a change applies to new attempts."
            );
        }
        None => outln!(
            "No profile for {}. {}",
            safe(&engineer),
            how_to_record(&engineer)
        ),
    }
    Ok(exit_code::SUCCESS)
}

/// Applies `flags` to `engineer`'s profile and saves it; returns it.
pub fn update(
    ctx: &Context,
    results: &ResultsDir,
    engineer: &str,
    flags: &ExperienceArgs,
) -> Result<Profile, Failure> {
    let _lock = results.lock_profile(engineer)?;
    let existing = results.load_profile(engineer)?;
    let p = Profile::updated(existing, engineer, &flags.changes(), ctx.now())
        .map_err(Failure::usage)?;
    results.save_profile(&p)?;
    Ok(p)
}

/// The one line that says how to record a profile.
pub fn how_to_record(engineer: &str) -> String {
    let name = if engineer.contains(char::is_whitespace) {
        format!("\"{}\"", safe(engineer))
    } else {
        safe(engineer).into_owned()
    };
    format!(
        "Record one (statistics then compare like with like): drill profile --engineer {name} \
         --go-years N --go-oncall|--no-go-oncall --rust-years N --rust-oncall|--no-rust-oncall"
    )
}

fn describe(p: &Profile) -> String {
    let mut s = format!(
        "Engineer  {} (profile updated {})\n",
        safe(&p.engineer),
        p.experience.updated_at
    );
    for l in LANGUAGES {
        let what = p
            .experience
            .get(l)
            .map_or("not given".to_string(), profile::describe);
        s.push_str(&format!("  {l:<5} {what}\n"));
    }
    for (l, e) in &p.experience.languages {
        if !LANGUAGES.contains(&l.as_str()) {
            s.push_str(&format!("  {:<5} {}\n", safe(l), profile::describe(*e)));
        }
    }
    s
}

fn list(results: &ResultsDir, json: bool) -> Result<u8, Failure> {
    let (profiles, damaged) = results.profiles()?;
    for d in &damaged {
        eprintln!(
            "damaged profile {}: {}; {}",
            d.path.display(),
            d.why,
            crate::results::DAMAGED_ADVICE
        );
    }
    if json {
        let value = serde_json::json!({
            "format": SHOW_FORMAT,
            "format_version": SHOW_VERSION,
            "profiles": profiles,
            "damaged": damaged,
        });
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else if profiles.is_empty() {
        outln!(
            "No profiles in {}. {}",
            results.root().display(),
            how_to_record("NAME")
        );
    } else {
        let mut rows = vec![vec![
            "engineer".to_string(),
            "go".to_string(),
            "rust".to_string(),
            "updated".to_string(),
        ]];
        for p in &profiles {
            let cell = |l: &str| {
                p.experience
                    .get(l)
                    .map_or("—".to_string(), profile::describe)
            };
            rows.push(vec![
                safe(&p.engineer).into_owned(),
                cell("go"),
                cell("rust"),
                p.experience.updated_at.to_string()[..10].to_string(),
            ]);
        }
        out!("{}", table(&rows));
    }
    Ok(if damaged.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::RECORDS
    })
}
