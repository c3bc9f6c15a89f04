//! `drill gameday`: `start` (the facilitator's process, in the foreground),
//! the on-call's `ack`, `note`, `mitigate`, `deploy`, `resolve` and `status`
//! from another terminal, and the facilitator's `inject` by hand. They find the game day from its folder (`--dir`, or any folder
//! inside it) and talk through its files (`gameday::folder`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::session::start::{self as session_start, random_u64, BuggedTree};
use super::{interruptible, Context, ResultsArgs};
use crate::bench::workload::Workload;
use crate::blind::{self, History};
use crate::builder::{self, BuildError, Cache};
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario};
use crate::error::Failure;
use crate::exit_code::{self, Kind};
use crate::gameday::definition::{escalation_name, inject_names, Definition, InjectKind};
use crate::gameday::folder::{
    self, DeployRequest, DeployResult, Folder, InjectRequest, InjectResult, Mitigate,
    MitigationRequest, MitigationResult, Pointer, Status,
};
use crate::gameday::live::{self, Setup};
use crate::gameday::record::{
    self, Clock, DeployOutcome, EndReason, EventKind, Header, MitigationAction, MitigationOutcome,
    Record,
};
use crate::gameday::webhook;
use crate::harness::{self, RunOptions};
use crate::results::ResultsDir;
use crate::scratch::Scratch;
use crate::toolchain;
use crate::workspace;

/// The fault seed of the acceptance checks a deploy is judged by (submit's).
const JUDGE_SEED: u64 = 1;
/// How long `deploy` waits for the facilitator beyond the service's startup timeout.
const ANSWER_SLACK: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct GameDayArgs {
    #[command(subcommand)]
    pub command: GameDayCommand,
}

#[derive(Debug, Subcommand)]
pub enum GameDayCommand {
    /// Run a drill as a live incident (the facilitator's terminal; Ctrl-C ends it).
    ///
    /// Builds the bugged service in a workspace, starts it with its fakes under
    /// steady traffic, fires the seeded injects (the fault among them), pages by
    /// the burn-rate rule, and records the on-call's actions and the clocks.
    Start(StartArgs),
    /// Acknowledge the page.
    Ack(OnCallArgs),
    /// Build the workspace and swap the running service for the new build;
    /// the deployed build is then judged by the drill's acceptance checks.
    Deploy(OnCallArgs),
    /// Stop the bleeding without a fix: restart, roll back, set a config knob, shed load.
    ///
    /// Each is recorded with its time; a restart, roll back or set starts the
    /// build beside the running one and swaps the traffic as a deploy does,
    /// counting the requests that got no answer during the swap.
    Mitigate(MitigateArgs),
    /// Fire an inject of the timeline by hand (the facilitator), or --list them.
    ///
    /// An inject fires once: one the timeline (or a hand) already fired is
    /// refused. Escalations (escalation-1, ...) fire in order.
    Inject(InjectArgs),
    /// Add a line to the scribe's timeline, recorded with its time.
    ///
    /// `status` shows the notes; the record keeps them beside the actions.
    Note(NoteArgs),
    /// Declare the incident resolved; ends the game day.
    Resolve(OnCallArgs),
    /// The SLI now, the error budget left, the alert state and the clocks.
    Status(StatusArgs),
    /// The debrief: the timeline from the fault, the clocks, the SLI per
    /// window, the root cause and reference fix, and a blank action-items
    /// section; `--json` or `--html FILE`. Works from the results directory
    /// alone once the game day has ended.
    Debrief(super::debrief::DebriefArgs),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// `scenario/bug`, or a bug name that is unique in the catalog (or
    /// --random instead, for a blind game day).
    #[arg(required_unless_present = "random", conflicts_with = "random")]
    pub id: Option<String>,
    /// go or rust. Required with ID; with --random, a random one of the drill's when not given.
    #[arg(long)]
    pub lang: Option<String>,
    /// Deal the drill blind: a random drill that can run as a game day, one
    /// the on-call has not met (in a game day or as a drill) while any is
    /// left. Until the game day ends nothing the on-call sees (status,
    /// pager, the folder, the workspace) names the drill, its class or its
    /// cause, and the debrief is refused.
    #[arg(long)]
    pub random: bool,
    /// With --random: deal only among this scenario's drills.
    #[arg(long, value_name = "S", requires = "random")]
    pub scenario: Option<String>,
    /// With --random: show the drill dealt and the fault's check on this
    /// (the facilitator's) terminal. Only for a screen the on-call cannot see.
    #[arg(long, requires = "random")]
    pub reveal: bool,
    /// Who is on call, kept in the record (status, debrief, `drill stats
    /// --gameday --engineer NAME`). Default: the user ($USER), else "on-call".
    #[arg(long, value_name = "NAME")]
    pub on_call: Option<String>,
    /// Also POST every alert, clear and pager message as JSON to this http URL
    /// (docs/gameday.md, "The webhook"): 2 s per try, 3 tries, from a
    /// background queue; a failing webhook is reported once and counted, and
    /// never stops the game day.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// The game day's folder (new or empty). Default: ./gameday-<bug>-<lang>
    /// (./gameday-<lang> with --random).
    #[arg(long, value_name = "D")]
    pub dir: Option<PathBuf>,
    /// End the game day after this many seconds of traffic.
    #[arg(long, value_name = "S", default_value_t = 1800)]
    pub time_box: u64,
    /// The pager file alerts and messages are appended to. Default: <dir>/pager.log.
    #[arg(long, value_name = "FILE")]
    pub pager: Option<PathBuf>,
    #[command(flatten)]
    pub results: ResultsArgs,
}

