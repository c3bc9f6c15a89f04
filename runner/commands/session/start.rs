//! `drill start`: pick the drill, make the workspace, warm the build, start
//! the timer. Everything before the `start` event is the kit's time, not the
//! engineer's.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::hash::{BuildHasher, Hasher};
use std::io::IsTerminal;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::target_dir::TreeCache;
use super::{cache, catalog, Ctx, StartArgs};
use crate::attempt::{Header, Record};
use crate::builder;
use crate::cargo_config;
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario, Toolchain};
use crate::clock::Timestamp;
use crate::commands::interruptible;
use crate::commands::profile;
use crate::confined::Dest;
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::process::Interrupts;
use crate::results::ResultsDir;
use crate::scratch::Scratch;
use crate::toolchain;
use crate::util::human_duration;
use crate::workspace::{self, Snapshot};
use crate::{
    blind::{History, Seen},
    plan,
};

/// Cargo's per-directory configuration, relative to a tree's root.
const CARGO_CONFIG: &str = ".cargo/config.toml";

fn usage(msg: impl Into<String>) -> Failure {
    Failure::new(Kind::Usage, anyhow::anyhow!(msg.into()))
}

pub fn start(ctx: &Ctx, args: StartArgs) -> Result<Started, Failure> {
    let catalog = catalog(ctx)?;
    let results = ctx.results_dir(&args.results)?;
    let engineer = crate::commands::engineer_name(args.engineer.as_deref())
        .or_else(ask_engineer)
        .ok_or_else(|| {
            usage(
                "who is drilling? pass --engineer NAME (or set it once with \
                 `git config --global user.name NAME`)",
            )
        })?;
    let history = History::load(&results);
    crate::commands::check_engineer_name(&engineer)?;
    // The experience the attempt records: the profile as it is now, after
    // the flags given here (if any) were saved into it.
    let experience = if args.experience.is_given() {
        Some(profile::update(ctx, &results, &engineer, &args.experience)?)
    } else {
        results.load_profile(&engineer)?
    }
    .map(|p| p.experience);
    let (drill, lang) = if args.next {
        let (id, lang) = next_assignment(&results, &history, &engineer)?;
        (catalog.drill(&id)?, lang)
    } else if args.random {
        pick_random(catalog, args.lang.as_deref(), &history, &engineer)?
    } else {
        let id = args
            .id
            .as_deref()
            .expect("clap requires an id without --random");
        let drill = catalog.drill(id)?;
        let withheld = history.withheld(catalog);
        if withheld.contains(&drill.id) {
            // Not even the id typed is echoed: nothing here may tell it.
            return Err(usage(format!(
                "that drill cannot be started by name now: {}",
                withheld.reason(&results)
            )));
        }
        let lang = match (&args.lang, drill.languages.as_slice()) {
            (Some(l), _) => l.clone(),
            (None, [only]) => only.clone(),
            (None, langs) => {
                return Err(usage(format!(
                    "which language? pass --lang {}",
                    langs.join("|")
                )))
            }
        };
        (drill, lang)
    };
    // Dealt without the engineer choosing it: a random pick or the plan's next.
    let blind = args.random || args.next;
    let earlier: Vec<&Seen> = history.attempts_on(&engineer, &drill.id).collect();
    let repeat = !earlier.is_empty();
    let scenario = catalog.scenario(&drill.scenario);
    let spec = match scenario.languages.get(&lang) {
        Some(spec) if drill.languages.contains(&lang) => spec,
        _ if !scenario.languages.contains_key(&lang) => {
            return Err(usage(format!(
                "unknown language {lang:?}; pass --lang {}",
                drill.languages.join("|")
            )))
        }
        _ if blind => {
            return Err(usage(format!(
                "the drill dealt has no {lang} version; start again"
            )))
        }
        _ => {
            return Err(usage(format!(
                "{} has no {lang} version; --lang {}",
                drill.id,
                drill.languages.join("|")
            )))
        }
    };
    let needed = if blind {
        format!("the {lang} drill dealt")
    } else {
        format!("the {lang} version of scenario `{}`", scenario.name)
    };
    let tc = toolchain::require(spec.toolchain, &spec.min_version, &needed)
        .map_err(|e| Failure::new(Kind::Toolchain, e))?;

    // The catalog's own tree holds the answers: never a workspace in it.
    refuse_inside_catalog(ctx, catalog, args.dir.as_deref())?;
    // A results directory that cannot take the record fails now, before
    // anything is built or claimed.
    results.check_writable()?;
    let (rt, mut interrupts) = interruptible()?;

    let id = attempt_id(ctx.clock.now(), &engineer);
    let claim = Claim::take(ctx, args.dir.as_deref(), drill, &lang, blind)?;
    let prepared = prepare(
        &rt,
        &mut interrupts,
        scenario,
        drill,
        spec,
        &claim,
        &id,
        &results,
        blind,
    );
    let build_ms = match prepared {
        Ok(p) => p,
        Err(e) => {
            claim.release();
            rt.shutdown_background();
            return Err(e);
        }
    };

    let header = Header {
        id: id.clone(),
        drill: drill.id.clone(),
        title: drill.title.clone(),
        class: drill.class.clone(),
        difficulty: drill.difficulty,
        language: lang.clone(),
        blind,
        repeat,
        prevented_in: drill.prevented.as_ref().map(|p| p.lang.clone()),
        engineer: engineer.clone(),
        toolchains: BTreeMap::from([(tc.program.clone(), tc.version.clone())]),
        kit_version: env!("CARGO_PKG_VERSION").to_string(),
        catalog_revision: catalog.revision().unwrap_or_else(|| "unknown".into()),
        catalog: Some(catalog.root.display().to_string()),
        workspace: claim.dest.display().to_string(),
        hints_available: drill.hints.len() as u32,
        test_clock: ctx.test_clock,
        experience,
        test_first: args.test_first,
    };
    let lock = match results.lock(&id, "start") {
        Ok(lock) => lock,
        Err(e) => {
            claim.release();
            return Err(e.into());
        }
    };
    // The timer starts now: the workspace is ready and built. The record is
    // written first, then the workspace (with its link to the record) is
    // moved to its place: no workspace ever points at a missing attempt.
    let record = Record::new(header, ctx.clock.now());
    if let Err(e) = results.create(&lock, &record) {
        claim.release();
        return Err(e.into());
    }
    let dest = claim.dest.clone();
    if let Err(e) = claim.finish() {
        // Undo the record this command just wrote: all or nothing.
        let _ = fs::remove_file(results.record_path(&id));
        return Err(Failure::new(
            Kind::Environment,
            anyhow::anyhow!(
                "cannot put the workspace at {}: {e}; nothing was recorded, try again",
                dest.display()
            ),
        ));
    }
    drop(lock);

    out!(
        "{}",
        started_text(&record, drill, scenario, &dest, build_ms, &results)
    );
    if repeat {
        out!("{}", repeat_note(&earlier));
    }
    if record.attempt.experience.is_none() {
        eprintln!(
            "note: no experience profile for {}. {}",
            crate::terminal::safe(&engineer),
            profile::how_to_record(&engineer)
        );
    }
    // `--watch`: the session goes on in `drill watch` on this attempt.
    let watch = args.watch.then(|| super::Target {
        attempt: Some(id),
        results: crate::commands::ResultsArgs {
            dirs: vec![results.root().to_path_buf()],
        },
    });
    Ok(Started {
        code: exit_code::SUCCESS,
        watch,
    })
}

