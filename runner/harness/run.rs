//! Running the service under fakes ([`Env`]) and judging checks against it.
//!
//! One check = a fresh run directory, fresh fakes with the check's faults, a
//! fresh service process in its own process group, then the steps in order.
//! Every wait is bounded: the startup by `startup_timeout_ms`, each step by its
//! `within_ms` (default 5000 ms) and the whole check by its `timeout_ms`
//! (default 30 s). The process group is killed at the end whatever happens,
//! including a panic in the harness (the [`GroupChild`] guard's Drop).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{broadcast, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::client::{self, ClientError, Response};
use super::fake::{CallRecord, FakeServer, FakeSummary};
use super::faults::{self, FaultRule};
use super::hmac;
use super::suite::{
    self, Check, FakeCallsStep, LogStep, MetricStep, ProcessStep, ReadySpec, RequestStep,
    SignalStep, Step, Suite,
};
use super::template;
use crate::process::{self, GroupChild, ProcessError};

/// Lines of service output kept in a [`CheckResult`].
const RESULT_TAIL: usize = 40;
/// Lines of service output quoted in a one-line error reason.
const REASON_TAIL: usize = 5;
/// Lines of service output kept in memory per run; older ones are dropped.
const MAX_LOG_LINES: usize = 100_000;
/// Grace between SIGTERM and SIGKILL when an environment is torn down.
const TEARDOWN_GRACE: Duration = Duration::from_millis(1000);

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// The service misbehaved.
    Fail {
        reason: String,
    },
    /// The harness could not judge (never a pass, never a reproduction).
    Error {
        reason: String,
    },
}

impl Outcome {
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail { .. })
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Pass => None,
            Outcome::Fail { reason } | Outcome::Error { reason } => Some(reason),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    /// The last lines the service printed (stderr, and stdout prefixed).
    pub log_tail: Vec<String>,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
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
        "the ready line's {field:?} is {value:?}, not a loopback address{}",
        fmt_tail(tail)
    )]
    BadAddr {
        field: String,
        value: String,
        tail: Vec<String>,
    },
}