#[derive(Debug, Args)]
pub struct OnCallArgs {
    /// The game day's folder. Default: the one the current directory is in.
    #[arg(long, value_name = "D")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MitigateArgs {
    #[command(subcommand)]
    pub action: MitigateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MitigateCommand {
    /// Restart the running build (same binary, same fakes, same settings).
    Restart(OnCallArgs),
    /// Go back to the build that served before the last deploy (refused
    /// when nothing was deployed).
    Rollback(OnCallArgs),
    /// Restart the service with a config knob changed: `KEY=VALUE`, KEY one
    /// of the knobs the scenario offers (the refusal lists them). It stays
    /// set for later restarts, roll backs and deploys.
    Set {
        /// `KEY=VALUE`, e.g. HEALTH_TIMEOUT_MS=200.
        #[arg(value_name = "KEY=VALUE")]
        assignment: String,
        #[command(flatten)]
        on_call: OnCallArgs,
    },
    /// Drop this share of the steady traffic at the generator (0 stops
    /// shedding). The SLI counts only the requests sent.
    Shed {
        /// 0 to 100 (a trailing % is allowed).
        percent: String,
        #[command(flatten)]
        on_call: OnCallArgs,
    },
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// The inject's name (`fault`, `red-herring`, `customer-report-1`,
    /// `escalation-1`, ...): see --list.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    pub name: Option<String>,
    /// List the game day's injects, when each is due and whether it fired.
    #[arg(long)]
    pub list: bool,
    /// With --list: print a JSON object instead of text.
    #[arg(long, requires = "list")]
    pub json: bool,
    #[command(flatten)]
    pub on_call: OnCallArgs,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// What happened or was decided, in a line ("rolled back the config push").
    pub text: String,
    /// Who writes it. Default: the user ($USER), else "scribe".
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    #[command(flatten)]
    pub on_call: OnCallArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub on_call: OnCallArgs,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn gameday(ctx: &Context, args: GameDayArgs) -> Result<u8, Failure> {
    match args.command {
        GameDayCommand::Start(a) => start(ctx, a),
        GameDayCommand::Ack(a) => simple(ctx, &a, "ack", EventKind::Ack),
        GameDayCommand::Note(a) => note(ctx, a),
        GameDayCommand::Resolve(a) => simple(ctx, &a, "resolve", EventKind::Resolved),
        GameDayCommand::Deploy(a) => deploy(ctx, &a),
        GameDayCommand::Mitigate(a) => mitigate(ctx, a),
        GameDayCommand::Inject(a) => inject(ctx, &a),
        GameDayCommand::Status(a) => status(ctx, &a),
        GameDayCommand::Debrief(a) => super::debrief::debrief(ctx, a),
    }
}

fn start(ctx: &Context, args: StartArgs) -> Result<u8, Failure> {
    if args.time_box == 0 {
        return Err(Failure::usage("--time-box: at least 1 second"));
    }
    let webhook = args
        .webhook
        .as_deref()
        .map(webhook::Url::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--webhook {e}")))?;
    let on_call = on_call_name(args.on_call.as_deref())?;
    let catalog = ctx.catalog()?;
    let results = ctx.results_dir(&args.results)?;
    let blind = args.random;
    let (drill, lang) = if blind {
        deal(
            catalog,
            &results,
            &on_call,
            args.lang.as_deref(),
            args.scenario.as_deref(),
        )?
    } else {
        let id = args
            .id
            .as_deref()
            .expect("clap requires an id without --random");
        let drill = catalog.drill(id)?;
        // As `start ID`: a drill an open blind attempt or game day could be
        // is not started by name (that would tell what it is not).
        let withheld = History::load(&results).withheld(catalog);
        if withheld.contains(&drill.id) {
            return Err(Failure::usage(format!(
                "that drill cannot be started by name now: {}",
                withheld.reason(&results)
            )));
        }
        let lang = args.lang.clone().ok_or_else(|| {
            Failure::usage(format!(
                "which language? pass --lang {}",
                drill.languages.join("|")
            ))
        })?;
        (drill, lang)
    };
    let scenario = catalog.scenario(&drill.scenario);
    let spec = language(scenario, drill, &lang)?;
    let needed = if blind {
        format!("the {lang} game day dealt")
    } else {
        format!("the {} version of scenario `{}`", spec.lang, scenario.name)
    };
    toolchain::require(spec.toolchain, &spec.min_version, &needed)
        .map_err(|e| Failure::new(Kind::Toolchain, e))?;
    let workload = Workload::load_for(&scenario.dir, &scenario.suite)
        .map_err(|e| Failure::new(Kind::Catalog, e))?;
    let def = Definition::load(&drill.dir, &drill.id, &drill.checks, workload.timeout)
        .map_err(|e| Failure::new(Kind::Catalog, e))?;
    let fault_check = def
        .fault_check(&drill.checks)
        .ok_or_else(|| {
            Failure::new(
                Kind::Catalog,
                anyhow::anyhow!("{} names no check", drill.id),
            )
        })?
        .to_string();
    let fault_rules = scenario
        .suite
        .check_faults(&fault_check)
        .map(<[_]>::to_vec)
        .unwrap_or_default();

    results.check_writable()?;
    // A blind game day's folder and id name no drill.
    let dir = args.dir.clone().unwrap_or_else(|| {
        ctx.cwd.join(if blind {
            format!("gameday-{}", spec.lang)
        } else {
            format!("gameday-{}-{}", drill.bug, spec.lang)
        })
    });
    let f = Folder::at(&dir);
    if std::fs::read_dir(&f.root).is_ok_and(|mut e| e.next().is_some()) {
        return Err(Failure::usage(format!(
            "{} is not empty; give --dir a new or empty folder",
            f.root.display()
        )));
    }
    std::fs::create_dir_all(&f.root)
        .map_err(|e| Failure::environment(format!("creating {}: {e}", f.root.display())))?;
    let pager = args.pager.clone().unwrap_or_else(|| f.default_pager());
    let pager = std::path::absolute(&pager).unwrap_or(pager);

    let (rt, mut interrupts) = interruptible()?;
    let now = ctx.now();
    let id = if blind {
        format!(
            "{}-blind-{}-{:06x}",
            now.compact(),
            spec.lang,
            random_u64() & 0xff_ffff
        )
    } else {
        format!("{}-{}-{}", now.compact(), drill.bug, spec.lang)
    };
    let bugged = BuggedTree::make(scenario, drill, spec, blind)?;
    let ws = workspace::create(&f.workspace(), &bugged.snapshot(), &id, results.root())?;
    drop(bugged);
    eprintln!("Building the bugged service...");
    let cache = Cache::from_env();
    let built = rt
        .block_on(interrupts.guard(builder::build(spec, &scenario.name, ws.root(), &cache)))
        .map_err(|i| {
            Failure::new(
                Kind::Interrupted(i),
                anyhow::anyhow!(
                    "interrupted ({}) while building: no game day was recorded",
                    i.name()
                ),
            )
        })?
        .map_err(|e| {
            let verify = if blind {
                "`drill verify`".to_string()
            } else {
                format!("`drill verify {}`", drill.id)
            };
            Failure::new(
                Kind::Infrastructure,
                anyhow::anyhow!("the bugged workspace does not build ({e}); run {verify}"),
            )
        })?;

    f.write_pointer(&Pointer {
        format_version: folder::POINTER_VERSION,
        id: id.clone(),
        results: results.root().to_path_buf(),
        pager: pager.clone(),
    })
    .map_err(|e| Failure::environment(format!("writing in {}: {e}", f.root.display())))?;
    let header = Header {
        id: id.clone(),
        drill: drill.id.clone(),
        language: spec.lang.clone(),
        seed: def.seed,
        started_at: now,
        time_box_ms: args.time_box * 1000,
        folder: f.root.clone(),
        slo: def.slo,
        alert: def.alert,
        fault_check,
        schedule: def.schedule(),
        on_call: Some(on_call.clone()),
        blind,
        class: Some(drill.class.clone()),
    };
    if blind {
        outln!(
            "Game day {id}: a blind game day on {} ({}) in {}",
            scenario.name,
            spec.lang,
            f.root.display()
        );
        if args.reveal {
            outln!(
                "  drill (--reveal, facilitator's eyes only): {} — {} ({}); fault check {}",
                drill.id,
                drill.title,
                drill.class,
                header.fault_check
            );
        } else {
            outln!("  drill: hidden (blind); the debrief names it once the game day ends");
        }
    } else {
        outln!(
            "Game day {id}: {} ({}) in {}",
            drill.id,
            spec.lang,
            f.root.display()
        );
    }
    outln!("  on call: {on_call}");
    if let Some(url) = &webhook {
        outln!("  webhook: {url} (every alert, clear and pager message, as JSON)");
    }
    outln!("  schedule (facilitator's eyes only):");
    for (i, name) in header.schedule.iter().zip(inject_names(&header.schedule)) {
        outln!(
            "    at {:>6.1} s  {name}: {}",
            i.at_ms as f64 / 1000.0,
            i.text
        );
    }
    let e = &def.timeline.escalation;
    if e.max > 0 {
        outln!(
            "    escalation-1..{}: every {} while the page stays unacknowledged",
            e.max,
            secs(e.after_ms)
        );
    }
    outln!("  on-call, in another terminal:");
    outln!("    cd {}  (the service's code)", ws.root().display());
    outln!(
        "    tail -f {}  (pager)   tail -f {}  (service log)",
        pager.display(),
        f.service_log().display()
    );
    outln!("    drill gameday status | ack | note TEXT | mitigate ... | deploy | resolve");
    outln!("  facilitator: drill gameday inject --list | inject NAME");
    outln!("  time box {} s; Ctrl-C ends the game day.", args.time_box);

    // Times on the facilitator's terminal count from the traffic's start
    // (the first line said). The webhook's task reports on it too.
    let clock = ctx.clock.clone();
    let zero = std::sync::OnceLock::new();
    let say: webhook::Reporter = Arc::new(move |line: &str| {
        let t = clock.now();
        let t = t.ms_since(*zero.get_or_init(|| t)) as f64 / 1000.0;
        let _ = super::write_out(format_args!("[{t:>7.1}s] {line}\n"));
    });
    let hook = webhook.map(|url| {
        let _in_runtime = rt.enter();
        webhook::Hook::spawn(url, say.clone())
    });
    let setup = Setup {
        suite: &scenario.suite,
        workload: &workload,
        fault_rules,
        binary: built.binary.clone(),
        folder: f.clone(),
        pager,
        results: results.clone(),
        header,
        traffic: def.traffic.clone(),
        knobs: def.offered_knobs(&workload.env),
        escalation: def.timeline.escalation.clone(),
        clock: ctx.clock.clone(),
        webhook: hook,
    };
    let outcome = rt.block_on(interrupts.guard(live::run(&setup, &*say)));
    drop(setup);
    drop(built);
    let (reason, code) = match outcome {
        Ok(r) => (r?, exit_code::SUCCESS),
        Err(i) => {
            // The loop was dropped: its service and traffic are gone. The end is recorded.
            let _ = record::append(
                &results,
                &id,
                "gameday start",
                EventKind::Ended {
                    reason: EndReason::Interrupted,
                },
                ctx.now(),
            );
            (EndReason::Interrupted, i.exit_code())
        }
    };
    rt.shutdown_timeout(Duration::from_secs(2));
    match record::load(&results, &id) {
        Ok(r) => {
            outln!(
                "Game day ended ({}). Clocks from the fault:",
                reason_text(reason)
            );
            print_clocks(&r)?;
            outln!("Record: {}", results.gameday_path(&id).display());
        }
        // Stopped before the traffic started: nothing was recorded.
        Err(record::RecordError::NotFound { .. }) => {
            outln!(
                "Game day stopped ({}) before its traffic started: nothing was recorded.",
                reason_text(reason)
            )
        }
        Err(e) => return Err(e.into()),
    }
    Ok(code)
}

/// `--on-call`, else `$USER`, else "on-call"; refused when no record should carry it.
fn on_call_name(given: Option<&str>) -> Result<String, Failure> {
    let name = given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "on-call".to_string());
    match crate::terminal::name_problem(&name) {
        Some(problem) => Err(Failure::usage(format!(
            "{}; pass --on-call NAME",
            crate::terminal::name_error(&name, &problem)
        ))),
        None => Ok(name),
    }
}

/// Whether `drill` can run as a game day: its scenario has a bench workload
/// and its definition (gameday.toml or the defaults) loads and names a check.
fn gameday_ready(catalog: &Catalog, drill: &Drill) -> bool {
    let scenario = catalog.scenario(&drill.scenario);
    Workload::load_for(&scenario.dir, &scenario.suite)
        .ok()
        .and_then(|w| Definition::load(&drill.dir, &drill.id, &drill.checks, w.timeout).ok())
        .is_some_and(|d| d.fault_check(&drill.checks).is_some())
}

/// The blind deal of `gameday start --random`: the deal of `start --random`
/// (`blind::pool_before`, `session::start::deal`) over the drills that can run
/// as a game day, leaving out those `on_call` has met (as a drill, or in a
/// game day recorded with their name) while any other is left.
fn deal<'c>(
    catalog: &'c Catalog,
    results: &ResultsDir,
    on_call: &str,
    lang: Option<&str>,
    scenario: Option<&str>,
) -> Result<(&'c Drill, String), Failure> {
    if let Some(s) = scenario {
        if !catalog.scenarios.contains_key(s) {
            return Err(Failure::usage(format!(
                "--scenario {s}: no such scenario in the catalog at {} (it has: {})",
                catalog.root.display(),
                catalog
                    .scenarios
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let ready: BTreeSet<&str> = catalog
        .drills
        .iter()
        .filter(|d| scenario.is_none_or(|s| d.scenario == s))
        .filter(|d| gameday_ready(catalog, d))
        .map(|d| d.id.as_str())
        .collect();
    let history = History::load(results);
    let seen = history.seen_by(on_call, None);
    let candidates: Vec<&Drill> = blind::pool_before(catalog, &BTreeSet::new(), lang)
        .into_iter()
        .filter(|d| ready.contains(d.id.as_str()))
        .collect();
    if candidates.is_empty() {
        let which = match (scenario, lang) {
            (Some(s), Some(l)) => format!(" of scenario {s} with a {l} version"),
            (Some(s), None) => format!(" of scenario {s}"),
            (None, Some(l)) => format!(" with a {l} version"),
            (None, None) => String::new(),
        };
        return Err(Failure::usage(format!(
            "no drill{which} in the catalog at {} can run as a game day (it needs its \
             scenario's bench.toml and a check to take the fault from)",
            catalog.root.display()
        )));
    }
    let fresh: Vec<&Drill> = blind::pool_before(catalog, &seen, lang)
        .into_iter()
        .filter(|d| ready.contains(d.id.as_str()))
        .collect();
    if fresh.is_empty() {
        eprintln!(
            "note: {on_call} has met every drill that can run as a game day here; \
             dealing one of them again"
        );
        return Ok(session_start::deal(&candidates, lang));
    }
    Ok(session_start::deal(&fresh, lang))
}

fn language<'c>(
    scenario: &'c Scenario,
    drill: &Drill,
    lang: &str,
) -> Result<&'c LanguageSpec, Failure> {
    if !drill.languages.iter().any(|l| l == lang) {
        return Err(Failure::usage(format!(
            "{} has no {lang} version (it has: {})",
            drill.id,
            drill.languages.join(", ")
        )));
    }
    scenario
        .languages
        .get(lang)
        .ok_or_else(|| Failure::usage(format!("scenario {} has no language {lang}", scenario.name)))
}

/// The game day of `--dir` or of the current directory.
fn locate(ctx: &Context, args: &OnCallArgs) -> Result<(Folder, Pointer, ResultsDir), Failure> {
    let from = args.dir.clone().unwrap_or_else(|| ctx.cwd.clone());
    let f = Folder::find(&from).ok_or_else(|| {
        Failure::usage(format!(
            "{} is not in a game day's folder; pass --dir D (the folder `drill gameday start` made)",
            from.display()
        ))
    })?;
    let p = f.pointer().map_err(|e| {
        Failure::new(
            Kind::Records,
            anyhow::anyhow!("{}: {e}", f.root.join(folder::POINTER).display()),
        )
    })?;
    let results = ResultsDir::at(&p.results);
    Ok((f, p, results))
}

fn since_fault(r: &Record, at: crate::clock::Timestamp) -> String {
    match r.fault_at() {
        Some(f) if at >= f => format!("{} after the fault started", secs(at.ms_since(f))),
        _ => "before any fault".to_string(),
    }
}

fn simple(ctx: &Context, args: &OnCallArgs, command: &str, kind: EventKind) -> Result<u8, Failure> {
    let (_f, p, results) = locate(ctx, args)?;
    let before = record::load(&results, &p.id)?;
    if matches!(kind, EventKind::Ack) && before.has(|k| matches!(k, EventKind::Ack)) {
        return Err(Failure::usage("the page is already acknowledged"));
    }
    let r = record::append(
        &results,
        &p.id,
        &format!("gameday {command}"),
        kind,
        ctx.now(),
    )?;
    let at = r.events.last().expect("just appended").at;
    outln!("{command} recorded at {at} ({}).", since_fault(&r, at));
    Ok(exit_code::SUCCESS)
}

fn note(ctx: &Context, args: NoteArgs) -> Result<u8, Failure> {
    let text = args.text.trim().to_string();
    if text.is_empty() {
        return Err(Failure::usage(
            "the note is empty; give its text: drill gameday note \"what happened\"",
        ));
    }
    if text.contains('\n') {
        return Err(Failure::usage(
            "a note is one line; record several lines as several notes",
        ));
    }
    let by = args
        .by
        .or_else(|| std::env::var("USER").ok())
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "scribe".to_string());
    simple(ctx, &args.on_call, "note", EventKind::Note { text, by })
}

fn deploy(ctx: &Context, args: &OnCallArgs) -> Result<u8, Failure> {
    let (f, p, results) = locate(ctx, args)?;
    let r = record::load(&results, &p.id)?;
    if let Some((_, reason)) = r.ended() {
        return Err(Failure::usage(format!(
            "the game day has ended ({})",
            reason_text(reason)
        )));
    }
    let catalog = ctx.catalog()?;
    let drill = catalog.drill(&r.gameday.drill)?;
    let scenario = catalog.scenario(&drill.scenario);
    let spec = language(scenario, drill, &r.gameday.language)?;
    let (rt, mut interrupts) = interruptible()?;

    // Claim a deploy number: its folder, made once.
    let mut n = r.next_deploy();
    std::fs::create_dir_all(f.deploys())
        .map_err(|e| Failure::environment(format!("{}: {e}", f.deploys().display())))?;
    let dir = loop {
        let d = f.deploy_dir(n);
        match std::fs::create_dir(&d) {
            Ok(()) => break d,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(Failure::environment(format!("{}: {e}", d.display()))),
        }
    };
    let ws = workspace::find(&f.workspace())?;
    let src = dir.join("src");
    ws.sync_to(&src)?;
    eprintln!("deploy {n}: building...");
    let built = rt
        .block_on(interrupts.guard(builder::build(
            spec,
            &scenario.name,
            &src,
            &Cache::from_env(),
        )))
        .map_err(|i| {
            Failure::new(
                Kind::Interrupted(i),
                anyhow::anyhow!("interrupted ({}) while building deploy {n}", i.name()),
            )
        })?;
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            let reason = match &e {
                BuildError::Failed { summary, .. } => format!("build failed: {summary}"),
                other => format!("build: {other}"),
            };
            record::append(
                &results,
                &p.id,
                "gameday deploy",
                EventKind::Deploy {
                    n,
                    outcome: DeployOutcome::BuildFailed,
                    reason: Some(reason.clone()),
                    dropped: None,
                },
                ctx.now(),
            )?;
            outln!("deploy {n}: {reason}; the running service is unchanged.");
            return Ok(exit_code::FAILED);
        }
    };
    let binary = dir.join(built.binary.file_name().unwrap_or_default());
    std::fs::copy(&built.binary, &binary).map_err(|e| {
        Failure::environment(format!("copying the binary to {}: {e}", binary.display()))
    })?;
    drop(built);
    eprintln!("deploy {n}: built; waiting for the switch...");
    let limit = Duration::from_millis(scenario.suite.service.startup_timeout_ms) + ANSWER_SLACK;
    let result: DeployResult = ask(
        &f,
        &results,
        &p.id,
        &dir,
        &DeployRequest {
            n,
            binary: binary.clone(),
        },
        &format!("deploy {n}"),
        limit,
    )?;
    match result.outcome {
        DeployOutcome::Live => outln!(
            "deploy {n}: live (pid {}); traffic moved, the old build stopped; {} during the swap.",
            result.service_pid.unwrap_or(0),
            unanswered(result.dropped.unwrap_or(0))
        ),
        _ => {
            outln!(
                "deploy {n}: the new build never became ready ({}); the old one keeps serving.",
                result.reason.unwrap_or_default()
            );
            return Ok(exit_code::FAILED);
        }
    }

    // Judged as submit judges: the whole acceptance suite against this build
    // (built from a copy of the workspace).
    eprintln!("deploy {n}: judging the build with the acceptance checks...");
    let scratch = Scratch::new("gameday")
        .map_err(|e| Failure::environment(format!("a temporary folder: {e}")))?;
    let opts = RunOptions {
        seed: JUDGE_SEED,
        work_root: Some(scratch.path().to_path_buf()),
        ..RunOptions::default()
    };
    let judged = rt
        .block_on(interrupts.guard(harness::run_suite(&scenario.suite, None, &binary, &opts)))
        .map_err(|i| {
            Failure::new(
                Kind::Interrupted(i),
                anyhow::anyhow!(
                    "interrupted ({}) while judging deploy {n}; it is live, not judged",
                    i.name()
                ),
            )
        })?;
    let checks = judged.len();
    let judged: Vec<String> = judged
        .into_iter()
        .filter(|c| !c.outcome.is_pass())
        .map(|c| format!("{}: {}", c.name, c.outcome.reason().unwrap_or("failed")))
        .collect();
    let passed = judged.is_empty();
    let shown = judged.len();
    record::append(
        &results,
        &p.id,
        "gameday deploy",
        EventKind::Judged {
            n,
            passed,
            reasons: judged,
        },
        ctx.now(),
    )?;
    if passed {
        outln!("deploy {n}: the build passes the acceptance checks: fixed.");
        Ok(exit_code::SUCCESS)
    } else {
        outln!(
            "deploy {n}: {shown} of {checks} acceptance checks fail with this build: not fixed."
        );
        Ok(exit_code::FAILED)
    }
}

/// Game-day clocks are seconds long: shown to the tenth.
fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn sparkline(values: &[Option<f64>], objective: f64) -> String {
    crate::gameday::sli::sparkline(values, objective)
}

fn reason_text(r: EndReason) -> &'static str {
    match r {
        EndReason::Resolved => "resolved",
        EndReason::TimeBox => "time box",
        EndReason::Interrupted => "interrupted",
    }
}