/// What `start` did, and the attempt to watch next with `--watch`.
pub struct Started {
    pub code: u8,
    pub watch: Option<super::Target>,
}

/// Asks for the engineer's name on a terminal (nothing to ask elsewhere).
fn ask_engineer() -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("Your name, for the results (or pass --engineer; git's user.name is not set): ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).ok()?;
    Some(line.trim().to_string()).filter(|n| !n.is_empty())
}

/// What a workspace's snapshot is made of: the clean tree with the bug's
/// patch applied (in a scratch folder, so nothing the patching leaves behind
/// can reach a workspace), the incident, the drill notes and the build
/// outputs to ignore. `start` makes a workspace of it, `repair` a snapshot.
pub(crate) struct BuggedTree {
    _tmp: Scratch,
    pub src: PathBuf,
    pub incident: String,
    pub drill_md: String,
    pub exclude: Vec<String>,
}

impl BuggedTree {
    pub fn make(
        scenario: &Scenario,
        drill: &Drill,
        spec: &LanguageSpec,
        blind: bool,
    ) -> Result<BuggedTree, Failure> {
        let lang = &spec.lang;
        // A blind start's errors name no drill: `drill verify` (which names it)
        // finds the broken one.
        let named = if blind {
            "the drill dealt".to_string()
        } else {
            drill.id.clone()
        };
        let verify = if blind {
            "`drill verify`".to_string()
        } else {
            format!("`drill verify {}`", drill.id)
        };
        let failed = |what: String| Failure::new(Kind::Environment, anyhow::anyhow!(what));
        let patch = drill.patch(lang).ok_or_else(|| {
            Failure::new(
                Kind::Catalog,
                anyhow::anyhow!("{named} has no {lang} patch; run {verify} to check the catalog"),
            )
        })?;
        let tmp = Scratch::new("start").map_err(|e| {
            failed(format!(
                "creating a temporary folder in {}: {e}",
                crate::scratch::root().display()
            ))
        })?;
        let bugged = tmp.path().join("src");
        builder::copy_tree(&spec.dir, &bugged)
            .map_err(|e| failed(format!("copying {}: {e}", spec.dir.display())))?;
        patch.apply_to_dir(&bugged).map_err(|e| {
            if blind {
                Failure::new(
                    Kind::Catalog,
                    anyhow::anyhow!(
                        "the patch of the drill dealt does not apply; run {verify} to check the catalog"
                    ),
                )
            } else {
                Failure::new(Kind::Catalog, e)
            }
        })?;
        Ok(BuggedTree {
            exclude: build_output_patterns(spec, &bugged),
            incident: format!(
                "# {}\n\n{}\n",
                drill.ticket.title.trim(),
                drill.ticket.body.trim()
            ),
            drill_md: drill_md(scenario, spec),
            src: bugged,
            _tmp: tmp,
        })
    }

