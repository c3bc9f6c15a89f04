//! A reference server for checking the load generator itself: every answer
//! takes a fixed delay, and optionally the whole server stalls once.
//!
//! One OS thread per connection, not tokio: its timer rounds sleeps up to
//! whole milliseconds, which would put a 5 ms delay anywhere in 5–6 ms and make
//! the check measure the timer instead of the generator. Even a thread's sleep
//! overshoots by 0.1–0.3 ms on a virtual machine (timer slack), which is the
//! whole 5% budget of the check, so its threads ask for the least timer slack
//! and the delay sleeps to 0.2 ms short of its end and spins the rest: the
//! server's answer time is the delay to a few µs, and what the check measures
//! above it is the generator and loopback. (The spin costs the process about
//! 0.2 ms of CPU per request, which the generator's CPU figure includes.) The HTTP it speaks is the least a keep-alive client needs
//! (request line, headers, a Content-Length body, a fixed answer); it is a
//! measuring fixture, not a server for the kit's users.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A stall of the whole server: the first request arriving `after` the server
/// started holds every answer (on every connection) until `for_` has passed.
#[derive(Debug, Clone, Copy)]
pub struct Stall {
    pub after: Duration,
    pub for_: Duration,
}

pub struct FixedDelayServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

struct Shared {
    delay: Duration,
    started: Instant,
    stall: Option<Stall>,
    /// When the stall (once triggered) ends.
    stalled_until: Mutex<Option<Instant>>,
}

impl FixedDelayServer {
    pub fn start(delay: Duration, stall: Option<Stall>) -> std::io::Result<FixedDelayServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            delay,
            started: Instant::now(),
            stall,
            stalled_until: Mutex::new(None),
        });
        let accept_stop = stop.clone();
        std::thread::Builder::new()
            .name("drill-bench-fixture".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if accept_stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let shared = shared.clone();
                    let stop = accept_stop.clone();
                    let _ = std::thread::Builder::new()
                        .name("drill-bench-fixture-conn".into())
                        .spawn(move || serve(conn, &shared, &stop));
                }
            })?;
        Ok(FixedDelayServer { addr, stop })
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for FixedDelayServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, shared: &Shared, stop: &AtomicBool) {
    least_timer_slack();
    let _ = conn.set_nodelay(true);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while !stop.load(Ordering::Relaxed) {
        let mut content_length = 0usize;
        let mut line = String::new();
        // Request line, then headers up to the blank line.
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let arrived = Instant::now();
        wait_precisely(arrived + shared.delay);
        if let Some(stall) = shared.stall {
            let until = {
                let mut s = shared
                    .stalled_until
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if s.is_none() && arrived.duration_since(shared.started) >= stall.after {
                    *s = Some(arrived + stall.for_);
                }
                *s
            };
            if let Some(until) = until {
                let now = Instant::now();
                if until > now {
                    std::thread::sleep(until - now);
                }
            }
        }
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}

/// The calling thread's sleeps end as close to their deadline as the kernel
/// allows (the default slack is 50 µs). Best effort: a failure changes nothing
/// but precision.
fn least_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}

/// Sleeps until shortly before `until`, then spins: a sleep alone overshoots
/// by the timer slack.
fn wait_precisely(until: Instant) {
    const SPIN: Duration = Duration::from_micros(200);
    let now = Instant::now();
    if until > now + SPIN {
        std::thread::sleep(until - now - SPIN);
    }
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// The verdict of one self-check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SelfCheck {
    pub name: &'static str,
    pub passed: bool,
    /// The figures it judged, and why it failed if it did.
    pub detail: String,
    pub corrected: super::loadgen::Percentiles,
    pub raw: super::loadgen::Percentiles,
    pub generator_cpu_ms_per_1000_requests: f64,
}

async fn measure(
    server: &FixedDelayServer,
    spec: &super::loadgen::LoadSpec,
) -> Result<super::loadgen::LoadResult, super::loadgen::LoadError> {
    let req = super::loadgen::RequestSpec::from_url(&server.url(), hyper::Method::GET).await?;
    super::loadgen::run(
        Arc::new(req),
        spec,
        Arc::new(AtomicBool::new(false)),
        Arc::new(()),
    )
    .await
}