fn clock_text(c: &Clock) -> String {
    match c {
        Clock::Reached { ms } => secs(*ms),
        Clock::Censored { at_ms } => format!("not reached (censored at {})", secs(*at_ms)),
        Clock::Running => "running".to_string(),
    }
}

fn print_clocks(r: &Record) -> Result<(), Failure> {
    let c = r.clocks();
    match c.fault_start_ms {
        Some(ms) => outln!("  fault started  {} after the traffic", secs(ms)),
        None => outln!("  fault started  not yet"),
    }
    for (name, clock) in [
        ("detect", &c.detect),
        ("acknowledge", &c.acknowledge),
        ("mitigate", &c.mitigate),
        ("fix", &c.fix),
        ("resolve", &c.resolve),
    ] {
        outln!("  {name:<14} {}", clock_text(clock));
    }
    Ok(())
}

/// The scribe's timeline, each note with its time from the fault.
fn print_notes(r: &Record) -> Result<(), Failure> {
    let notes: Vec<_> = r
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Note { text, by } => Some((e.at, text, by)),
            _ => None,
        })
        .collect();
    if notes.is_empty() {
        return Ok(());
    }
    outln!("  notes");
    for (at, text, by) in notes {
        let when = match r.fault_at() {
            Some(f) if at >= f => format!("+{}", secs(at.ms_since(f))),
            _ => "before the fault".to_string(),
        };
        outln!("    {at} ({when})  {by}: {text}");
    }
    Ok(())
}

