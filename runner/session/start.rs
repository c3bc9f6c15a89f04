//! `drill start`: pick the drill, make the workspace, warm the build, start
//! the timer. Everything before the `start` event is the kit's time, not the
//! engineer's.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::target_dir::TreeCache;
use super::{cache, catalog, Ctx, StartArgs};
use crate::attempt::{Header, Record};
use crate::builder;
use crate::catalog::{Catalog, Drill, LanguageSpec, Scenario, Toolchain};
use crate::cli::{runtime, Failure};
use crate::clock::Timestamp;
use crate::exit_code;
use crate::results::ResultsDir;
use crate::toolchain;
use crate::util::human_duration;
use crate::workspace::{self, Snapshot};

fn usage(msg: impl Into<String>) -> Failure {
    Failure::new(exit_code::USAGE, anyhow::anyhow!(msg.into()))
}

pub fn start(ctx: &Ctx, args: StartArgs) -> Result<u8, Failure> {
    let catalog = catalog(ctx)?;
    let results = ResultsDir::resolve(args.results.as_deref())?;
    let engineer = args
        .engineer
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .or_else(workspace::git_user_name)
        .or_else(ask_engineer)
        .ok_or_else(|| {
            usage(
                "who is drilling? pass --engineer NAME (or set it once with \
                 `git config --global user.name NAME`)",
            )
        })?;
    let (drill, lang) = if args.next {
        // The plan names the drill and the language (issue 4: runner/plan.rs).
        let (id, lang) = crate::analysis::next_assignment(&results, &engineer)?;
        (catalog.drill(&id)?, lang)
    } else if args.random {
        pick_random(&catalog, args.lang.as_deref(), &results, &engineer)?
    } else {
        let id = args
            .id
            .as_deref()
            .expect("clap requires an id without --random");
        let drill = catalog.drill(id)?;
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
    let blind = args.random;
    let scenario = catalog.scenario(&drill.scenario);
    let spec = match scenario.languages.get(&lang) {
        Some(spec) if drill.languages.contains(&lang) => spec,
        _ if !scenario.languages.contains_key(&lang) => {
            return Err(usage(format!(
                "unknown language {lang:?}; pass --lang {}",
                drill.languages.join("|")
            )))
        }
        _ => {
            return Err(usage(format!(
                "{} has no {lang} version; --lang {}",
                if blind {
                    "this drill"
                } else {
                    drill.id.as_str()
                },
                drill.languages.join("|")
            )))
        }
    };
    let needed = format!("the {lang} version of scenario `{}`", scenario.name);
    let tc = toolchain::require(spec.toolchain, &spec.min_version, &needed)
        .map_err(|e| Failure::new(exit_code::TOOLCHAIN, e))?;

    let id = attempt_id(ctx.clock.now(), &engineer);
    let (dest, owned) = claim_dir(ctx, args.dir.as_deref(), drill, &lang, blind)?;
    let prepared = prepare(ctx, &catalog, scenario, drill, spec, &dest, &id, &results);
    let (ws, build_ms) = match prepared {
        Ok(p) => p,
        Err(e) => {
            release_dir(&dest, owned);
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
        engineer: engineer.clone(),
        toolchains: BTreeMap::from([(tc.program.clone(), tc.version.clone())]),
        kit_version: env!("CARGO_PKG_VERSION").to_string(),
        catalog_revision: catalog.revision().unwrap_or_else(|| "unknown".into()),
        workspace: ws.root().display().to_string(),
        hints_available: drill.hints.len() as u32,
        test_clock: ctx.test_clock,
    };
    let lock = results.lock(&id, "start")?;
    // The timer starts now: the workspace is ready and built.
    let record = Record::new(header, ctx.clock.now());
    if let Err(e) = results.create(&lock, &record) {
        release_dir(&dest, owned);
        return Err(e.into());
    }
    drop(lock);

    print!(
        "{}",
        started_text(&record, drill, scenario, ws.root(), build_ms, &results)
    );
    Ok(exit_code::SUCCESS)
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

/// Bugged tree → workspace → warm build. Returns the build time (not counted).
#[allow(clippy::too_many_arguments)]
fn prepare(
    ctx: &Ctx,
    catalog: &Catalog,
    scenario: &Scenario,
    drill: &Drill,
    spec: &LanguageSpec,
    dest: &Path,
    id: &str,
    results: &ResultsDir,
) -> Result<(workspace::Workspace, u64), Failure> {
    let _ = (ctx, catalog);
    let lang = &spec.lang;
    let patch = drill.patch(lang).ok_or_else(|| {
        Failure::new(
            exit_code::CATALOG,
            anyhow::anyhow!("drill {} has no {lang} patch", drill.id),
        )
    })?;
    // The bugged tree is made outside the workspace, so nothing the patching
    // leaves behind can reach it.
    let tmp = tempfile::Builder::new()
        .prefix("drill-start-")
        .tempdir()
        .map_err(|e| Failure::new(exit_code::FAILED, anyhow::anyhow!("temp dir: {e}")))?;
    let bugged = tmp.path().join("src");
    builder::copy_tree(&spec.dir, &bugged).map_err(|e| {
        Failure::new(
            exit_code::FAILED,
            anyhow::anyhow!("copying {}: {e}", spec.dir.display()),
        )
    })?;
    patch
        .apply_to_dir(&bugged)
        .map_err(|e| Failure::new(exit_code::CATALOG, e))?;

    let cache = cache();
    let exclude = build_output_patterns(spec, &bugged);
    let incident = format!(
        "# {}\n\n{}\n",
        drill.ticket.title.trim(),
        drill.ticket.body.trim()
    );
    let drill_md = drill_md(scenario, spec);
    let snapshot = Snapshot {
        source: &bugged,
        incident_md: &incident,
        drill_md: &drill_md,
        exclude: &exclude,
    };
    let ws = workspace::create(dest, &snapshot, id, results.root())?;
    let tree_cache = TreeCache::for_tree(
        &cache,
        spec,
        &scenario.name,
        &format!("attempts/{id}"),
        ws.root(),
    );
    if let Some(target_dir) = tree_cache.cargo_target_dir() {
        // The engineer's own `cargo build` uses the same private target
        // directory as the kit's builds of this workspace: the warm build
        // below makes their first build incremental. Untracked and ignored.
        let cargo_dir = ws.root().join(".cargo");
        let config = cargo_dir.join("config.toml");
        if !config.exists() {
            fs::create_dir_all(&cargo_dir)
                .and_then(|_| {
                    fs::write(
                        &config,
                        format!(
                            "# Written by drillkit (not part of the snapshot): this workspace's build\n\
                             # directory, seeded with the scenario's compiled dependencies.\n\
                             [build]\ntarget-dir = {:?}\n",
                            target_dir.display().to_string()
                        ),
                    )
                })
                .map_err(|e| Failure::new(exit_code::FAILED, anyhow::anyhow!("{}: {e}", config.display())))?;
        }
    }

    let started = Instant::now();
    eprintln!("Building the workspace once, so your first build is incremental (not timed)...");
    let rt = runtime()?;
    let built = rt
        .block_on(builder::build(
            spec,
            &scenario.name,
            ws.root(),
            &tree_cache.cache,
        ))
        .map_err(|e| {
            Failure::new(
                exit_code::INFRASTRUCTURE,
                anyhow::anyhow!(
                    "the bugged workspace does not build ({e}); run `drill verify {}` \
                     to check the catalog",
                    drill.id
                ),
            )
        })?;
    drop(built);
    tree_cache.publish();
    Ok((ws, started.elapsed().as_millis() as u64))
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
             (see the untracked `.cargo/config.toml`), seeded with compiled dependencies.\n",
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
    let drill_line = if h.blind {
        "hidden (blind: revealed when the attempt ends)".to_string()
    } else {
        format!(
            "{} — {} ({}, difficulty {}/5)",
            h.drill, h.title, h.class, h.difficulty
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
         drill hint | status | pause | resume | abandon\n{path_note}",
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
fn random_u64() -> u64 {
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
    let mut slug: String = engineer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug: String = slug.trim_matches('-').chars().take(24).collect();
    let slug = if slug.is_empty() {
        "anon".to_string()
    } else {
        slug
    };
    format!(
        "{}-{}-{:06x}",
        now.compact(),
        slug.trim_end_matches('-'),
        random_u64() & 0xff_ffff
    )
}

/// A random drill and language, preferring pairs this engineer has not
/// attempted yet.
fn pick_random<'c>(
    catalog: &'c Catalog,
    lang: Option<&str>,
    results: &ResultsDir,
    engineer: &str,
) -> Result<(&'c Drill, String), Failure> {
    let pairs: Vec<(&Drill, String)> = catalog
        .drills
        .iter()
        .flat_map(|d| d.languages.iter().map(move |l| (d, l.clone())))
        .filter(|(_, l)| lang.is_none_or(|want| want == l))
        .collect();
    if pairs.is_empty() {
        return Err(usage(match lang {
            Some(l) => format!(
                "no drill in the catalog at {} has a {l} version",
                catalog.root.display()
            ),
            None => format!("the catalog at {} has no drills", catalog.root.display()),
        }));
    }
    let done: Vec<(String, String)> = results
        .list()
        .map(|l| {
            l.records
                .into_iter()
                .filter(|(_, r)| r.attempt.engineer == engineer)
                .map(|(_, r)| (r.attempt.drill, r.attempt.language))
                .collect()
        })
        .unwrap_or_default();
    let fresh: Vec<&(&Drill, String)> = pairs
        .iter()
        .filter(|(d, l)| !done.iter().any(|(dd, dl)| *dd == d.id && dl == l))
        .collect();
    let pool: Vec<&(&Drill, String)> = if fresh.is_empty() {
        pairs.iter().collect()
    } else {
        fresh
    };
    let (drill, lang) = pool[(random_u64() % pool.len() as u64) as usize];
    Ok((*drill, lang.clone()))
}

/// Claims the workspace directory. Returns it and whether this command
/// created it (so a failed start removes it, and only it).
fn claim_dir(
    ctx: &Ctx,
    dir: Option<&Path>,
    drill: &Drill,
    lang: &str,
    blind: bool,
) -> Result<(PathBuf, bool), Failure> {
    if let Some(dir) = dir {
        let dir = ctx.cwd.join(dir);
        return match fs::read_dir(&dir).map(|mut entries| entries.next().is_some()) {
            Ok(true) => Err(usage(format!(
                "{} is not empty; pass --dir a new or empty directory",
                dir.display()
            ))),
            Ok(_) => Ok((dir, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(&dir).map_err(|e| usage(format!("{}: {e}", dir.display())))?;
                Ok((dir, true))
            }
            Err(e) => Err(usage(format!("{}: {e}", dir.display()))),
        };
    }
    // `drill-…`: easy to recognise, and ignored by the kit's own .gitignore
    // when a drill is started from the kit's checkout.
    let base = if blind {
        format!("drill-{lang}")
    } else {
        format!("drill-{}-{lang}", drill.bug)
    };
    for n in 1..1000 {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let path = ctx.cwd.join(&name);
        // create_dir fails if it exists: two starts never get the same folder.
        match fs::create_dir(&path) {
            Ok(()) => return Ok((path, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(usage(format!(
                    "cannot create the workspace {}: {e}",
                    path.display()
                )))
            }
        }
    }
    Err(usage(format!(
        "too many workspaces named {base}-N in {}; pass --dir",
        ctx.cwd.display()
    )))
}

/// Undoes [`claim_dir`] after a failed start.
fn release_dir(dir: &Path, owned: bool) {
    if owned {
        let _ = fs::remove_dir_all(dir);
    } else if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
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