    /// Adds the workspace's private target directory to the scenario's own
    /// `.cargo/config.toml`, keeping every setting of the scenario (see
    /// `cargo_config::merged`). It is part of the snapshot, so `start` and
    /// `repair` both call it. Without such a file nothing changes.
    pub fn point_cargo_at(&self, target_dir: &Path) -> Result<(), Failure> {
        let path = self.src.join(CARGO_CONFIG);
        let Ok(shipped) = fs::read_to_string(&path) else {
            return Ok(());
        };
        if let Some(text) = cargo_config::merged(&shipped, target_dir) {
            Dest::new(&self.src)
                .and_then(|d| d.write(Path::new(CARGO_CONFIG), text.as_bytes()))
                .map_err(|e| {
                    Failure::new(
                        Kind::Environment,
                        anyhow::anyhow!("writing {}: {e}", path.display()),
                    )
                })?;
        }
        Ok(())
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            source: &self.src,
            incident_md: &self.incident,
            drill_md: &self.drill_md,
            exclude: &self.exclude,
        }
    }
}

/// Bugged tree → workspace (in the claim's staging folder) → warm build.
/// Returns the build time (not counted).
#[allow(clippy::too_many_arguments)]
fn prepare(
    rt: &tokio::runtime::Runtime,
    interrupts: &mut Interrupts,
    scenario: &Scenario,
    drill: &Drill,
    spec: &LanguageSpec,
    claim: &Claim,
    id: &str,
    results: &ResultsDir,
    blind: bool,
) -> Result<u64, Failure> {
    let verify = if blind {
        "`drill verify`".to_string()
    } else {
        format!("`drill verify {}`", drill.id)
    };
    let failed = |what: String| Failure::new(Kind::Environment, anyhow::anyhow!(what));
    let bugged = BuggedTree::make(scenario, drill, spec, blind)?;
    let cache = cache();
    let tree_cache = TreeCache::for_tree(
        &cache,
        spec,
        &scenario.name,
        &format!("attempts/{id}"),
        &bugged.src,
    );
    if tree_cache.cargo_target_dir().is_some() {
        crate::clean::write_owner(
            &super::target_dir::attempt_dir(&cache, id),
            id,
            results.root(),
        );
    }
    let ships_cargo_config = bugged.src.join(CARGO_CONFIG).exists();
    if let Some(target_dir) = tree_cache.cargo_target_dir() {
        bugged.point_cargo_at(target_dir)?;
    }
    let snapshot = bugged.snapshot();
    let ws = workspace::create(&claim.staging, &snapshot, id, results.root())?;
    drop(bugged);
    // The engineer's own `cargo build` uses the same private target directory
    // as the kit's builds of this workspace: the warm build below makes their
    // first build incremental. A scenario's own `.cargo/config.toml` got the
    // target directory added in the snapshot (`point_cargo_at`); otherwise the
    // kit writes the file, untracked and ignored.
    if let Some(target_dir) = tree_cache
        .cargo_target_dir()
        .filter(|_| !ships_cargo_config)
    {
        let config = cargo_config::own(target_dir);
        Dest::new(ws.root())
            .and_then(|d| d.write(Path::new(CARGO_CONFIG), config.as_bytes()))
            .map_err(|e| {
                failed(format!(
                    "writing {CARGO_CONFIG} in {}: {e}",
                    ws.root().display()
                ))
            })?;
    }

    let started = Instant::now();
    eprintln!("Building the workspace once, so your first build is incremental (not timed)...");
    let built = rt
        .block_on(interrupts.guard(builder::build(
            spec,
            &scenario.name,
            ws.root(),
            &tree_cache.cache,
        )))
        .map_err(|i| {
            Failure::new(
                Kind::Interrupted(i),
                anyhow::anyhow!(
                    "interrupted ({}) while preparing the workspace: no attempt was started, \
                     nothing was recorded, and nothing is left at {}",
                    i.name(),
                    claim.dest.display()
                ),
            )
        })?
        .map_err(|e| {
            Failure::new(
                Kind::Infrastructure,
                anyhow::anyhow!(
                    "the bugged workspace does not build ({e}); run {verify} to check the catalog"
                ),
            )
        })?;
    drop(built);
    tree_cache.publish();
    Ok(started.elapsed().as_millis() as u64)
}

