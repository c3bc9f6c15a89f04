//! The service under its fakes: [`Env`] starts the fakes with a check's
//! faults, then the service in its own process group with the templated
//! environment, waits for its ready line, collects its output, and kills the
//! whole group when it is dropped or shut down (including on a panic in the
//! harness: the [`GroupChild`] guard's Drop).
//!
//! `Env::start(suite, ..)` is defined in `check.rs`, beside the check runner,
//! so that this module depends on no part of the suite but the service and
//! fake specs it launches.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use super::fake::{CallRecord, FakeServer, FakeSpec, FakeSummary};
use super::faults::{self, FaultRule};
use super::log_line;
use super::loopback;
use super::template;
use crate::process::{self, GroupChild, ProcessError};

/// Lines of service output quoted in a one-line error reason.
const REASON_TAIL: usize = 5;
/// Lines of service output kept in memory per run; older ones are dropped.
const MAX_LOG_LINES: usize = 100_000;
/// Grace between SIGTERM and SIGKILL when an environment is torn down.
const TEARDOWN_GRACE: Duration = Duration::from_millis(1000);

/// `[service]` of a suite: how the service is started and how it says it is ready.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceSpec {
    #[serde(default = "default_startup_ms")]
    pub startup_timeout_ms: u64,
    pub ready: ReadySpec,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Files written into the run directory before the service first starts:
    /// relative path → content (a template, like `env`). A restart keeps
    /// whatever the run directory holds by then.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

fn default_startup_ms() -> u64 {
    10_000
}

/// The ready line: its message and the field holding the service's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadySpec {
    pub msg: String,
    pub addr_field: String,
}

/// Options for one run of a check (or of an interactive environment).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Which repetition this is; part of the fault seed, so repetitions differ
    /// from each other but each one is reproducible.
    pub run_index: u32,
    /// A kit-wide seed mixed into every check's seed.
    pub seed: u64,
    /// Where run directories go; the system temp dir if `None`.
    pub work_root: Option<PathBuf>,
    /// Receives every line the service prints, as it prints it (`drill run`
    /// streams them to the engineer). The check does not wait for the receiver.
    pub log_sink: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// Why an environment could not be started. All of these are `error`
/// outcomes: the service was never judged.
#[derive(Debug, Error)]
pub enum EnvError {
    #[error("service binary {}: {reason}", path.display())]
    Binary { path: PathBuf, reason: String },
    #[error("cannot create a run directory: {0}")]
    RunDir(#[source] io::Error),
    #[error("fake {name:?} cannot bind 127.0.0.1:0: {source}")]
    FakeBind {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("service.env.{key}: {message}")]
    Template { key: String, message: String },
    #[error("service.files.{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Spawn(#[from] ProcessError),
    #[error(
        "the service exited ({status}) before printing its ready line{}",
        fmt_tail(tail)
    )]
    ExitedEarly { status: String, tail: Vec<String> },
    #[error(
        "the service did not print its ready line (msg {msg:?}) within {ms} ms{}",
        fmt_tail(tail)
    )]
    NotReady {
        msg: String,
        ms: u64,
        tail: Vec<String>,
    },
    #[error(
        "the ready line's {field:?} is {value:?}: {why} (set its listen address to 127.0.0.1:0 in service.env){}",
        fmt_tail(tail)
    )]
    BadAddr {
        field: String,
        value: String,
        why: &'static str,
        tail: Vec<String>,
    },
}

impl EnvError {
    /// The service's output quoted by the error, if any.
    pub(crate) fn tail(&self) -> Vec<String> {
        match self {
            EnvError::ExitedEarly { tail, .. }
            | EnvError::NotReady { tail, .. }
            | EnvError::BadAddr { tail, .. } => tail.clone(),
            _ => Vec::new(),
        }
    }
}

fn fmt_tail(tail: &[String]) -> String {
    if tail.is_empty() {
        return "; it printed nothing".to_string();
    }
    let start = tail.len().saturating_sub(REASON_TAIL);
    let lines: Vec<String> = tail[start..].iter().map(|l| clip(l, 200)).collect();
    format!("; last output: {}", lines.join(" | "))
}

