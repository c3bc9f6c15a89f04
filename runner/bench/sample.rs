//! What a running service costs, read from `/proc/<pid>` by a sampler thread
//! (RSS, threads, open fds, CPU time) and, once it exits, from the kernel's
//! resource usage of the dead process (peak RSS and CPU, as `wait4` reports
//! them).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// 40 Hz: comfortably above the 20 Hz a short RSS peak needs to be seen.
pub const INTERVAL: Duration = Duration::from_millis(25);

/// One reading of `/proc/<pid>`.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    pub rss_kb: u64,
    /// The kernel's high-water mark of RSS so far (`VmHWM`).
    pub hwm_kb: u64,
    pub threads: u64,
    pub fds: u64,
    /// User + system CPU time of the process so far.
    pub cpu: Duration,
}

/// Reads `/proc/<pid>/status`, `/stat` and `/fd` once; `None` once the process is gone.
pub fn read(pid: i32) -> Option<Sample> {
    let at = Instant::now();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let rss_kb = field("VmRSS:")?;
    let hwm_kb = field("VmHWM:").unwrap_or(rss_kb);
    let threads = field("Threads:").unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    Some(Sample {
        at,
        rss_kb,
        hwm_kb,
        threads,
        fds,
        cpu: proc_cpu(pid).unwrap_or_default(),
    })
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks turned into time.
fn proc_cpu(pid: i32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last `)`.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the man page, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Some(Duration::from_nanos((utime + stime) * 1_000_000_000 / hz))
}

/// Samples a process every [`INTERVAL`] on a thread of its own until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

impl Sampler {
    pub fn start(pid: i32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("drill-bench-sample".into())
            .spawn(move || {
                let mut out = Vec::with_capacity(4096);
                let mut next = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    match read(pid) {
                        Some(s) => out.push(s),
                        None => break,
                    }
                    next += INTERVAL;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        next = now;
                    }
                }
                out
            })
            .ok();
        Sampler { stop, thread }
    }

    /// Stops sampling; every sample taken, in order.
    pub fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The resource usage of an exited child, as `wait4` would return it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ExitUsage {
    pub user_s: f64,
    pub sys_s: f64,
    pub maxrss_kb: u64,
}

/// Waits up to `limit` for child `pid` to exit and reads its resource usage
/// *without reaping it* (`waitid` with `WNOWAIT`; the raw system call, whose
/// fifth argument is the rusage `wait4` returns), so the process guard that
/// owns the child still reaps it and learns its status. `None` if it is
/// still running after `limit` or was already reaped.
pub fn exit_usage(pid: i32, limit: Duration) -> Option<ExitUsage> {
    let deadline = Instant::now() + limit;
    loop {
        // SAFETY: the kernel writes into the two structs we own; a zeroed
        // siginfo's si_pid stays 0 when WNOHANG finds no exited child.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                libc::P_PID,
                pid as libc::id_t,
                &mut info as *mut libc::siginfo_t,
                libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
                &mut ru as *mut libc::rusage,
            )
        };
        if r != 0 {
            return None;
        }
        // SAFETY: si_pid is valid for SIGCHLD-style siginfo filled by waitid.
        if unsafe { info.si_pid() } == pid {
            let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Some(ExitUsage {
                user_s: tv(ru.ru_utime),
                sys_s: tv(ru.ru_stime),
                maxrss_kb: ru.ru_maxrss as u64,
            });
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_alive_with_memory_and_threads() {
        let s = read(std::process::id() as i32).expect("own /proc entry");
        assert!(s.rss_kb > 0 && s.hwm_kb >= s.rss_kb);
        assert!(s.threads >= 1 && s.fds >= 3);
    }

    #[test]
    fn an_exited_child_yields_its_usage_and_is_still_reaped_by_its_owner() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        let usage = exit_usage(child.id() as i32, Duration::from_secs(20)).expect("usage");
        assert!(usage.maxrss_kb > 0);
        assert!(usage.user_s + usage.sys_s > 0.0);
        // Not reaped: the owner still gets the status.
        assert!(child.wait().unwrap().success());
    }
}