fn status(ctx: &Context, args: &StatusArgs) -> Result<u8, Failure> {
    let (f, p, results) = locate(ctx, &args.on_call)?;
    let r = record::load(&results, &p.id)?;
    let live: Option<Status> = folder::read_json(&f.status()).ok();
    let hidden = r.hides_drill();
    if args.json {
        let v = serde_json::json!({
            "format_version": 1,
            "id": p.id,
            "drill": (!hidden).then_some(&r.gameday.drill),
            "language": r.gameday.language,
            "blind": r.gameday.blind,
            "on_call": r.gameday.on_call,
            "ended": r.ended().map(|(at, reason)| serde_json::json!({"at": at, "reason": reason})),
            "acknowledged": r.has(|k| matches!(k, EventKind::Ack)),
            "status": live,
            "clocks": r.clocks(),
            "events": r.on_call_events(),
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("serializes"));
        return Ok(exit_code::SUCCESS);
    }
    if hidden {
        outln!(
            "Game day {} ({} {}; blind: the drill is named once the game day ends)",
            p.id,
            r.gameday.drill.split('/').next().unwrap_or_default(),
            r.gameday.language
        );
    } else {
        outln!(
            "Game day {} ({} {})",
            p.id,
            r.gameday.drill,
            r.gameday.language
        );
    }
    if let Some(who) = &r.gameday.on_call {
        outln!("  on call        {who}");
    }
    let ended = r.ended();
    if let Some((at, reason)) = ended {
        outln!(
            "  ended at {at} ({}); the figures below are its last",
            reason_text(reason)
        );
    }
    match &live {
        Some(s) => {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
            let burn = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}x"));
            outln!(
                "  SLI {}       {} (objective {:.2}%)  {}",
                if ended.is_some() { "last" } else { "now " },
                pct(s.sli),
                r.gameday.slo.availability * 100.0,
                sparkline(&s.recent, r.gameday.slo.availability)
            );
            outln!(
                "  burn rate      {} long, {} short (pages at {}x)",
                burn(s.long_burn),
                burn(s.short_burn),
                r.gameday.alert.burn_rate
            );
            outln!("  budget left    {:.0}%", s.budget_left * 100.0);
            let acked = r.has(|k| matches!(k, EventKind::Ack));
            outln!(
                "  alert          {}{}",
                if s.alert_firing { "FIRING" } else { "ok" },
                if acked { " (acknowledged)" } else { "" }
            );
            outln!("  service pid    {}", s.service_pid);
            if let Some(w) = s.webhook {
                outln!(
                    "  webhook        {} delivered, {} not delivered, {} dropped",
                    w.delivered,
                    w.failed,
                    w.dropped
                );
            }
        }
        None => outln!("  no SLI measured yet"),
    }
    print_actions(&r, live.as_ref())?;
    print_notes(&r)?;
    print_clocks(&r)?;
    Ok(exit_code::SUCCESS)
}