/// `s` cut to `max` characters (`…` marks the cut), for one-line messages.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Writes `content` to `rel` below the run directory `root` the way a
/// deploy tool replaces a config file: into a temporary file beside it, then
/// renamed over it, so a reader sees the old content or the new, never half.
/// `rel` must be a plain relative path; nothing is written through a link.
pub(crate) fn write_run_file(root: &Path, rel: &str, content: &str) -> io::Result<()> {
    let dest = crate::confined::Dest::new(root)?;
    let rel = Path::new(rel);
    let Some(name) = rel.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", rel.display()),
        ));
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = rel.with_file_name(tmp_name);
    dest.write(&tmp, content.as_bytes())?;
    let target = dest.resolve(rel)?;
    std::fs::rename(dest.resolve(&tmp)?, target)
}

/// Everything the service printed, shared with the reader tasks.
#[derive(Default)]
struct LogBook {
    lines: VecDeque<String>,
}

/// A running service under its fakes: the building block of checks, and of
/// interactive commands that drive the service by hand.
pub struct Env {
    // Field order is drop order: the service dies before its fakes and its
    // run directory go away.
    child: GroupChild,
    fakes: BTreeMap<String, FakeServer>,
    addr: SocketAddr,
    base_url: String,
    vars: BTreeMap<String, String>,
    logs: Arc<Mutex<LogBook>>,
    log_tx: broadcast::Sender<String>,
    readers: Vec<JoinHandle<()>>,
    exit: Option<ExitStatus>,
    launch: Launch,
    run_dir: tempfile::TempDir,
}

/// How to (re)start the service: kept so a `restart` step starts it exactly
/// as before.
#[derive(Clone)]
struct Launch {
    binary: PathBuf,
    env: Vec<(String, String)>,
    ready: ReadySpec,
    startup_ms: u64,
}

