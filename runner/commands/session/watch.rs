//! `drill watch`: a live session in the workspace. On every save it rebuilds
//! the engineer's code and runs the visible tests; keys (a line each when
//! stdin is not a terminal) re-run, check the test, show a hint, claim a
//! location, submit, pause or resume, and quit.
//!
//! Saves are seen through `notify` with a debouncer (editors fire several
//! events per save, and some save by writing a temporary file and renaming
//! it over the original). Events under `.git`, under a `target` folder, or
//! on paths git ignores are dropped; what remains triggers a cycle only if
//! the tree's content changed since the last cycle (a fingerprint of every
//! tracked or new file), so one save is one cycle, whatever the editor did.
//! Each cycle is recorded (`test_run`): the number of build/test cycles and
//! the time to the first green run are derived from the log.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, IsTerminal};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{new_debouncer, DebounceEventResult};

use super::{attempt_tree_cache, catalog_for, drill_of, locate, Ctx, Target};
use crate::attempt::{EventKind, Record, State};
use crate::builder;
use crate::commands::interruptible;
use crate::console;
use crate::error::Failure;
use crate::exit_code;
use crate::util::human_duration;
use crate::workspace::Workspace;

/// Events closer together than this are one save.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

enum Msg {
    Changed(Vec<PathBuf>),
    Key(char),
    /// A line typed after `f` (FILE:LINE).
    Line(String),
    InputClosed,
}

const HELP: &str = "keys: r re-run · t check-test · h hint · f found (FILE:LINE) · s submit · \
                    p pause/resume · ? help · q quit";