/// `3 requests got no answer`.
fn unanswered(n: u64) -> String {
    match n {
        1 => "1 request got no answer".to_string(),
        n => format!("{n} requests got no answer"),
    }
}

/// The game day's definition and the scenario's startup timeout, from the
/// catalog (the knobs, the escalations).
fn definition_for(ctx: &Context, r: &Record) -> Result<(Definition, Vec<String>, u64), Failure> {
    let catalog = ctx.catalog()?;
    let drill = catalog.drill(&r.gameday.drill)?;
    let scenario = catalog.scenario(&drill.scenario);
    let workload = Workload::load_for(&scenario.dir, &scenario.suite)
        .map_err(|e| Failure::new(Kind::Catalog, e))?;
    let def = Definition::load(&drill.dir, &drill.id, &drill.checks, workload.timeout)
        .map_err(|e| Failure::new(Kind::Catalog, e))?;
    let knobs = def.offered_knobs(&workload.env);
    Ok((def, knobs, scenario.suite.service.startup_timeout_ms))
}

fn refuse_if_ended(r: &Record) -> Result<(), Failure> {
    match r.ended() {
        Some((_, reason)) => Err(Failure::usage(format!(
            "the game day has ended ({}); nothing more is recorded",
            reason_text(reason)
        ))),
        None => Ok(()),
    }
}