/// A started service: its process, its output readers and its address.
struct Launched {
    child: GroupChild,
    readers: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

impl Env {
    /// Starts every fake in `fakes` with `faults`, then the service at
    /// `binary` as `service` says (with `extra_env` over `service.env`), and
    /// waits for its ready line. `label` seeds the faults (the check name).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn launch(
        service: &ServiceSpec,
        fakes_spec: &BTreeMap<String, FakeSpec>,
        label: &str,
        faults: &[FaultRule],
        extra_env: &BTreeMap<String, String>,
        binary: &Path,
        opts: &RunOptions,
    ) -> Result<Env, EnvError> {
        check_binary(binary)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("drill-run-");
        let run_dir = match &opts.work_root {
            Some(root) => builder.tempdir_in(root),
            None => builder.tempdir(),
        }
        .map_err(EnvError::RunDir)?;

        let seed = faults::check_seed(label, opts.run_index, opts.seed);
        let mut token_state = seed;
        let run_token = format!("{:08x}", faults::splitmix64(&mut token_state) as u32);

        let mut fakes = BTreeMap::new();
        let mut vars = BTreeMap::new();
        vars.insert("run".to_string(), run_token);
        vars.insert("run_dir".to_string(), run_dir.path().display().to_string());
        for (name, spec) in fakes_spec {
            let fake = FakeServer::start(name, spec, faults, seed)
                .await
                .map_err(|source| EnvError::FakeBind {
                    name: name.clone(),
                    source,
                })?;
            vars.insert(format!("fake.{name}.url"), fake.url());
            fakes.insert(name.clone(), fake);
        }

        let mut env = service.env.clone();
        env.extend(extra_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let env = env
            .iter()
            .map(|(key, value)| {
                let value =
                    template::render(value, |n| vars.get(n).cloned()).map_err(|message| {
                        EnvError::Template {
                            key: key.clone(),
                            message,
                        }
                    })?;
                Ok((key.clone(), value))
            })
            .collect::<Result<Vec<_>, EnvError>>()?;
        for (path, content) in &service.files {
            let file_error = |message: String| EnvError::File {
                path: path.clone(),
                message,
            };
            let content =
                template::render(content, |n| vars.get(n).cloned()).map_err(file_error)?;
            write_run_file(run_dir.path(), path, &content)
                .map_err(|e| file_error(e.to_string()))?;
        }
        let launch = Launch {
            binary: binary.to_path_buf(),
            env,
            ready: service.ready.clone(),
            startup_ms: service.startup_timeout_ms,
        };
        let logs = Arc::new(Mutex::new(LogBook::default()));
        let (log_tx, _) = broadcast::channel(1024);
        let launched = launch.start(run_dir.path(), &logs, &log_tx).await?;
        Ok(Env {
            child: launched.child,
            fakes,
            addr: launched.addr,
            base_url: format!("http://{}", launched.addr),
            vars,
            logs,
            log_tx,
            readers: launched.readers,
            exit: None,
            launch,
            run_dir,
        })
    }

    /// Stops the service with `signal` (SIGKILL to its group if it is still
    /// running after 5 s), then starts it again with the same environment and
    /// run directory: what survives is what a crash or a deploy would keep.
    pub async fn restart(&mut self, signal: i32) -> Result<(), EnvError> {
        if self.exit.is_none() {
            let _ = self.child.signal(signal);
            if self
                .wait_exit(Duration::from_secs(5))
                .await
                .ok()
                .flatten()
                .is_none()
            {
                self.exit = self.child.kill().await.ok();
                drain(&mut self.readers).await;
            }
        }
        let launched = self
            .launch
            .start(self.run_dir.path(), &self.logs, &self.log_tx)
            .await?;
        // The old group is dead; the guard's Drop only sweeps it.
        self.child = launched.child;
        self.readers = launched.readers;
        self.addr = launched.addr;
        self.base_url = format!("http://{}", launched.addr);
        self.exit = None;
        Ok(())
    }

    /// Turns `rules` on in the fakes from their next call (selectors count
    /// from there), ahead of the faults they started with.
    pub fn arm_faults(&self, rules: &[FaultRule]) {
        for fake in self.fakes.values() {
            fake.arm(rules);
        }
    }

    /// What starting another build of the service beside the running one
    /// takes: the same environment and run directory, `binary` instead.
    /// Owned, so the start can run while the environment keeps serving.
    pub fn replacement(&self, binary: &Path) -> Replacement {
        let mut launch = self.launch.clone();
        launch.binary = binary.to_path_buf();
        Replacement {
            launch,
            run_dir: self.run_dir.path().to_path_buf(),
            logs: self.logs.clone(),
            log_tx: self.log_tx.clone(),
        }
    }

    /// Makes a started replacement the service (its address and its
    /// environment from now on) and stops the one it replaces (SIGTERM, then
    /// SIGKILL to its group after the teardown grace) in the background: a
    /// deploy's switch. The handle finishes once the old one is stopped.
    pub fn switch_to(&mut self, next: Started) -> JoinHandle<()> {
        let Started(launched, launch) = next;
        let mut old = std::mem::replace(&mut self.child, launched.child);
        let old_readers = std::mem::replace(&mut self.readers, launched.readers);
        self.addr = launched.addr;
        self.base_url = format!("http://{}", launched.addr);
        self.launch = launch;
        let was_running = self.exit.take().is_none();
        tokio::spawn(async move {
            if was_running {
                let _ = old.terminate(TEARDOWN_GRACE).await;
            }
            let mut readers = old_readers;
            drain(&mut readers).await;
        })
    }

    /// The binary the service runs now.
    pub fn binary(&self) -> &Path {
        &self.launch.binary
    }

    /// `http://127.0.0.1:PORT` of the service.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn run_dir(&self) -> &Path {
        self.run_dir.path()
    }

    pub fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// How the service exited, once it has (and [`Env::wait_exit`] saw it).
    pub fn exited(&self) -> Option<ExitStatus> {
        self.exit
    }

    /// The template variables of this run: `run`, `run_dir`, `fake.<name>.url`.
    pub(crate) fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    pub fn fake_names(&self) -> Vec<String> {
        self.fakes.keys().cloned().collect()
    }

    pub fn fake_url(&self, name: &str) -> Option<String> {
        self.fakes.get(name).map(FakeServer::url)
    }

    /// Every call fake `name` received so far, in arrival order.
    pub fn fake_calls(&self, name: &str) -> Option<Vec<CallRecord>> {
        self.fakes.get(name).map(FakeServer::calls)
    }

    pub fn fake_summary(&self, name: &str) -> Option<FakeSummary> {
        self.fakes.get(name).map(FakeServer::summary)
    }