/// `.git/info/exclude` patterns for the engineer's build output: Cargo's
/// `target/`, and the service binary a bare `go build ./cmd/x` leaves at the
/// root — unless the snapshot has a file of that name (it must stay tracked).
fn build_output_patterns(spec: &LanguageSpec, tree: &Path) -> Vec<String> {
    let mut names = vec!["target".to_string()];
    if spec.toolchain == Toolchain::Cargo {
        names.push(".cargo".to_string());
    }
    if let Some(bin) = Path::new(&spec.binary).file_name() {
        names.push(bin.to_string_lossy().into_owned());
    }
    names
        .into_iter()
        .filter(|n| !n.contains('{') && !tree.join(n).exists())
        .map(|n| format!("/{n}"))
        .collect()
}

fn drill_md(scenario: &Scenario, spec: &LanguageSpec) -> String {
    let (build, note) = match spec.toolchain {
        Toolchain::Go => ("go build ./...", ""),
        Toolchain::Cargo => (
            "cargo build",
            "\nBuild output goes to this workspace's own target directory in the kit's cache\n\
             (`build.target-dir` in `.cargo/config.toml`), seeded with compiled dependencies.\n",
        ),
    };
    format!(
        "# Drill\n\n\
         You are on call for **{title}**: {summary}\n\n\
         `INCIDENT.md` is what was reported. Find the root cause in this code and ship a fix.\n\
         The timer runs from `drill start` until a submit passes; `drill pause` stops it.\n\n\
         ## Build and test\n\n\
         ```sh\n{build}\n{test}\n```\n{note}\n\
         ## Drill commands (from anywhere in this folder)\n\n\
         | command | what it does |\n\
         |---|---|\n\
         | `drill run` | build your code and run it on loopback under the incident's conditions, logs streamed |\n\
         | `drill found FILE:LINE` | claim where the root cause is (recorded, right or wrong) |\n\
         | `drill submit` | the verdict: build, visible tests and the hidden acceptance checks |\n\
         | `drill hint` | the next hint (recorded) |\n\
         | `drill status` | time so far, hints, submits |\n\
         | `drill pause` / `drill resume` | stop and restart the timer |\n\
         | `drill abandon` | give up (the attempt is kept) |\n",
        title = scenario.title,
        summary = scenario.summary.trim(),
        test = spec.test.join(" "),
    )
}