pub fn watch(ctx: &Ctx, target: &Target) -> Result<u8, Failure> {
    let (rt, mut interrupts) = interruptible()?;
    let located = locate(ctx, target)?;
    let ws = located.workspace()?.clone();
    let record = located.load()?;
    if record.state().is_ended() {
        return Err(Failure::usage(format!(
            "the attempt has ended ({}); start a new one with `drill start`",
            record.state().as_str()
        )));
    }
    let catalog = catalog_for(ctx, &record)?;
    let d = drill_of(catalog, &record)?;
    let tree_cache = attempt_tree_cache(&d, &located.id, ws.root());

    let (tx, rx) = mpsc::channel::<Msg>();
    let fs_tx = tx.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, move |res: DebounceEventResult| {
        if let Ok(events) = res {
            let _ = fs_tx.send(Msg::Changed(events.into_iter().map(|e| e.path).collect()));
        }
    })
    .map_err(|e| Failure::environment(format!("watching the workspace: {e}")))?;
    debouncer
        .watcher()
        .watch(ws.root(), RecursiveMode::Recursive)
        .map_err(|e| Failure::environment(format!("watching {}: {e}", ws.root().display())))?;
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let _raw = tty.then(console::RawInput::enable).flatten();
    spawn_input(tx, tty);

    let mut screen = Screen {
        tty,
        last: "not run yet".to_string(),
    };
    screen.say(&format!(
        "Watching {} (saves rebuild and run the visible tests). {HELP}",
        ws.root().display()
    ));
    let mut fingerprint = None;
    let mut awaiting_line = false;
    // Keys that arrived while a save was settling, in order.
    let mut deferred = std::collections::VecDeque::new();
    let mut run_now = true;
    loop {
        if run_now {
            run_now = false;
            let record = located.load()?;
            if record.state() == State::Paused {
                screen.say("paused: not re-running (p resumes)");
            } else {
                fingerprint = Some(tree_fingerprint(&ws));
                screen.status(&record, ctx, "building and testing…");
                let started = ctx.clock.now();
                let t = Instant::now();
                let cycle = async {
                    let built =
                        builder::build(d.spec, &d.scenario.name, ws.root(), &tree_cache.cache)
                            .await;
                    let built = match built {
                        Ok(b) => b,
                        Err(e) => return (false, None, format!("does not build: {e}")),
                    };
                    let build_ms = built.duration.as_millis() as u64;
                    drop(built);
                    match builder::run_tests(d.spec, &d.scenario.name, ws.root(), &tree_cache.cache)
                        .await
                    {
                        Ok(r) if r.passed => (
                            true,
                            Some(build_ms),
                            format!("tests pass (in {})", human_duration(t.elapsed())),
                        ),
                        Ok(r) => (false, Some(build_ms), r.summary),
                        Err(e) => (false, Some(build_ms), format!("tests could not run: {e}")),
                    }
                };
                let (passed, build_ms, line) = match rt.block_on(interrupts.guard(cycle)) {
                    Ok(done) => done,
                    Err(i) => {
                        screen.clear();
                        eprintln!("Stopped ({}) during a build: nothing recorded.", i.name());
                        return Ok(i.exit_code());
                    }
                };
                tree_cache.publish();
                let finished = ctx.clock.now();
                let event = EventKind::TestRun {
                    passed,
                    build_ms,
                    duration_ms: finished.ms_since(started),
                };
                let recorded = located
                    .results
                    .lock(&located.id, "watch")
                    .map_err(Failure::from)
                    .and_then(|lock| Ok(lock.append(vec![event], finished)?));
                screen.last = line;
                match recorded {
                    Ok(_) => {}
                    Err(e) => screen.say(&format!("(not recorded: {})", e.error)),
                }
                screen.say(&format!("run: {}", screen.last));
            }
        }
        let record = located.load()?;
        screen.status(&record, ctx, "");
        let next = match deferred.pop_front() {
            Some(m) => Ok(m),
            None => rx.recv_timeout(Duration::from_secs(1)),
        };
        let msg = match next {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(exit_code::SUCCESS),
        };
        match msg {
            Msg::Changed(paths) => {
                let mut relevant = paths.iter().any(|p| !ignored(&ws, p));
                // One save can reach the debouncer's output in two batches
                // (a temporary file, then the rename over the original):
                // wait for a quiet window before judging the tree.
                while let Ok(more) = rx.recv_timeout(DEBOUNCE) {
                    match more {
                        Msg::Changed(paths) => {
                            relevant |= paths.iter().any(|p| !ignored(&ws, p));
                        }
                        other => deferred.push_back(other),
                    }
                }
                if relevant && fingerprint != Some(tree_fingerprint(&ws)) {
                    run_now = true;
                }
            }
            Msg::Line(line) if awaiting_line => {
                awaiting_line = false;
                screen.clear();
                let _ = super::found(ctx, target, line.trim());
            }
            Msg::Line(_) => {}
            Msg::InputClosed => {}
            Msg::Key(key) => {
                screen.clear();
                match key {
                    'q' => {
                        eprintln!("Bye: the attempt stays as it is (its timer keeps running).");
                        return Ok(exit_code::SUCCESS);
                    }
                    'r' => run_now = true,
                    '?' => screen.say(HELP),
                    'h' => {
                        report_err(super::hint(ctx, target));
                    }
                    't' => {
                        report_err(super::check_test::check_test(ctx, target));
                    }
                    'f' => {
                        screen.say("FILE:LINE of the root cause, then Enter:");
                        awaiting_line = true;
                    }
                    's' => {
                        let code = report_err(super::submit::submit(ctx, target));
                        if code == Some(exit_code::SUCCESS) {
                            return Ok(exit_code::SUCCESS);
                        }
                    }
                    'p' => {
                        let (command, kind) = if located.load()?.state() == State::Paused {
                            ("resume", EventKind::Resume)
                        } else {
                            ("pause", EventKind::Pause)
                        };
                        report_err(super::simple(ctx, target, command, kind));
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A command run from a key: its errors are printed, the session goes on.
fn report_err(r: Result<u8, Failure>) -> Option<u8> {
    match r {
        Ok(code) => Some(code),
        Err(f) => {
            eprintln!("error: {}", crate::terminal::error_chain(&f.error));
            None
        }
    }
}

/// Keys (raw terminal) or lines (anything else) from stdin.
fn spawn_input(tx: mpsc::Sender<Msg>, tty: bool) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        if tty {
            let mut line = String::new();
            let mut in_line = false;
            let mut byte = [0u8; 1];
            while std::io::Read::read(&mut stdin.lock(), &mut byte).unwrap_or(0) == 1 {
                let c = byte[0] as char;
                if in_line {
                    if c == '\r' || c == '\n' {
                        eprint!("\r\n");
                        in_line = false;
                        let _ = tx.send(Msg::Line(std::mem::take(&mut line)));
                    } else {
                        line.push(c);
                        eprint!("{c}");
                    }
                    continue;
                }
                if c == 'f' {
                    in_line = true;
                }
                if tx.send(Msg::Key(c)).is_err() {
                    return;
                }
            }
        } else {
            let mut awaiting = false;
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                let sent = if awaiting {
                    awaiting = false;
                    tx.send(Msg::Line(line))
                } else {
                    match line.trim().chars().next() {
                        Some(c) => {
                            awaiting = c == 'f';
                            tx.send(Msg::Key(c))
                        }
                        None => Ok(()),
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(Msg::InputClosed);
    });
}

/// A path a save may not trigger on: version control, build output, what
/// git ignores in the workspace.
fn ignored(ws: &Workspace, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(ws.root()) else {
        return true;
    };
    rel.components()
        .any(|c| matches!(c, Component::Normal(n) if n == ".git" || n == "target"))
        || ws.is_ignored(rel)
}

/// The content of every file of the engineer's tree (tracked or new, not
/// ignored): what a save changes.
fn tree_fingerprint(ws: &Workspace) -> u64 {
    let mut h = DefaultHasher::new();
    for rel in ws.files().unwrap_or_default() {
        rel.hash(&mut h);
        std::fs::read(ws.root().join(&rel))
            .unwrap_or_default()
            .hash(&mut h);
    }
    h.finish()
}

/// What the session prints: a pinned status line on a terminal, plain
/// lines elsewhere.
struct Screen {
    tty: bool,
    last: String,
}

impl Screen {
    fn say(&mut self, line: &str) {
        self.clear();
        eprintln!("{line}");
    }

    fn clear(&self) {
        if self.tty {
            console::clear_pinned();
        }
    }

    /// The pinned line (a terminal only): timer, state, the last result.
    fn status(&mut self, record: &Record, ctx: &Ctx, doing: &str) {
        if !self.tty {
            if !doing.is_empty() {
                eprintln!("{doing}");
            }
            return;
        }
        let s = record.summary(ctx.clock.now());
        let what = if doing.is_empty() { &self.last } else { doing };
        console::pinned(&format!(
            "[drill] {} active · {} · {} runs · {what} · ? help",
            crate::attempt::human_duration(s.active_ms),
            s.state.as_str(),
            s.test_runs
        ));
    }
}