    /// Lines the service prints from now on. A receiver that falls more than
    /// 1024 lines behind loses the oldest; [`Env::log_lines`] has them all.
    pub fn subscribe_logs(&self) -> broadcast::Receiver<String> {
        self.log_tx.subscribe()
    }

    /// Every line printed so far (stdout lines prefixed `[stdout] `).
    pub fn log_lines(&self) -> Vec<String> {
        lock(&self.logs).lines.iter().cloned().collect()
    }

    pub fn log_tail(&self, n: usize) -> Vec<String> {
        let book = lock(&self.logs);
        book.lines
            .iter()
            .skip(book.lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Sends `signal` to the service process.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        self.child.signal(signal)
    }

    /// Waits up to `limit` for the service to exit; once it has, also waits
    /// (bounded) for its last output lines to be read.
    pub async fn wait_exit(&mut self, limit: Duration) -> Result<Option<ExitStatus>, ProcessError> {
        if self.exit.is_none() {
            self.exit = self.child.wait_timeout(limit).await?;
            if self.exit.is_some() {
                drain(&mut self.readers).await;
            }
        }
        Ok(self.exit)
    }

    /// Stops the service (SIGTERM, then SIGKILL to its whole group) and the
    /// fakes, and removes the run directory. Returns how the service exited.
    pub async fn shutdown(mut self) -> Option<ExitStatus> {
        let status = match self.exit {
            Some(s) => Some(s),
            None => self.child.terminate(TEARDOWN_GRACE).await.ok(),
        };
        for r in &self.readers {
            r.abort();
        }
        status
    }
}

/// Another build of a running service, to start beside it ([`Env::replacement`]).
pub struct Replacement {
    launch: Launch,
    run_dir: PathBuf,
    logs: Arc<Mutex<LogBook>>,
    log_tx: broadcast::Sender<String>,
}

/// A replacement that printed its ready line; [`Env::switch_to`] makes it
/// the service. Dropped instead, its process group is killed.
pub struct Started(Launched, Launch);

impl Started {
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }

    pub fn pid(&self) -> i32 {
        self.0.child.pid()
    }

    pub fn binary(&self) -> &Path {
        &self.1.binary
    }
}

impl Replacement {
    /// The same, with environment variable `key` set to `value` (added, or
    /// replacing the value the service runs with).
    pub fn with_env(mut self, key: &str, value: &str) -> Replacement {
        match self.launch.env.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_string(),
            None => self.launch.env.push((key.to_string(), value.to_string())),
        }
        self
    }

    /// Starts it and waits for its ready line (bounded by the suite's startup timeout).
    pub async fn start(self) -> Result<Started, EnvError> {
        check_binary(&self.launch.binary)?;
        let launched = self
            .launch
            .start(&self.run_dir, &self.logs, &self.log_tx)
            .await?;
        Ok(Started(launched, self.launch))
    }
}

impl Launch {
    async fn start(
        &self,
        run_dir: &Path,
        logs: &Arc<Mutex<LogBook>>,
        log_tx: &broadcast::Sender<String>,
    ) -> Result<Launched, EnvError> {
        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.current_dir(run_dir);
        // Only what the suite sets: a variable leaking in from the engineer's
        // shell (a real PROVIDER_URL!) must not change what a check sees.
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("TMPDIR", run_dir);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process::spawn(cmd)?;

        let (ready_tx, ready_rx) = oneshot::channel();
        let mut readers = Vec::new();
        if let Some(stderr) = child.child_mut().stderr.take() {
            let ready = (
                self.ready.msg.clone(),
                self.ready.addr_field.clone(),
                ready_tx,
            );
            readers.push(tokio::spawn(read_lines(
                stderr,
                "",
                logs.clone(),
                log_tx.clone(),
                Some(ready),
            )));
        }
        if let Some(stdout) = child.child_mut().stdout.take() {
            readers.push(tokio::spawn(read_lines(
                stdout,
                "[stdout] ",
                logs.clone(),
                log_tx.clone(),
                None,
            )));
        }

        let startup = Duration::from_millis(self.startup_ms);
        let tail = || lock(logs).lines.iter().cloned().collect::<Vec<_>>();
        let addr_value = tokio::select! {
            r = ready_rx => match r {
                Ok(v) => v,
                // The reader ended without a ready line: stderr closed, so the
                // service is exiting; report how it exited.
                Err(_) => {
                    let status = child.wait_timeout(Duration::from_secs(2)).await.ok().flatten();
                    drain(&mut readers).await;
                    return Err(EnvError::ExitedEarly { status: describe(status), tail: tail() });
                }
            },
            status = child.wait() => {
                drain(&mut readers).await;
                return Err(EnvError::ExitedEarly { status: describe(status.ok()), tail: tail() });
            }
            _ = tokio::time::sleep(startup) => {
                return Err(EnvError::NotReady {
                    msg: self.ready.msg.clone(),
                    ms: self.startup_ms,
                    tail: tail(),
                });
            }
        };
        let addr = loopback::ready_addr(&addr_value).map_err(|why| EnvError::BadAddr {
            field: self.ready.addr_field.clone(),
            value: addr_value.clone(),
            why,
            tail: tail(),
        })?;
        Ok(Launched {
            child,
            readers,
            addr,
        })
    }
}