fn started_text(
    record: &Record,
    drill: &Drill,
    scenario: &Scenario,
    ws: &Path,
    build_ms: u64,
    results: &ResultsDir,
) -> String {
    let h = &record.attempt;
    // A drill chosen by id is not blind; its class is still not handed out
    // here (the answer's category), and the record says `blind: false`.
    let drill_line = if h.blind {
        "hidden (blind: revealed when the attempt ends)".to_string()
    } else {
        format!(
            "{} — {} (difficulty {}/5)\n           \
             not blind: you chose it; recorded as `blind: false` and reported apart \
             from blind attempts",
            h.drill, h.title, h.difficulty
        )
    };
    let rule = "=".repeat(72);
    format!(
        "Drill      {drill_line}\n\
         Service    {service} ({lang})\n\
         Engineer   {engineer}\n\
         Workspace  {ws} (built in {build}, not timed)\n\
         Attempt    {id} (record in {results})\n\n\
         {rule}\n# {title}\n\n{body}\n{rule}\n\n\
         The timer is running. cd {ws}, read INCIDENT.md and DRILL.md.\n  \
         drill run              reproduce: your build under the incident's conditions\n  \
         drill found FILE:LINE  claim the root cause\n  \
         drill submit           submit your fix\n  \
         drill watch            rebuild and run the tests on every save\n  \
         drill hint | status | pause | resume | abandon\n{test_first}{path_note}",
        test_first = if h.test_first { TEST_FIRST_NOTE } else { "" },
        path_note = path_note(),
        service = scenario.title,
        lang = h.language,
        engineer = h.engineer,
        ws = ws.display(),
        build = human_duration(std::time::Duration::from_millis(build_ms)),
        id = h.id,
        results = results.root().display(),
        title = drill.ticket.title.trim(),
        body = drill.ticket.body.trim(),
    )
}

/// What a test-first attempt asks first.
const TEST_FIRST_NOTE: &str =
    "\nTest first: before the fix, write a test (in the service's own test \
framework and folder) that reproduces the incident, and run `drill check-test`: it must fail on \
the bugged code and pass on the fixed code. The time to your first reproducing test is \
recorded; `drill submit` then also needs your test to pass.\n";

/// How to get `drill` on the PATH, when the `drill` there is not this one
/// (a start through `cargo run` leaves every command above unrunnable).
fn path_note() -> String {
    let Ok(me) = std::env::current_exe().and_then(fs::canonicalize) else {
        return String::new();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| fs::canonicalize(dir.join("drill")).is_ok_and(|p| p == me))
    });
    match me.parent() {
        Some(dir) if !on_path => format!(
            "`drill` is not on your PATH; it is {}:\n  export PATH=\"{}:$PATH\"\n",
            me.display(),
            dir.display()
        ),
        _ => String::new(),
    }
}

/// A random number; `RandomState` is seeded from the OS for every process.
pub(crate) fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// `20250314T092653Z-ada-lovelace-3f9c2e`: sortable, unique, drill-free.
fn attempt_id(now: Timestamp, engineer: &str) -> String {
    format!(
        "{}-{}-{:06x}",
        now.compact(),
        crate::util::slug(engineer, 24),
        random_u64() & 0xff_ffff
    )
}

/// A random drill the engineer has not met (attempted in any language, or
/// played on call in a game day), and a language it has (`lang`, or a random one of the drill's).
fn pick_random<'c>(
    catalog: &'c Catalog,
    lang: Option<&str>,
    history: &History,
    engineer: &str,
) -> Result<(&'c Drill, String), Failure> {
    let any = catalog
        .drills
        .iter()
        .any(|d| lang.is_none_or(|want| d.languages.iter().any(|l| l == want)));
    if !any {
        return Err(usage(match lang {
            Some(l) => format!(
                "no drill in the catalog at {} has a {l} version",
                catalog.root.display()
            ),
            None => format!("the catalog at {} has no drills", catalog.root.display()),
        }));
    }
    let pool = history.pool(catalog, engineer, lang);
    if pool.is_empty() {
        let which = lang.map_or(String::new(), |l| format!(" with a {l} version"));
        return Err(usage(format!(
            "nothing left to deal: {engineer} has met every drill{which} in the catalog \
             at {} (a drill is dealt once per engineer, whichever language it was attempted \
             in, and not after a game day on it). `drill attempts` lists them; `drill start ID --lang LANG` starts one again, \
             recorded as a repeat",
            catalog.root.display()
        )));
    }
    Ok(deal(&pool, lang))
}

/// One drill of a non-empty `pool`, at random, and a language it has
/// (`lang`, or a random one of the drill's): the blind deal of
/// `start --random` and of `gameday start --random`.
pub(crate) fn deal<'c>(pool: &[&'c Drill], lang: Option<&str>) -> (&'c Drill, String) {
    let drill = pool[(random_u64() % pool.len() as u64) as usize];
    let lang = match lang {
        Some(l) => l.to_string(),
        None => drill.languages[(random_u64() % drill.languages.len() as u64) as usize].clone(),
    };
    (drill, lang)
}

