//! Child processes: each in its own process group, killed as a group.
//!
//! Everything the kit starts (builds, visible tests, scenario services) goes
//! through here so that nothing outlives the check or the runner that started
//! it: a group kill reaches grandchildren (`go build` workers, `cargo` rustc
//! jobs, a service's own children), and `PR_SET_PDEATHSIG` makes the kernel
//! kill a child whose runner died without running any destructor (kill -9).

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// How long a group gets between SIGTERM and SIGKILL when a guard is dropped.
/// Short, because Drop blocks the thread it runs on.
pub const DROP_GRACE: Duration = Duration::from_millis(200);

#[derive(Debug, Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        #[source]
        source: io::Error,
    },
}

/// Makes `cmd` start in a new process group and die with the runner.
///
/// Call before `spawn`. Also sets `kill_on_drop`, a last resort for the
/// group leader if a guard is somehow bypassed.
pub fn configure(cmd: &mut Command) {
    cmd.process_group(0);
    cmd.kill_on_drop(true);
    // SAFETY: the closure runs between fork and exec and only calls
    // async-signal-safe functions (getpid-family and prctl), allocating nothing.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            // PDEATHSIG fires when the *thread* that forked exits. Spawns happen
            // on tokio worker threads, which live as long as the runtime, so in
            // practice this means "when the runner exits".
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The runner may have died between fork and prctl: then no signal
            // will ever come, so refuse to start instead of running orphaned.
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited before exec"));
            }
            Ok(())
        });
    }
}

/// Spawns `cmd` (already holding its stdio choices) in its own group.
pub fn spawn(mut cmd: Command) -> Result<GroupChild, ProcessError> {
    configure(&mut cmd);
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let child = cmd.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    Ok(GroupChild {
        child,
        pgid,
        program,
        status: None,
    })
}

/// A spawned child that leads its own process group. Dropping it kills the
/// whole group (SIGTERM, [`DROP_GRACE`], SIGKILL), so a panicking or timed-out
/// caller leaves no orphan behind.
#[derive(Debug)]
pub struct GroupChild {
    child: Child,
    pgid: i32,
    program: String,
    status: Option<ExitStatus>,
}

impl GroupChild {
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends `signal` to the group leader only (what `kill PID` would do).
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        if self.status.is_some() || self.pgid <= 0 {
            return Ok(());
        }
        // SAFETY: plain syscall on a pid we own and have not reaped.
        if unsafe { libc::kill(self.pgid, signal) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits for the leader to exit.
    pub async fn wait(&mut self) -> Result<ExitStatus, ProcessError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = self
            .child
            .wait()
            .await
            .map_err(|source| ProcessError::Wait {
                program: self.program.clone(),
                source,
            })?;
        self.status = Some(status);
        Ok(status)
    }

    /// Waits up to `limit` for the leader to exit; `None` if it is still running.
    pub async fn wait_timeout(
        &mut self,
        limit: Duration,
    ) -> Result<Option<ExitStatus>, ProcessError> {
        match tokio::time::timeout(limit, self.wait()).await {
            Ok(r) => r.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The exit status if the leader has already exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.status = Some(s);
            }
        }
        self.status
    }

    /// SIGTERM to the group, `grace` to exit, then SIGKILL to the group.
    /// Returns the leader's exit status.
    pub async fn terminate(&mut self, grace: Duration) -> Result<ExitStatus, ProcessError> {
        kill_group(self.pgid, libc::SIGTERM);
        let status = match self.wait_timeout(grace).await? {
            Some(s) => s,
            None => {
                kill_group(self.pgid, libc::SIGKILL);
                self.wait().await?
            }
        };
        // The leader is gone; anything it left in the group goes too.
        kill_group(self.pgid, libc::SIGKILL);
        Ok(status)
    }

    /// SIGKILL to the whole group at once, then reap the leader.
    pub async fn kill(&mut self) -> Result<ExitStatus, ProcessError> {
        kill_group(self.pgid, libc::SIGKILL);
        self.wait().await
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        if self.pgid <= 0 {
            return;
        }
        if self.try_status().is_none() {
            kill_group(self.pgid, libc::SIGTERM);
            let deadline = Instant::now() + DROP_GRACE;
            while Instant::now() < deadline && self.try_status().is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // Always, even if the leader exited on its own: its children may not have.
        kill_group(self.pgid, libc::SIGKILL);
    }
}

fn kill_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: plain syscall; ESRCH (group already gone) is the normal case.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// The result of [`run_captured`].
#[derive(Debug, Clone)]
pub struct Captured {
    /// `None` only when the process had to be killed after a timeout and its
    /// status could not be read.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    pub timed_out: bool,
}

impl Captured {
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }
}