impl EnvError {
    fn tail(&self) -> Vec<String> {
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

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
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
    /// Starts every fake of `suite` with `faults`, then the service at
    /// `binary` with `service.env`, and waits for its ready line.
    pub async fn start(
        suite: &Suite,
        faults: &[FaultRule],
        binary: &Path,
        opts: &RunOptions,
    ) -> Result<Env, EnvError> {
        Env::start_with(suite, "env", faults, &BTreeMap::new(), binary, opts).await
    }

    /// `label` seeds the faults (the check name, for checks); `extra_env`
    /// overrides `service.env`.
    async fn start_with(
        suite: &Suite,
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
        for (name, spec) in &suite.fakes {
            let fake = FakeServer::start(name, spec, faults, seed)
                .await
                .map_err(|source| EnvError::FakeBind {
                    name: name.clone(),
                    source,
                })?;
            vars.insert(format!("fake.{name}.url"), fake.url());
            fakes.insert(name.clone(), fake);
        }

        let mut env = suite.service.env.clone();
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
        let launch = Launch {
            binary: binary.to_path_buf(),
            env,
            ready: suite.service.ready.clone(),
            startup_ms: suite.service.startup_timeout_ms,
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
        let addr = loopback_addr(&addr_value).ok_or_else(|| EnvError::BadAddr {
            field: self.ready.addr_field.clone(),
            value: addr_value.clone(),
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
    if v.get("msg")?.as_str()? != msg {
        return None;
    }
    v.get(field)?.as_str().map(str::to_string)
}

/// The loopback address to reach a service that says it listens on `value`
/// (`127.0.0.1:41234`, `[::]:41234`, `0.0.0.0:41234`, `:41234`, `localhost:41234`).
fn loopback_addr(value: &str) -> Option<SocketAddr> {
    let value = value.trim().trim_start_matches("http://");
    let local = |port: &str| {
        port.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
    };
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return if addr.ip().is_unspecified() {
            local(&addr.port().to_string())
        } else if addr.ip().is_loopback() {
            Some(addr)
        } else {
            None
        };
    }
    let (host, port) = value.rsplit_once(':')?;
    matches!(host, "" | "localhost")
        .then(|| local(port))
        .flatten()
}

fn describe(status: Option<ExitStatus>) -> String {
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

/// Runs one check of `suite` against the service at `binary`.
pub async fn run_check(suite: &Suite, name: &str, binary: &Path, opts: &RunOptions) -> CheckResult {
    let start = Instant::now();
    if !suite.has_check(name) {
        return CheckResult {
            name: name.to_string(),
            outcome: Outcome::Error {
                reason: format!("no check named {name:?} in {}", suite.path().display()),
            },
            duration: start.elapsed(),
            log_tail: Vec::new(),
        };
    }
    // In a task of its own, so that a panic in the harness becomes an `error`
    // outcome (and the Env's guards kill the service while unwinding).
    let task = tokio::spawn(judge(
        suite.clone(),
        name.to_string(),
        binary.to_path_buf(),
        opts.clone(),
    ));
    let (outcome, log_tail) = match task.await {
        Ok(r) => r,
        Err(e) => (
            Outcome::Error {
                reason: format!("the harness itself failed: {e}"),
            },
            Vec::new(),
        ),
    };
    CheckResult {
        name: name.to_string(),
        outcome,
        duration: start.elapsed(),
        log_tail,
    }
}

/// Runs the named checks (all if `None`) one after the other, in suite order.
/// A name the suite does not have yields an `error` result at the end.
pub async fn run_suite(
    suite: &Suite,
    names: Option<&[String]>,
    binary: &Path,
    opts: &RunOptions,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in &suite.checks {
        if names.is_none_or(|n| n.contains(&check.name)) {
            results.push(run_check(suite, &check.name, binary, opts).await);
        }
    }
    for unknown in names
        .unwrap_or_default()
        .iter()
        .filter(|n| !suite.has_check(n))
    {
        results.push(run_check(suite, unknown, binary, opts).await);
    }
    results
}

async fn judge(
    suite: Suite,
    name: String,
    binary: PathBuf,
    opts: RunOptions,
) -> (Outcome, Vec<String>) {
    let Some(check) = suite.check(&name) else {
        return (
            Outcome::Error {
                reason: format!("no check named {name:?}"),
            },
            Vec::new(),
        );
    };
    let started = tokio::time::timeout(
        check.timeout,
        Env::start_with(
            &suite,
            &check.name,
            &check.faults,
            &check.env,
            &binary,
            &opts,
        ),
    )
    .await;
    let mut env = match started {
        Ok(Ok(env)) => env,
        Ok(Err(e)) => {
            let tail = e.tail();
            return (
                Outcome::Error {
                    reason: e.to_string(),
                },
                tail,
            );
        }
        Err(_) => {
            return (
                Outcome::Error {
                    reason: format!(
                        "the service did not start within the check's {} ms limit",
                        check.timeout.as_millis()
                    ),
                },
                Vec::new(),
            )
        }
    };
    if let Some(sink) = opts.log_sink.clone() {
        // Subscribe before copying what was printed so far, so no line falls
        // between the two (a line may at worst appear twice).
        let mut rx = env.subscribe_logs();
        for line in env.log_lines() {
            let _ = sink.send(line);
        }
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(line) => {
                        if sink.send(line).is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let _ = sink.send(format!("[drill: {n} log line(s) skipped]"));
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
    let current = Arc::new(Mutex::new(String::from("startup")));
    let outcome =
        match tokio::time::timeout(check.timeout, run_steps(&mut env, check, &current)).await {
            Ok(Ok(())) => Outcome::Pass,
            Ok(Err(reason)) => Outcome::Fail { reason },
            Err(_) => Outcome::Error {
                reason: format!(
                    "the check did not finish within its {} ms limit (during {})",
                    check.timeout.as_millis(),
                    current.lock().map(|s| s.clone()).unwrap_or_default()
                ),
            },
        };
    let tail = env.log_tail(RESULT_TAIL);
    env.shutdown().await;
    (outcome, tail)
}

/// Runs the steps; `Err` is the one-line failure reason.
async fn run_steps(env: &mut Env, check: &Check, current: &Mutex<String>) -> Result<(), String> {
    let mut vars = env.vars.clone();
    for (i, step) in check.steps.iter().enumerate() {
        let n = i + 1;
        let desc = match step {
            Step::Request(r) => {
                let path = template::render(&r.path, |k| vars.get(k).cloned())
                    .unwrap_or_else(|_| r.path.clone());
                let times = if r.total() > 1 {
                    format!(" ×{}", r.total())
                } else {
                    String::new()
                };
                format!("step {n} ({} {path}{times})", r.method)
            }
            Step::FakeCalls(f) => {
                let filter: Vec<&str> = [f.method.as_deref(), f.path.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                if filter.is_empty() {
                    format!("step {n} (fake_calls {})", f.fake)
                } else {
                    format!("step {n} (fake_calls {} {})", f.fake, filter.join(" "))
                }
            }
            Step::Sleep(s) => format!("step {n} (sleep {} ms)", s.ms),
            Step::Signal(s) => format!("step {n} (signal {})", s.signal),
            Step::Log(l) => format!("step {n} (log {:?})", l.expect_msg),
            Step::Metric(m) => format!("step {n} (metric {})", m.name),
            Step::Process(_) => format!("step {n} (process)"),
            Step::Restart(r) => format!("step {n} (restart after {})", r.signal),
        };
        if let Ok(mut c) = current.lock() {
            c.clone_from(&desc);
        }
        let result = match step {
            Step::Request(r) => request_step(env, r, &mut vars).await,
            Step::FakeCalls(f) => fake_calls_step(env, f).await,
            Step::Sleep(s) => {
                tokio::time::sleep(Duration::from_millis(s.ms)).await;
                Ok(())
            }
            Step::Signal(s) => signal_step(env, s).await,
            Step::Log(l) => log_step(env, l, &vars).await,
            Step::Metric(m) => metric_step(env, m).await,
            Step::Process(p) => process_step(env, p),
            Step::Restart(r) => {
                let sig = suite::signal_number(&r.signal).unwrap_or(libc::SIGKILL);
                env.restart(sig).await.map_err(|e| e.to_string())
            }
        };
        result.map_err(|why| format!("{desc}: {why}"))?;
    }
    Ok(())
}

/// One prepared request of a step.
struct Prepared {
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

fn prepare(r: &RequestStep, i: usize, vars: &BTreeMap<String, String>) -> Result<Prepared, String> {
    let lookup = |k: &str| {
        if k == "i" {
            Some(i.to_string())
        } else {
            vars.get(k).cloned()
        }
    };
    let path = template::render(&r.path, lookup)?;
    let mut headers = r
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), template::render(v, lookup)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let body: Option<Vec<u8>> = match (&r.body, r.body_bytes) {
        (Some(b), _) => Some(template::render(b, lookup)?.into_bytes()),
        (None, Some(n)) => Some(generated_body(n)),
        (None, None) => None,
    };
    if let Some(sign) = &r.sign {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let timestamp = (now + sign.timestamp_offset_s).to_string();
        let body_text = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned();
        let payload = template::render(&sign.payload, |k| match k {
            "timestamp" => Some(timestamp.clone()),
            "body" => Some(body_text.clone()),
            _ => lookup(k),
        })?;
        let secret = template::render(&sign.secret, lookup)?;
        let mac = hmac::hex(&hmac::hmac_sha256(secret.as_bytes(), payload.as_bytes()));
        let value = template::render(&sign.value, |k| match k {
            "timestamp" => Some(timestamp.clone()),
            "hmac" => Some(mac.clone()),
            _ => lookup(k),
        })?;
        headers.push((sign.header.clone(), value));
    }
    Ok(Prepared {
        path,
        headers,
        body,
    })
}

/// `n` bytes of printable filler: deterministic, and valid in any text field.
pub(crate) fn generated_body(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

async fn request_step(
    env: &Env,
    r: &RequestStep,
    vars: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let limit_ms = r.within_ms.unwrap_or(suite::DEFAULT_STEP_LIMIT_MS);
    let limit = Duration::from_millis(limit_ms);
    let n = r.total() as usize;
    let gate = Arc::new(tokio::sync::Semaphore::new(r.concurrency as usize));
    let mut set = JoinSet::new();
    for i in 0..n {
        let p = prepare(r, i, vars)?;
        let (addr, method, gate) = (env.addr, r.method.clone(), gate.clone());
        set.spawn(async move {
            // The permit bounds how many are in flight; `within_ms` counts
            // from the moment this request is actually sent.
            let _permit = gate.acquire_owned().await;
            let call = client::send(addr, &method, &p.path, &p.headers, p.body.as_deref());
            (i, tokio::time::timeout(limit, call).await)
        });
    }
    let mut results: Vec<Option<Result<Response, String>>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| format!("request task failed: {e}"))?;
        results[i] = Some(match r {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(client_error(&e)),
            Err(_) => Err(format!("no response within {limit_ms} ms")),
        });
    }

    let lookup = |k: &str| vars.get(k).cloned();
    let expect = Expect {
        statuses: &r.expect_status,
        json: r
            .expect_json
            .iter()
            .map(|(p, v)| Ok((p.clone(), toml_to_json(v, &lookup)?)))
            .collect::<Result<_, String>>()?,
        headers: r
            .expect_header
            .iter()
            .map(|(k, v)| Ok((k.clone(), template::render(v, lookup)?)))
            .collect::<Result<_, String>>()?,
        contains: r
            .expect_body_contains
            .as_deref()
            .map(|s| template::render(s, lookup))
            .transpose()?,
        body_bytes: r.expect_body_bytes,
    };

    // Group failures by their message so twenty identical 502s read as one line.
    let mut groups: Vec<(String, usize, Option<String>)> = Vec::new();
    for result in results.iter().flatten() {
        let problem = match result {
            Err(e) => Some((e.clone(), None)),
            Ok(resp) => expect.judge(resp),
        };
        if let Some((msg, detail)) = problem {
            match groups.iter_mut().find(|g| g.0 == msg) {
                Some(g) => g.1 += 1,
                None => groups.push((msg, 1, detail)),
            }
        }
    }
    if !groups.is_empty() {
        let parts: Vec<String> = groups
            .iter()
            .take(3)
            .map(|(msg, count, detail)| {
                let of = if n > 1 {
                    format!(" on {count} of {n} requests")
                } else {
                    String::new()
                };
                let detail = detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                format!("{msg}{of}{detail}")
            })
            .collect();
        return Err(parts.join("; "));
    }

    if let Some(Some(Ok(first))) = results.first() {
        for (name, ptr) in &r.save {
            let value = first
                .json()
                .and_then(|j| j.pointer(ptr).cloned())
                .ok_or_else(|| format!("cannot save {name}: the response has no {ptr}"))?;
            let text = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            vars.insert(name.clone(), text);
        }
    }
    Ok(())
}

/// A request step's expectations, rendered.
struct Expect<'a> {
    statuses: &'a [u16],
    json: Vec<(String, serde_json::Value)>,
    headers: Vec<(String, String)>,
    contains: Option<String>,
    body_bytes: Option<usize>,
}

impl Expect<'_> {
    /// The first unmet expectation of one response: (message shared by equal
    /// failures, detail quoted once).
    fn judge(&self, resp: &Response) -> Option<(String, Option<String>)> {
        let body_snippet = || format!("body: {}", clip(resp.text().trim(), 120));
        if !self.statuses.is_empty() && !self.statuses.contains(&resp.status) {
            let want: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
            return Some((
                format!("expected status {}, got {}", want.join(" or "), resp.status),
                Some(body_snippet()),
            ));
        }
        if !self.json.is_empty() {
            let Some(actual) = resp.json() else {
                return Some(("expected a JSON body".to_string(), Some(body_snippet())));
            };
            for (ptr, want) in &self.json {
                match actual.pointer(ptr) {
                    None => {
                        return Some((
                            format!("expected {ptr} = {want}, got nothing"),
                            Some(body_snippet()),
                        ))
                    }
                    Some(got) if !json_eq(want, got) => {
                        return Some((format!("expected {ptr} = {want}, got {got}"), None));
                    }
                    Some(_) => {}
                }
            }
        }
        for (name, want) in &self.headers {
            match resp.header(name) {
                None => return Some((format!("expected header {name}: {want}, got none"), None)),
                Some(got) if got != want => {
                    return Some((format!("expected header {name}: {want}, got {got:?}"), None))
                }
                Some(_) => {}
            }
        }
        if let Some(s) = &self.contains {
            if !resp.text().contains(s.as_str()) {
                return Some((
                    format!("expected the body to contain {s:?}"),
                    Some(body_snippet()),
                ));
            }
        }
        if let Some(want) = self.body_bytes {
            if resp.body.len() != want {
                return Some((
                    format!("expected a body of {want} bytes, got {}", resp.body.len()),
                    None,
                ));
            }
        }
        None
    }
}

fn client_error(e: &ClientError) -> String {
    match e {
        ClientError::Reset => "connection reset by the service".to_string(),
        ClientError::Connect { source, .. } => format!("cannot connect to the service: {source}"),
        other => format!("bad response: {other}"),
    }
}

async fn fake_calls_step(env: &Env, f: &FakeCallsStep) -> Result<(), String> {
    let deadline = f
        .within_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    loop {
        let calls = env
            .fake_calls(&f.fake)
            .ok_or_else(|| format!("no fake named {:?}", f.fake))?;
        match judge_calls(&calls, f) {
            Ok(()) => return Ok(()),
            // Polling is fine: the records are in memory and the wait is short.
            Err(why) => match deadline {
                Some(d) if Instant::now() < d => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Some(_) => return Err(format!("{why} after {} ms", f.within_ms.unwrap_or(0))),
                None => return Err(why),
            },
        }
    }
}

fn judge_calls(calls: &[CallRecord], f: &FakeCallsStep) -> Result<(), String> {
    let calls: Vec<&CallRecord> = calls
        .iter()
        .filter(|c| f.method.as_ref().is_none_or(|m| &c.method == m))
        .filter(|c| {
            f.path
                .as_ref()
                .is_none_or(|p| c.path.split('?').next() == Some(p.as_str()))
        })
        .collect();
    let key_of = |c: &CallRecord| -> String {
        let key = match &f.key_json {
            Some(ptr) => serde_json::from_str::<serde_json::Value>(&c.body)
                .ok()
                .and_then(|j| j.pointer(ptr).cloned())
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                }),
            None => c.key.clone(),
        };
        key.unwrap_or_else(|| "(no key)".to_string())
    };
    let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.effect.is_some()) {
        *by_key.entry(key_of(c)).or_default() += 1;
    }
    let effects: u64 = by_key.values().sum();
    let keys_note = || {
        let mut list: Vec<String> = by_key
            .iter()
            .take(5)
            .map(|(k, n)| format!("{}×{n}", clip(k, 40)))
            .collect();
        if by_key.len() > 5 {
            list.push(format!("… {} more", by_key.len() - 5));
        }
        if list.is_empty() {
            String::new()
        } else {
            format!(" (keys: {})", list.join(", "))
        }
    };
    let got = calls.len() as u64;
    let calls_note = || {
        let faulted = calls.iter().filter(|c| c.fault.is_some()).count();
        format!("({faulted} faulted, {effects} with an effect)")
    };

    if let Some(want) = f.expect_calls {
        if got != want {
            return Err(format!(
                "expected {}, got {got} {}",
                plural(want, "call"),
                calls_note()
            ));
        }
    }
    if let Some(want) = f.expect_min_calls {
        if got < want {
            return Err(format!(
                "expected at least {}, got {got} {}",
                plural(want, "call"),
                calls_note()
            ));
        }
    }
    if let Some(max) = f.expect_max_calls {
        if got > max {
            return Err(format!(
                "expected at most {}, got {got} {}",
                plural(max, "call"),
                calls_note()
            ));
        }
    }
    if let Some(want) = f.expect_effects {
        if effects != want {
            return Err(format!(
                "expected {}, got {effects}{}",
                plural(want, "effect"),
                keys_note()
            ));
        }
    }
    if let Some(max) = f.max_effects_per_key {
        let over: Vec<String> = by_key
            .iter()
            .filter(|(_, n)| **n > max)
            .take(3)
            .map(|(k, n)| format!("{}×{n}", clip(k, 40)))
            .collect();
        if !over.is_empty() {
            return Err(format!(
                "expected at most {} per key, got {}",
                plural(max, "effect"),
                over.join(", ")
            ));
        }
    }
    Ok(())
}

async fn metric_step(env: &Env, m: &MetricStep) -> Result<(), String> {
    let limit_ms = m.within_ms.unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(limit_ms);
    loop {
        let remaining =
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(
                    suite::DEFAULT_STEP_LIMIT_MS.min(1000),
                ));
        let call = client::send(env.addr, "GET", &m.path, &[], None);
        let why = match tokio::time::timeout(remaining, call).await {
            Err(_) => format!("GET {}: no response", m.path),
            Ok(Err(e)) => format!("GET {}: {}", m.path, client_error(&e)),
            Ok(Ok(resp)) if resp.status != 200 => format!("GET {}: status {}", m.path, resp.status),
            Ok(Ok(resp)) => match metric_value(&resp.text(), &m.name) {
                None => format!("no series {} in {}", m.name, m.path),
                Some(v) => match judge_metric(v, m) {
                    None => return Ok(()),
                    Some(why) => why,
                },
            },
        };
        if Instant::now() >= deadline {
            return Err(if limit_ms > 0 {
                format!("{why} after {limit_ms} ms")
            } else {
                why
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn judge_metric(v: f64, m: &MetricStep) -> Option<String> {
    if let Some(want) = m.expect {
        if v != want {
            return Some(format!("expected {want}, got {v}"));
        }
    }
    if let Some(min) = m.expect_min {
        if v < min {
            return Some(format!("expected at least {min}, got {v}"));
        }
    }
    if let Some(max) = m.expect_max {
        if v > max {
            return Some(format!("expected at most {max}, got {v}"));
        }
    }
    None
}

/// The value of the series printed exactly as `name` (labels included) in
/// Prometheus text format.
fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| match v {
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            v => v.parse().ok(),
        })
}

fn process_step(env: &Env, p: &ProcessStep) -> Result<(), String> {
    let pid = env.pid();
    let memory = |field: &str, what: &str, max: u64| -> Result<(), String> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
        let mb = kb / 1024;
        if mb > max {
            return Err(format!("expected {what} of at most {max} MB, got {mb} MB"));
        }
        Ok(())
    };
    if let Some(max) = p.expect_rss_max_mb {
        memory("VmRSS:", "an RSS", max)?;
    }
    if let Some(max) = p.expect_peak_rss_max_mb {
        memory("VmHWM:", "a peak RSS", max)?;
    }
    if let Some(max) = p.expect_fds_max {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map_err(|e| format!("cannot read /proc/{pid}/fd: {e}"))?
            .count() as u64;
        if fds > max {
            return Err(format!(
                "expected at most {max} open file descriptors, got {fds}"
            ));
        }
    }
    Ok(())
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

async fn signal_step(env: &mut Env, s: &SignalStep) -> Result<(), String> {
    let sig =
        suite::signal_number(&s.signal).ok_or_else(|| format!("unknown signal {:?}", s.signal))?;
    if let Some(status) = env.exit {
        return Err(format!(
            "the service had already exited ({})",
            describe(Some(status))
        ));
    }
    env.signal(sig)
        .map_err(|e| format!("cannot signal the service: {e}"))?;
    let status = env
        .wait_exit(Duration::from_millis(s.expect_exit_within_ms))
        .await
        .map_err(|e| e.to_string())?;
    let Some(status) = status else {
        return Err(format!(
            "the service did not exit within {} ms after SIG{}",
            s.expect_exit_within_ms, s.signal
        ));
    };
    if let Some(want) = s.expect_exit_code {
        if status.code() != Some(want) {
            return Err(format!(
                "expected exit code {want}, the service exited with {}",
                describe(Some(status))
            ));
        }
    }
    Ok(())
}

async fn log_step(env: &Env, l: &LogStep, vars: &BTreeMap<String, String>) -> Result<(), String> {
    let lookup = |k: &str| vars.get(k).cloned();
    let fields: Vec<(String, serde_json::Value)> = l
        .expect_fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), toml_to_json(v, &lookup)?)))
        .collect::<Result<_, String>>()?;
    let deadline = Instant::now() + Duration::from_millis(l.within_ms);
    loop {
        let mut near_miss = None;
        for line in env.log_lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v.get("msg").and_then(|m| m.as_str()) != Some(l.expect_msg.as_str()) {
                continue;
            }
            if fields
                .iter()
                .all(|(k, want)| v.get(k).is_some_and(|got| json_eq(want, got)))
            {
                return Ok(());
            }
            near_miss.get_or_insert(line);
        }
        // Polling is fine here: the log is in memory and the wait is short.
        if Instant::now() >= deadline || env.exit.is_some() {
            return Err(match near_miss {
                Some(line) => format!(
                    "a {:?} line was printed but with other fields: {}",
                    l.expect_msg,
                    clip(&line, 200)
                ),
                None => format!(
                    "no log line with msg {:?} within {} ms",
                    l.expect_msg, l.within_ms
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn toml_to_json(
    v: &toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<serde_json::Value, String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::Value::String(template::render(s, lookup)?),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(
            a.iter()
                .map(|v| toml_to_json(v, lookup))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v, lookup)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// JSON equality where 2000 and 2000.0 are the same number.
fn json_eq(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (want, got) {
        (V::Number(a), V::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        (V::Array(a), V::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
        }
        (V::Object(a), V::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| json_eq(x, y)))
        }
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(service_env: &str, startup_ms: u64) -> Suite {
        let text = format!(
            r#"
format_version = 1
[service]
startup_timeout_ms = {startup_ms}
ready = {{ msg = "listening", addr_field = "addr" }}
[service.env]
{service_env}
[fakes.provider]
[[checks]]
name = "only"
[[checks.steps]]
do = "sleep"
ms = 1
"#
        );
        Suite::parse(&text, Path::new("test.toml")).unwrap()
    }

    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("svc.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn reason(r: &CheckResult) -> &str {
        match &r.outcome {
            Outcome::Error { reason } => reason,
            other => panic!("expected an error outcome, got {other:?}"),
        }
    }

    #[test]
    fn ready_lines_and_addresses_are_recognised() {
        let line = r#"{"time":"t","level":"INFO","msg":"listening","addr":"127.0.0.1:4100"}"#;
        assert_eq!(
            ready_addr(line, "listening", "addr").as_deref(),
            Some("127.0.0.1:4100")
        );
        assert_eq!(ready_addr(line, "ready", "addr"), None);
        assert_eq!(ready_addr("not json", "listening", "addr"), None);
        let lo: SocketAddr = "127.0.0.1:4100".parse().unwrap();
        for v in [
            "127.0.0.1:4100",
            "0.0.0.0:4100",
            "[::]:4100",
            ":4100",
            "localhost:4100",
            "http://127.0.0.1:4100",
        ] {
            assert_eq!(loopback_addr(v), Some(lo), "{v}");
        }
        assert_eq!(loopback_addr("10.1.2.3:4100"), None);
        assert_eq!(loopback_addr("nonsense"), None);
    }

    #[test]
    fn metric_values_are_read_by_exact_series() {
        let text = "# TYPE a counter\na 3\na_total 9\nreq{route=\"/x\",status=\"201\"} 4 1700000000\ng +Inf\n";
        assert_eq!(metric_value(text, "a"), Some(3.0));
        assert_eq!(metric_value(text, "a_total"), Some(9.0));
        assert_eq!(
            metric_value(text, r#"req{route="/x",status="201"}"#),
            Some(4.0)
        );
        assert_eq!(metric_value(text, "g"), Some(f64::INFINITY));
        assert_eq!(metric_value(text, "missing"), None);
    }

    #[test]
    fn signed_requests_carry_an_hmac_of_the_rendered_payload() {
        let step: Step = toml::from_str::<toml::Value>(
            r#"
do = "request"
method = "POST"
path = "/hook/{i}"
body = '{"n":{i}}'
sign = { header = "X-Sig", secret = "s3cret", payload = "{timestamp}.{body}", value = "t={timestamp},v1={hmac}", timestamp_offset_s = -600 }
"#,
        )
        .unwrap()
        .try_into()
        .unwrap();
        let Step::Request(r) = step else { panic!() };
        let p = prepare(&r, 2, &BTreeMap::new()).unwrap();
        assert_eq!(p.path, "/hook/2");
        assert_eq!(p.body.as_deref(), Some(&b"{\"n\":2}"[..]));
        let (name, value) = p.headers.last().unwrap();
        assert_eq!(name, "X-Sig");
        let (t, v1) = value
            .strip_prefix("t=")
            .unwrap()
            .split_once(",v1=")
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((now - 600 - t.parse::<i64>().unwrap()).abs() <= 2);
        let want = hmac::hex(&hmac::hmac_sha256(
            b"s3cret",
            format!("{t}.{{\"n\":2}}").as_bytes(),
        ));
        assert_eq!(v1, want);
    }

    #[test]
    fn expectations_report_the_first_unmet_one() {
        let resp = Response {
            status: 201,
            headers: vec![("Idempotent-Replayed".into(), "true".into())],
            body: br#"{"id":"ch_1","balance_cents":1900}"#.to_vec(),
        };
        let mut e = Expect {
            statuses: &[201],
            json: vec![("/balance_cents".into(), serde_json::json!(2000))],
            headers: vec![],
            contains: None,
            body_bytes: None,
        };
        assert_eq!(
            e.judge(&resp).unwrap().0,
            "expected /balance_cents = 2000, got 1900"
        );
        e.json.clear();
        e.body_bytes = Some(3);
        assert_eq!(
            e.judge(&resp).unwrap().0,
            "expected a body of 3 bytes, got 34"
        );
        e.body_bytes = None;
        e.statuses = &[200, 202];
        assert_eq!(
            e.judge(&resp).unwrap().0,
            "expected status 200 or 202, got 201"
        );
        e.statuses = &[];
        e.headers = vec![("Idempotent-Replayed".into(), "false".into())];
        assert_eq!(
            e.judge(&resp).unwrap().0,
            "expected header Idempotent-Replayed: false, got \"true\""
        );
    }

    #[test]
    fn json_numbers_compare_by_value() {
        use serde_json::json;
        assert!(json_eq(&json!(2000), &json!(2000.0)));
        assert!(json_eq(&json!({"a":[1,"x"]}), &json!({"a":[1.0,"x"]})));
        assert!(!json_eq(&json!(1), &json!("1")));
    }

    #[test]
    fn outcomes_serialize_with_a_lowercase_tag() {
        let r = CheckResult {
            name: "c".into(),
            outcome: Outcome::Fail {
                reason: "why".into(),
            },
            duration: Duration::from_millis(12),
            log_tail: vec![],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["outcome"], "fail");
        assert_eq!(v["reason"], "why");
        assert_eq!(v["duration_ms"], 12);
        assert_eq!(
            serde_json::to_value(Outcome::Pass).unwrap()["outcome"],
            "pass"
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_an_error_not_a_failure() {
        let s = suite("", 1000);
        let r = run_check(
            &s,
            "only",
            Path::new("/nonexistent/ledger"),
            &RunOptions::default(),
        )
        .await;
        assert!(reason(&r).contains("does not exist"), "{r:?}");
    }

    #[tokio::test]
    async fn a_service_exiting_at_startup_is_an_error_quoting_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(
            dir.path(),
            r#"echo '{"level":"ERROR","msg":"invalid configuration","error":"PROVIDER_URL is required"}' >&2; exit 2"#,
        );
        let r = run_check(&suite("", 5000), "only", &bin, &RunOptions::default()).await;
        let why = reason(&r);
        assert!(why.contains("exited (exit code 2)"), "{why}");
        assert!(why.contains("PROVIDER_URL is required"), "{why}");
        assert_eq!(r.log_tail.len(), 1);
    }

    #[tokio::test]
    async fn a_service_that_never_gets_ready_is_an_error_after_the_startup_limit() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(dir.path(), "echo booting >&2; exec sleep 30");
        let t = Instant::now();
        let r = run_check(&suite("", 300), "only", &bin, &RunOptions::default()).await;
        assert!(
            reason(&r).contains("within 300 ms; last output: booting"),
            "{r:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn env_templates_reach_the_service_and_nothing_else_leaks_in() {
        let dir = tempfile::tempdir().unwrap();
        // Prints the ready line with an address, then echoes its environment.
        let bin = script(
            dir.path(),
            r#"echo "{\"msg\":\"listening\",\"addr\":\"127.0.0.1:9\"}" >&2
echo "P=$PROVIDER_URL D=$DB_PATH H=${HOME:-unset}" >&2
exec sleep 30"#,
        );
        let s = suite(
            r#"PROVIDER_URL = "{fake.provider.url}/v1"
DB_PATH = "{run_dir}/x.db""#,
            5000,
        );
        let mut env = Env::start(&s, &[], &bin, &RunOptions::default())
            .await
            .unwrap();
        assert_eq!(env.base_url(), "http://127.0.0.1:9");
        let deadline = Instant::now() + Duration::from_secs(5);
        let line = loop {
            if let Some(l) = env.log_lines().into_iter().find(|l| l.starts_with("P=")) {
                break l;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let url = env.fake_url("provider").unwrap();
        assert_eq!(
            line,
            format!("P={url}/v1 D={}/x.db H=unset", env.run_dir().display())
        );
        assert!(env
            .wait_exit(Duration::from_millis(10))
            .await
            .unwrap()
            .is_none());
        let run_dir = env.run_dir().to_path_buf();
        let status = env.shutdown().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert!(!run_dir.exists());
    }
}