/// The engineer's next planned assignment whose drill they have not
/// attempted in any language (so `--next` never deals a drill twice).
fn next_assignment(
    results: &ResultsDir,
    history: &History,
    engineer: &str,
) -> Result<(String, String), Failure> {
    let fail = |e: plan::PlanError| match e {
        plan::PlanError::Io { .. } => Failure::new(Kind::Records, e),
        _ => usage(e.to_string()),
    };
    let p = plan::load(results.root()).map_err(fail)?;
    let seen = history.seen_by(engineer, None);
    match plan::next_unseen(&p, engineer, &seen).map_err(fail)? {
        plan::Next::Assignment(a) => Ok((a.drill, a.language)),
        plan::Next::NothingLeft { assignments } => Err(usage(format!(
            "nothing left to deal: {engineer} has attempted the drills of all {assignments} \
             assignment(s) in the plan at {} (see `drill plan status`)",
            results.root().display()
        ))),
    }
}

/// Printed after `start ID` on a drill the engineer has attempted before.
fn repeat_note(earlier: &[&Seen]) -> String {
    let list: Vec<String> = earlier
        .iter()
        .map(|a| format!("{} ({}, {})", a.id, a.language, a.started))
        .collect();
    format!(
        "\nRepeat: you attempted this drill before ({}). This attempt is recorded with \
         `repeat: true`; statistics keep repeats out of the Go/Rust comparisons.\n",
        list.join(", ")
    )
}

/// Refuses a workspace inside the catalog's tree (or inside any folder
/// holding `scenarios/` and `drills/`, such as the kit's checkout): that tree
/// holds the bug patches and the debriefs. Names a place that works instead.
fn refuse_inside_catalog(ctx: &Ctx, catalog: &Catalog, dir: Option<&Path>) -> Result<(), Failure> {
    let target = dir.map_or_else(|| ctx.cwd.clone(), |d| ctx.cwd.join(d));
    // The deepest part of the path that exists, resolved (`..`, links).
    let Some(existing) = target.ancestors().find_map(|a| fs::canonicalize(a).ok()) else {
        return Ok(());
    };
    let tree = if existing.starts_with(&catalog.root) {
        Some(catalog.root.clone())
    } else {
        existing
            .ancestors()
            .find(|a| a.join("scenarios").is_dir() && a.join("drills").is_dir())
            .map(Path::to_path_buf)
    };
    let Some(tree) = tree else {
        return Ok(());
    };
    let elsewhere = dirs::home_dir()
        .map(|h| h.join("drills"))
        .filter(|p| !p.starts_with(&tree))
        .unwrap_or_else(|| std::env::temp_dir().join("drills"));
    Err(usage(format!(
        "{} is inside the drill catalog at {}, which holds the answers (bug patches, \
         debriefs), so no workspace is made there; start the drill somewhere else, e.g. \
         `mkdir -p {e} && cd {e}` and run the same `drill start` there (or pass --dir {e}/NAME)",
        target.display(),
        tree.display(),
        e = elsewhere.display()
    )))
}

/// The workspace folder a start is making, held exclusively.
///
/// The claim is a lock file beside the folder, `.drill-claim-<name>`, held
/// for the whole start; the workspace is made in `.drill-partial-<name>` next
/// to it and moved to `<name>` only once its record exists ([`Claim::finish`]).
/// So a second start on the same folder is refused while the first runs, and
/// whatever moment a start fails, is interrupted or killed, `<name>` is never
/// a half-made workspace nor one linked to an attempt that was not recorded.
/// What a killed start leaves (a claim nobody holds, its partial folder) is
/// cleared by the next start in the same parent folder ([`sweep_claims`]).
struct Claim {
    /// Where the workspace will be: absolute, in a canonical parent.
    dest: PathBuf,
    staging: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    /// `dest` was an existing empty folder (its entries are moved in).
    existing: bool,
}

const CLAIM_PREFIX: &str = ".drill-claim-";
const PARTIAL_PREFIX: &str = ".drill-partial-";