fn verdict(
    name: &'static str,
    r: &super::loadgen::LoadResult,
    problems: Vec<String>,
    figures: String,
) -> SelfCheck {
    let started = (r.counts.completed() + r.counts.failed).max(1);
    SelfCheck {
        name,
        passed: problems.is_empty(),
        detail: if problems.is_empty() {
            figures
        } else {
            format!("{}; {figures}", problems.join("; "))
        },
        corrected: super::loadgen::Percentiles::of(&r.corrected),
        raw: super::loadgen::Percentiles::of(&r.raw),
        generator_cpu_ms_per_1000_requests: r.generator_cpu.as_secs_f64() * 1e6 / started as f64,
    }
}

/// A fixed 5 ms server at 500 req/s: p50 (corrected and raw) within 5% of
/// 5 ms, every request answered, the rate achieved within 5%.
pub async fn fixed_delay() -> Result<SelfCheck, super::loadgen::LoadError> {
    let server = FixedDelayServer::start(Duration::from_millis(5), None)
        .map_err(|e| super::loadgen::LoadError::Spec(format!("reference server: {e}")))?;
    let spec = super::loadgen::LoadSpec {
        rate: 500.0,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(3),
        connections: 16,
        timeout: Duration::from_secs(2),
    };
    let r = measure(&server, &spec).await?;
    let c = super::loadgen::Percentiles::of(&r.corrected);
    let raw = super::loadgen::Percentiles::of(&r.raw);
    let mut problems = Vec::new();
    if r.counts.ok != 1500 {
        problems.push(format!("{} of 1500 requests answered ok", r.counts.ok));
    }
    if (c.p50 - 5.0).abs() > 0.25 {
        problems.push(format!(
            "corrected p50 {:.2} ms is not within 5% of 5 ms",
            c.p50
        ));
    }
    if (raw.p50 - 5.0).abs() > 0.25 {
        problems.push(format!(
            "raw p50 {:.2} ms is not within 5% of 5 ms",
            raw.p50
        ));
    }
    let achieved = r.achieved_rate();
    if (achieved - 500.0).abs() > 25.0 {
        problems.push(format!("achieved {achieved:.0} req/s of 500"));
    }
    let figures = format!(
        "p50 corrected {:.2} ms, raw {:.2} ms; p99 corrected {:.2} ms; {achieved:.0} req/s",
        c.p50, raw.p50, c.p99
    );
    Ok(verdict(
        "fixed 5 ms delay at 500 req/s",
        &r,
        problems,
        figures,
    ))
}

/// A 2 ms server that stalls once for 1 s under 400 req/s on 8 connections:
/// the corrected p99 must show the stall, the raw p99 must not (only the
/// requests in flight when it began saw it from their actual start).
pub async fn stall() -> Result<SelfCheck, super::loadgen::LoadError> {
    let server = FixedDelayServer::start(
        Duration::from_millis(2),
        Some(Stall {
            after: Duration::from_millis(1500),
            for_: Duration::from_secs(1),
        }),
    )
    .map_err(|e| super::loadgen::LoadError::Spec(format!("reference server: {e}")))?;
    let spec = super::loadgen::LoadSpec {
        rate: 400.0,
        warmup: Duration::ZERO,
        duration: Duration::from_secs(5),
        connections: 8,
        timeout: Duration::from_secs(5),
    };
    let r = measure(&server, &spec).await?;
    let c = super::loadgen::Percentiles::of(&r.corrected);
    let raw = super::loadgen::Percentiles::of(&r.raw);
    let mut problems = Vec::new();
    if r.counts.ok != 2000 {
        problems.push(format!("{} of 2000 requests answered ok", r.counts.ok));
    }
    if c.p99 < 900.0 {
        problems.push(format!(
            "corrected p99 {:.0} ms misses the 1 s stall",
            c.p99
        ));
    }
    if raw.p99 >= 50.0 {
        problems.push(format!(
            "raw p99 {:.1} ms: more requests than the ones in flight saw the stall",
            raw.p99
        ));
    }
    if raw.max < 900.0 {
        problems.push(format!("raw max {:.0} ms misses the stall", raw.max));
    }
    let figures = format!(
        "p99 corrected {:.0} ms, raw {:.1} ms; raw max {:.0} ms; {} late starts",
        c.p99, raw.p99, raw.max, r.counts.late
    );
    Ok(verdict("1 s stall under 400 req/s", &r, problems, figures))
}