/// Builds that a rollback can go back to: live deploys less live roll backs.
fn rollback_depth(r: &Record) -> usize {
    let mut depth = 0usize;
    for e in &r.events {
        match e.kind {
            EventKind::Deploy {
                outcome: DeployOutcome::Live,
                ..
            } => depth += 1,
            EventKind::Mitigation {
                action: MitigationAction::Rollback,
                outcome: MitigationOutcome::Live,
                ..
            } => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// Writes `request` as request `n` under `dir` and waits (bounded by
/// `limit`) for the facilitator's `result.json`.
/// The facilitator's pid when its process is gone (killed, crashed) while
/// its status file says the game day runs: nothing will answer a request.
fn facilitator_gone(f: &Folder) -> Option<i32> {
    let status: Status = folder::read_json(&f.status()).ok()?;
    let pid = i32::try_from(status.pid).ok()?;
    crate::scratch::pid_gone(pid).then_some(pid)
}

fn facilitator_gone_failure(what: &str, pid: i32, dir: &std::path::Path) -> Failure {
    Failure::new(
        Kind::Infrastructure,
        anyhow::anyhow!(
            "{what}: the game day's facilitator (pid {pid}) is no longer running, so nothing will answer; the request stays in {}. Start a new game day, or `drill gameday debrief` this one",
            dir.display()
        ),
    )
}

fn ask<Req: serde::Serialize, Res: serde::de::DeserializeOwned>(
    f: &Folder,
    results: &ResultsDir,
    id: &str,
    dir: &std::path::Path,
    request: &Req,
    what: &str,
    limit: Duration,
) -> Result<Res, Failure> {
    folder::write_json(&dir.join("request.json"), request)
        .map_err(|e| Failure::environment(format!("{}: {e}", dir.display())))?;
    let waited = Instant::now();
    loop {
        if let Ok(res) = folder::read_json(&dir.join("result.json")) {
            return Ok(res);
        }
        if let Some(pid) = facilitator_gone(f) {
            return Err(facilitator_gone_failure(what, pid, dir));
        }
        if waited.elapsed() > limit || record::load(results, id)?.ended().is_some() {
            return Err(Failure::new(
                Kind::Infrastructure,
                anyhow::anyhow!(
                    "{what}: the game day's facilitator did not answer within {} s (has it ended?); the request stays in {}",
                    limit.as_secs(),
                    dir.display()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mitigate(ctx: &Context, args: MitigateArgs) -> Result<u8, Failure> {
    let (wanted, on_call) = match args.action {
        MitigateCommand::Restart(o) => (Mitigate::Restart, o),
        MitigateCommand::Rollback(o) => (Mitigate::Rollback, o),
        MitigateCommand::Set {
            assignment,
            on_call,
        } => {
            let (key, value) = assignment
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, v)| !k.is_empty() && !v.contains(['\n', '\0']))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "{assignment:?}: give one KEY=VALUE on a line (drill gameday mitigate set HEALTH_TIMEOUT_MS=200)"
                    ))
                })?;
            (Mitigate::Set { key, value }, on_call)
        }
        MitigateCommand::Shed { percent, on_call } => {
            let p = percent
                .trim()
                .trim_end_matches('%')
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "shed {percent:?}: give a whole percentage from 0 to 100 (0 stops shedding)"
                    ))
                })?;
            (Mitigate::Shed { percent: p }, on_call)
        }
    };
    let (f, p, results) = locate(ctx, &on_call)?;
    let r = record::load(&results, &p.id)?;
    refuse_if_ended(&r)?;
    let (_, knobs, startup_ms) = definition_for(ctx, &r)?;
    match &wanted {
        Mitigate::Set { key, .. } if !knobs.contains(key) => {
            return Err(Failure::usage(format!(
                "{key} is not a knob this scenario offers; it offers: {}",
                if knobs.is_empty() {
                    "none".to_string()
                } else {
                    knobs.join(", ")
                }
            )));
        }
        Mitigate::Rollback if rollback_depth(&r) == 0 => {
            return Err(Failure::usage(
                "nothing was deployed: the original build is running and there is no build before it to roll back to",
            ));
        }
        _ => {}
    }
    let (n, dir) = folder::claim(&f.mitigations(), 1)
        .map_err(|e| Failure::environment(format!("{}: {e}", f.mitigations().display())))?;
    // A start waits for any deploy or swap in flight, then for its ready line.
    let limit = Duration::from_millis(2 * startup_ms) + ANSWER_SLACK;
    let request = MitigationRequest {
        n,
        mitigate: wanted,
    };
    let res: MitigationResult = ask(
        &f,
        &results,
        &p.id,
        &dir,
        &request,
        &format!("mitigation {n}"),
        limit,
    )?;
    if let Some(why) = res.refused {
        return Err(Failure::usage(format!("mitigation {n} refused: {why}")));
    }
    match (&request.mitigate, res.outcome) {
        (Mitigate::Shed { percent: 0 }, _) => {
            outln!("mitigation {n}: shedding stopped; all the steady traffic is sent.");
        }
        (Mitigate::Shed { percent }, _) => {
            outln!(
                "mitigation {n}: the steady traffic drops {percent}% of its requests at the generator (the SLI counts the ones sent)."
            );
        }
        (_, Some(MitigationOutcome::Live)) => outln!(
            "mitigation {n}: {} live (pid {}); {} during the swap.",
            res.detail,
            res.service_pid.unwrap_or(0),
            unanswered(res.dropped.unwrap_or(0))
        ),
        _ => {
            outln!(
                "mitigation {n}: {} never became ready ({}); the old build keeps serving.",
                res.detail,
                res.reason.unwrap_or_default()
            );
            return Ok(exit_code::FAILED);
        }
    }
    Ok(exit_code::SUCCESS)
}