/// Takes the lock file `<parent>/.drill-claim-<name>` without waiting;
/// `None` when another start holds it.
fn acquire(parent: &Path, name: &str) -> std::io::Result<Option<(PathBuf, File)>> {
    use std::os::unix::fs::MetadataExt;
    let path = parent.join(format!("{CLAIM_PREFIX}{name}"));
    loop {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // The previous holder may have removed the file between our open and
        // our lock: then the lock is on a file nobody else can see; retry.
        let mine = file.metadata()?;
        match fs::metadata(&path) {
            Ok(m) if (m.dev(), m.ino()) == (mine.dev(), mine.ino()) => {
                let _ = file.set_len(0);
                let _ = write!(file, "drill start, pid {}", std::process::id());
                return Ok(Some((path, file)));
            }
            _ => continue,
        }
    }
}

fn holder(parent: &Path, name: &str) -> String {
    fs::read_to_string(parent.join(format!("{CLAIM_PREFIX}{name}")))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "drill start".into())
}

fn is_empty_dir(path: &Path) -> std::io::Result<bool> {
    Ok(fs::read_dir(path)?.next().is_none())
}

impl Claim {
    fn take(
        ctx: &Ctx,
        dir: Option<&Path>,
        drill: &Drill,
        lang: &str,
        blind: bool,
    ) -> Result<Claim, Failure> {
        let cannot = |path: &Path, e: std::io::Error| {
            usage(format!(
                "cannot create the workspace {}: {e}",
                path.display()
            ))
        };
        if let Some(dir) = dir {
            let dir = ctx.cwd.join(dir);
            let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
                return Err(usage(format!(
                    "--dir {}: name a folder (new or empty) for the workspace",
                    dir.display()
                )));
            };
            let name = name.to_string_lossy().into_owned();
            fs::create_dir_all(parent).map_err(|e| cannot(&dir, e))?;
            let parent = fs::canonicalize(parent).map_err(|e| cannot(&dir, e))?;
            sweep_claims(&parent);
            let Some((lock_path, lock)) = acquire(&parent, &name).map_err(|e| cannot(&dir, e))?
            else {
                return Err(Failure::new(
                    Kind::Locked,
                    anyhow::anyhow!(
                        "{} is in use: another `{}` is making a workspace there; \
                         wait for it to finish or pass another --dir",
                        dir.display(),
                        holder(&parent, &name)
                    ),
                ));
            };
            let dest = parent.join(&name);
            let claim = |existing| Claim {
                staging: parent.join(format!("{PARTIAL_PREFIX}{name}")),
                dest: dest.clone(),
                lock_path: lock_path.clone(),
                _lock: lock,
                existing,
            };
            let existing = match fs::symlink_metadata(&dest) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Ok(m) if m.is_dir() && is_empty_dir(&dest).unwrap_or(false) => true,
                Ok(m) if m.is_dir() => {
                    let _ = fs::remove_file(&lock_path);
                    return Err(usage(format!(
                        "{} is not empty; pass --dir a new or empty directory",
                        dest.display()
                    )));
                }
                Ok(_) => {
                    let _ = fs::remove_file(&lock_path);
                    return Err(usage(format!(
                        "{} is not a directory; pass --dir a new or empty directory",
                        dest.display()
                    )));
                }
                Err(e) => return Err(cannot(&dest, e)),
            };
            return claim(existing).stage();
        }
        // `drill-…`: easy to recognise, and ignored by the kit's own .gitignore
        // when a drill is started from the kit's checkout.
        let base = if blind {
            format!("drill-{lang}")
        } else {
            format!("drill-{}-{lang}", drill.bug)
        };
        let parent = fs::canonicalize(&ctx.cwd).map_err(|e| cannot(&ctx.cwd, e))?;
        sweep_claims(&parent);
        for n in 1..1000 {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let dest = parent.join(&name);
            if fs::symlink_metadata(&dest).is_ok() {
                continue;
            }
            let Some((lock_path, lock)) = acquire(&parent, &name).map_err(|e| cannot(&dest, e))?
            else {
                continue; // another start is making this one
            };
            if fs::symlink_metadata(&dest).is_ok() {
                let _ = fs::remove_file(&lock_path);
                continue;
            }
            return Claim {
                staging: parent.join(format!("{PARTIAL_PREFIX}{name}")),
                dest,
                lock_path,
                _lock: lock,
                existing: false,
            }
            .stage();
        }
        Err(usage(format!(
            "too many workspaces named {base}-N in {}; pass --dir",
            ctx.cwd.display()
        )))
    }

    /// Makes the (empty) staging folder; a leftover of a dead start goes first.
    fn stage(self) -> Result<Claim, Failure> {
        if fs::symlink_metadata(&self.staging).is_ok() {
            let _ = fs::remove_dir_all(&self.staging);
        }
        match fs::create_dir(&self.staging) {
            Ok(()) => Ok(self),
            Err(e) => {
                let msg = format!(
                    "cannot create the workspace {}: {e}",
                    self.staging.display()
                );
                self.release();
                Err(usage(msg))
            }
        }
    }

    /// Puts the workspace at its place: a rename for a new folder; for an
    /// existing empty one, its entries one by one, `.git` (the link) last.
    fn finish(self) -> std::io::Result<()> {
        let result = if self.existing {
            move_entries(&self.staging, &self.dest)
        } else {
            fs::rename(&self.staging, &self.dest)
        };
        if result.is_ok() {
            let _ = fs::remove_dir(&self.staging);
            let _ = fs::remove_file(&self.lock_path);
        } else {
            self.release_ref();
        }
        result
    }

    /// Undoes the claim: the staging folder and the lock file go; `dest` was
    /// never touched.
    fn release(self) {
        self.release_ref();
    }

    fn release_ref(&self) {
        let _ = fs::remove_dir_all(&self.staging);
        // Removed while still locked, so no other start can be holding it.
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// Moves `from`'s entries into the empty folder `to`, `.git` last; on a
/// failure the entries already moved are removed again.
fn move_entries(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> = fs::read_dir(from)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort_by_key(|n| n == ".git");
    let mut moved = Vec::new();
    for name in names {
        if let Err(e) = fs::rename(from.join(&name), to.join(&name)) {
            for done in moved {
                let p: PathBuf = to.join::<&std::ffi::OsString>(&done);
                let _ = if p.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
            }
            return Err(e);
        }
        moved.push(name);
    }
    Ok(())
}

/// Clears what killed starts left in `parent`: for every claim nobody holds,
/// its partial workspace is removed — or, if its attempt was recorded (the
/// start died between the record and the move), moved into place — and the
/// claim file goes.
fn sweep_claims(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let mut names = BTreeSet::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if let Some(name) = file
            .strip_prefix(CLAIM_PREFIX)
            .or_else(|| file.strip_prefix(PARTIAL_PREFIX))
        {
            names.insert(name.to_string());
        }
    }
    for name in names {
        let Ok(Some((lock_path, _lock))) = acquire(parent, &name) else {
            continue; // a start is running there
        };
        let staging = parent.join(format!("{PARTIAL_PREFIX}{name}"));
        let dest = parent.join(&name);
        if staging.is_dir() {
            let recorded = workspace::find(&staging).ok().filter(|ws| {
                ws.root() == staging.as_path()
                    && ResultsDir::at(&ws.link().results)
                        .record_path(&ws.link().attempt)
                        .exists()
            });
            let dest_free = match fs::symlink_metadata(&dest) {
                Err(_) => Some(false),
                Ok(m) if m.is_dir() && is_empty_dir(&dest).unwrap_or(false) => Some(true),
                Ok(_) => None,
            };
            match (recorded, dest_free) {
                (Some(ws), Some(existing)) => {
                    let moved = if existing {
                        move_entries(&staging, &dest)
                    } else {
                        fs::rename(&staging, &dest)
                    };
                    if moved.is_ok() {
                        let _ = fs::remove_dir(&staging);
                        eprintln!(
                            "note: moved the workspace of attempt {} into {} (its start was \
                             interrupted after the attempt was recorded)",
                            ws.link().attempt,
                            dest.display()
                        );
                    }
                }
                _ => {
                    let _ = fs::remove_dir_all(&staging);
                }
            }
        }
        let _ = fs::remove_file(&lock_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_ids_are_sortable_slugged_and_unique() {
        let now: Timestamp = "2025-03-14T09:26:53Z".parse().unwrap();
        let a = attempt_id(now, "Ada  Lovelace!");
        let b = attempt_id(now, "Ada  Lovelace!");
        assert!(a.starts_with("20250314T092653Z-ada-lovelace-"), "{a}");
        assert_ne!(a, b);
        assert!(attempt_id(now, "  ").contains("-anon-"));
    }
}