fn lock(logs: &Mutex<LogBook>) -> std::sync::MutexGuard<'_, LogBook> {
    logs.lock().unwrap_or_else(|p| p.into_inner())
}

async fn drain(readers: &mut [JoinHandle<()>]) {
    // Normally immediate (the pipes closed with the process); a grandchild
    // holding them open must not stall the check.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    for r in readers.iter_mut() {
        let _ = tokio::time::timeout_at(deadline, r).await;
    }
}

async fn read_lines<R: tokio::io::AsyncRead + Unpin>(
    stream: R,
    prefix: &'static str,
    logs: Arc<Mutex<LogBook>>,
    tx: broadcast::Sender<String>,
    mut ready: Option<(String, String, oneshot::Sender<String>)>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some((msg, field, _)) = &ready {
            if let Some(addr) = ready_addr(&line, msg, field) {
                if let Some((_, _, sender)) = ready.take() {
                    let _ = sender.send(addr);
                }
            }
        }
        let line = format!("{prefix}{line}");
        {
            let mut book = lock(&logs);
            if book.lines.len() == MAX_LOG_LINES {
                book.lines.pop_front();
            }
            book.lines.push_back(line.clone());
        }
        let _ = tx.send(line);
    }
}

/// The address in `line` if it is the ready line.
fn ready_addr(line: &str, msg: &str, field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if log_line::message(&v)? != msg {
        return None;
    }
    log_line::field(&v, field)?.as_str().map(str::to_string)
}

/// How a process exited, for messages: `exit code 2`, `killed by signal 9`.
pub(crate) fn describe(status: Option<ExitStatus>) -> String {
    match status {
        None => "status unknown".to_string(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "status unknown".to_string(),
        },
    }
}

fn check_binary(path: &Path) -> Result<(), EnvError> {
    let bad = |reason: &str| EnvError::Binary {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => bad("does not exist (did the build run?)"),
        _ => bad(&e.to_string()),
    })?;
    if !meta.is_file() {
        return Err(bad("is not a file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(bad("is not executable"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_are_recognised_in_slog_and_tracing_shapes() {
        let line = r#"{"time":"t","level":"INFO","msg":"listening","addr":"127.0.0.1:4100"}"#;
        assert_eq!(
            ready_addr(line, "listening", "addr").as_deref(),
            Some("127.0.0.1:4100")
        );
        assert_eq!(ready_addr(line, "ready", "addr"), None);
        let tracing = r#"{"timestamp":"t","level":"INFO","fields":{"message":"listening","addr":"127.0.0.1:4100"},"target":"ledger"}"#;
        assert_eq!(
            ready_addr(tracing, "listening", "addr").as_deref(),
            Some("127.0.0.1:4100")
        );
        let flat =
            r#"{"timestamp":"t","level":"INFO","message":"listening","addr":"127.0.0.1:4100"}"#;
        assert_eq!(
            ready_addr(flat, "listening", "addr").as_deref(),
            Some("127.0.0.1:4100")
        );
        assert_eq!(ready_addr("not json", "listening", "addr"), None);
    }
}