/// One inject of the game day, for `inject --list`.
#[derive(serde::Serialize)]
struct InjectRow {
    name: String,
    kind: InjectKind,
    /// When the timeline fires it: ms after the traffic starts; `None` for
    /// escalations (they follow the page).
    at_ms: Option<u64>,
    due: String,
    fired_at: Option<crate::clock::Timestamp>,
    manual: bool,
}

fn inject_rows(r: &Record, def: &Definition) -> Vec<InjectRow> {
    let fired = |name: &str| {
        r.events.iter().find_map(|e| match &e.kind {
            EventKind::Inject {
                name: Some(n),
                manual,
                ..
            } if n == name => Some((e.at, *manual)),
            _ => None,
        })
    };
    let mut rows: Vec<InjectRow> = inject_names(&r.gameday.schedule)
        .into_iter()
        .zip(&r.gameday.schedule)
        .map(|(name, i)| {
            let f = fired(&name);
            InjectRow {
                kind: i.kind,
                at_ms: Some(i.at_ms),
                due: format!("{} after the traffic started", secs(i.at_ms)),
                fired_at: f.map(|f| f.0),
                manual: f.is_some_and(|f| f.1),
                name,
            }
        })
        .collect();
    let e = &def.timeline.escalation;
    for k in 1..=e.max {
        let name = escalation_name(k);
        let f = fired(&name);
        rows.push(InjectRow {
            kind: InjectKind::Escalation,
            at_ms: None,
            due: format!(
                "when the page stays unacknowledged {}",
                secs(u64::from(k) * e.after_ms)
            ),
            fired_at: f.map(|f| f.0),
            manual: f.is_some_and(|f| f.1),
            name,
        });
    }
    rows
}