/// Runs `cmd` to completion in its own process group, capturing stdout and
/// stderr. After `timeout` the whole group is killed and `timed_out` is set.
/// stdin is closed so a command waiting for input cannot hang the kit.
pub async fn run_captured(mut cmd: Command, timeout: Duration) -> Result<Captured, ProcessError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = spawn(cmd)?;
    let out = child
        .child_mut()
        .stdout
        .take()
        .map(|s| tokio::spawn(read_all(s)));
    let err = child
        .child_mut()
        .stderr
        .take()
        .map(|s| tokio::spawn(read_all(s)));

    let (status, timed_out) = match child.wait_timeout(timeout).await? {
        Some(s) => {
            // A grandchild may still hold the pipes open; it has no business
            // outliving the command.
            kill_group(child.pgid, libc::SIGKILL);
            (Some(s), false)
        }
        None => (child.terminate(Duration::from_millis(500)).await.ok(), true),
    };
    let duration = start.elapsed();
    let stdout = join_output(out).await;
    let stderr = join_output(err).await;
    Ok(Captured {
        status,
        stdout,
        stderr,
        duration,
        timed_out,
    })
}

async fn read_all<R: tokio::io::AsyncRead + Unpin>(mut r: R) -> Vec<u8> {
    let mut buf = Vec::new();
    // A read error mid-way keeps what was read: partial output beats none.
    let _ = r.read_to_end(&mut buf).await;
    buf
}

async fn join_output(handle: Option<tokio::task::JoinHandle<Vec<u8>>>) -> String {
    let Some(handle) = handle else {
        return String::new();
    };
    // The group is dead, so the pipe closes promptly; bound it anyway.
    match tokio::time::timeout(Duration::from_secs(2), handle).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    }
}

/// A Ctrl-C or a SIGTERM the command received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    /// The conventional status of a command ended by this signal (128 + n).
    pub fn exit_code(self) -> u8 {
        match self {
            Interrupt::Int => 128 + libc::SIGINT as u8,
            Interrupt::Term => 128 + libc::SIGTERM as u8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "Ctrl-C",
            Interrupt::Term => "SIGTERM",
        }
    }
}

/// SIGINT and SIGTERM turned into a future, so a long command can stop its
/// work, run its destructors (children killed as a group, scratch removed)
/// and say what was recorded, instead of dying mid-way.
///
/// Created inside a runtime at the start of a command: from then on the
/// signals no longer kill the process; one that arrives while the command
/// is in a synchronous step is kept and seen at the next [`Interrupts::recv`].
pub struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// Must be called within a Tokio runtime (`rt.enter()` or `block_on`).
    pub fn new() -> io::Result<Interrupts> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Interrupts {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    pub async fn recv(&mut self) -> Interrupt {
        tokio::select! {
            _ = self.int.recv() => Interrupt::Int,
            _ = self.term.recv() => Interrupt::Term,
        }
    }

    /// Runs `work` unless a signal comes first (one already received wins).
    pub async fn guard<F: std::future::Future>(&mut self, work: F) -> Result<F::Output, Interrupt> {
        tokio::select! {
            biased;
            i = self.recv() => Err(i),
            out = work => Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    /// Alive and not a zombie: in a container, PID 1 may never reap orphans.
    fn alive(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z'),
            Err(_) => false,
        }
    }

    #[tokio::test]
    async fn run_captured_returns_status_and_both_streams() {
        let c = run_captured(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(c.status.and_then(|s| s.code()), Some(3));
        assert_eq!(c.stdout, "out\n");
        assert_eq!(c.stderr, "err\n");
        assert!(!c.timed_out);
        assert!(!c.success());
    }

    #[tokio::test]
    async fn run_captured_timeout_kills_grandchildren_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let c = run_captured(sh(&script), Duration::from_millis(300))
            .await
            .unwrap();
        assert!(c.timed_out);
        assert!(c.duration < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The orphaned sleep is reparented and reaped by init once killed.
        let deadline = Instant::now() + Duration::from_secs(2);
        while alive(pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(pid), "grandchild {pid} survived the group kill");
    }

    #[tokio::test]
    async fn run_captured_reports_missing_program() {
        let err = run_captured(
            Command::new("/nonexistent/drill-test-binary"),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/drill-test-binary"));
    }

    #[tokio::test]
    async fn dropping_a_group_child_kills_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!(
            "trap '' TERM; sleep 30 & echo $! > {}; wait",
            pidfile.display()
        );
        let mut cmd = sh(&script);
        cmd.stdin(Stdio::null());
        let child = spawn(cmd).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !pidfile.exists() || std::fs::read_to_string(&pidfile).unwrap().trim().is_empty() {
            assert!(Instant::now() < deadline, "script never wrote its pid");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        drop(child);
        let deadline = Instant::now() + Duration::from_secs(2);
        while alive(pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(pid));
    }
}