fn inject(ctx: &Context, args: &InjectArgs) -> Result<u8, Failure> {
    let (f, p, results) = locate(ctx, &args.on_call)?;
    let r = record::load(&results, &p.id)?;
    let (def, _, _) = definition_for(ctx, &r)?;
    let rows = inject_rows(&r, &def);
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        if args.json {
            let v = serde_json::json!({ "format_version": 1, "id": p.id, "injects": rows });
            outln!("{}", serde_json::to_string_pretty(&v).expect("serializes"));
            return Ok(exit_code::SUCCESS);
        }
        outln!("Injects of game day {} (facilitator's eyes only):", p.id);
        for row in &rows {
            let state = match row.fired_at {
                Some(at) => format!("fired{} at {at}", if row.manual { " by hand" } else { "" }),
                None => "not fired".to_string(),
            };
            outln!("  {:<18} {:<50} {state}", row.name, row.due);
        }
        return Ok(exit_code::SUCCESS);
    };
    refuse_if_ended(&r)?;
    let row = rows.iter().find(|row| row.name == name).ok_or_else(|| {
        Failure::usage(format!(
            "no inject {name:?} in this game day; it has: {}",
            rows.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if let Some(at) = row.fired_at {
        return Err(Failure::usage(format!(
            "{name} already fired{} at {at} ({}); an inject fires once",
            if row.manual {
                " by hand"
            } else {
                " (the timeline)"
            },
            since_fault(&r, at)
        )));
    }
    let (n, dir) = folder::claim(&f.injects(), 1)
        .map_err(|e| Failure::environment(format!("{}: {e}", f.injects().display())))?;
    let res: InjectResult = ask(
        &f,
        &results,
        &p.id,
        &dir,
        &InjectRequest {
            n,
            name: name.to_string(),
        },
        &format!("inject {name}"),
        ANSWER_SLACK,
    )?;
    if let Some(why) = res.refused {
        return Err(Failure::usage(format!("inject {name} refused: {why}")));
    }
    let r = record::load(&results, &p.id)?;
    let at = r
        .events
        .iter()
        .rev()
        .find(|e| matches!(&e.kind, EventKind::Inject { name: Some(x), .. } if x == name))
        .map(|e| e.at);
    match at {
        Some(at) => outln!(
            "inject {name}: fired by hand at {at} ({}).",
            since_fault(&r, at)
        ),
        None => outln!("inject {name}: fired by hand."),
    }
    Ok(exit_code::SUCCESS)
}

/// The injects fired and the mitigations done so far, for `status`.
fn print_actions(r: &Record, live: Option<&Status>) -> Result<(), Failure> {
    let when = |at: crate::clock::Timestamp| match r.fault_at() {
        Some(f) if at >= f => format!("+{}", secs(at.ms_since(f))),
        _ => "before the fault".to_string(),
    };
    let mut injects = Vec::new();
    let mut mitigations = Vec::new();
    for e in &r.events {
        match &e.kind {
            EventKind::Inject {
                kind, name, manual, ..
            } => injects.push(format!(
                "    {} ({})  {}{}",
                e.at,
                when(e.at),
                name.clone().unwrap_or_else(|| kind.name().to_string()),
                if *manual { " (by hand)" } else { "" }
            )),
            EventKind::Mitigation {
                action,
                detail,
                outcome,
                dropped,
                ..
            } => mitigations.push(format!(
                "    {} ({})  {} {detail}: {}{}",
                e.at,
                when(e.at),
                live::action_name(*action),
                match (action, outcome) {
                    (MitigationAction::Shed, _) => "on",
                    (_, MitigationOutcome::Live) => "live",
                    (_, MitigationOutcome::NotReady) => "never became ready",
                },
                dropped.map_or(String::new(), |d| format!(
                    ", {} during the swap",
                    unanswered(d)
                ))
            )),
            _ => {}
        }
    }
    if !injects.is_empty() {
        outln!("  injects fired");
        for l in injects {
            outln!("{l}");
        }
    }
    if !mitigations.is_empty() {
        outln!("  mitigations");
        for l in mitigations {
            outln!("{l}");
        }
    }
    if let Some(s) = live.filter(|s| s.shed_percent > 0 || s.shed_total > 0) {
        outln!(
            "  shedding      {}% now, {} requests shed so far",
            s.shed_percent,
            s.shed_total
        );
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Records a game day of `drill` with `on_call` in `results`.
    fn played(results: &ResultsDir, n: usize, drill: &str, on_call: &str) {
        let header = Header {
            id: format!("g{n}"),
            drill: drill.to_string(),
            on_call: Some(on_call.to_string()),
            ..record::test_header()
        };
        record::create(results, header, EventKind::Started, t0()).unwrap();
    }

    fn t0() -> crate::clock::Timestamp {
        crate::clock::Timestamp::from_unix_ms(1_000_000)
    }

    #[test]
    fn a_blind_deal_avoids_what_the_on_call_played_while_anything_else_is_left() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(root).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let results = ResultsDir::at(dir.path());
        let ready: Vec<&Drill> = catalog
            .drills
            .iter()
            .filter(|d| d.scenario == "edge-proxy" && gameday_ready(&catalog, d))
            .collect();
        assert!(ready.len() >= 2, "the catalog has edge-proxy game days");
        let (last, rest) = ready.split_last().unwrap();
        for (n, d) in rest.iter().enumerate() {
            played(&results, n, &d.id, "ana");
        }
        for _ in 0..20 {
            let (d, lang) =
                deal(&catalog, &results, "ana", Some("go"), Some("edge-proxy")).unwrap();
            assert_eq!((d.id.as_str(), lang.as_str()), (last.id.as_str(), "go"));
        }
        // Another on-call has played none of them.
        let others: BTreeSet<String> = (0..40)
            .map(|_| {
                deal(&catalog, &results, "lee", None, Some("edge-proxy"))
                    .unwrap()
                    .0
                    .id
                    .clone()
            })
            .collect();
        assert!(others.len() > 1, "{others:?}");
        // Every one played: one is dealt again rather than none.
        played(&results, 99, &last.id, "ana");
        let (d, _) = deal(&catalog, &results, "ana", Some("go"), Some("edge-proxy")).unwrap();
        assert_eq!(d.scenario, "edge-proxy");
        let e = deal(&catalog, &results, "ana", None, Some("no-such")).unwrap_err();
        assert_eq!(e.kind, Kind::Usage);
        assert!(
            e.error.to_string().contains("--scenario no-such"),
            "{:?}",
            e.error
        );
    }
}
