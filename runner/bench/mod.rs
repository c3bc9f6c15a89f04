//! `drill bench`: the runtime side of the decision. A scenario's two
//! languages under its workload in interleaved rounds (`scenario.rs`) or a
//! saturation sweep (`sweep.rs`), their builds (`build.rs`), the open-loop
//! load generator (`loadgen.rs`) also usable against any HTTP URL, the
//! stored results read back (`stored.rs`), and the reference server the
//! generator's self-checks run against (`selfcheck.rs`). Method and schema:
//! docs/bench.md.
pub mod build;
pub mod compare;
pub mod loadgen;
pub mod sample;
pub mod scenario;
pub mod selfcheck;
pub mod stored;
pub mod sweep;
pub mod table;
pub mod workload;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use loadgen::{Counts, LoadResult, LoadSpec, Percentiles, RequestSpec, SecondStats, LATE_AFTER};

/// Version of the `drill bench --json` document; bumped on any change of meaning.
pub const FORMAT_VERSION: u32 = 1;

/// CPU time (user + system) this process has used so far.
pub fn own_cpu_time() -> Duration {
    rusage_cpu(libc::RUSAGE_SELF)
}

/// User + system CPU time of `who` (`RUSAGE_SELF`, `RUSAGE_CHILDREN`).
fn rusage_cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The machine a measurement was taken on: a figure means little without it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_mb: Option<u64>,
    pub os: String,
    pub kernel: Option<String>,
    /// 1-minute load average when the run started and when it ended.
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    /// Per language, the toolchain that built it (`go 1.26.8`), when builds were measured.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub toolchains: std::collections::BTreeMap<String, String>,
}

impl Machine {
    pub fn now() -> Machine {
        Machine {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_mb: std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    .map(|kb| kb / 1024)
            }),
            os: std::env::consts::OS.to_string(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_string()),
            load_before: load_average(),
            load_after: None,
            toolchains: Default::default(),
        }
    }
}

pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    /// From each request's intended start: what a client on that schedule waited.
    pub corrected: Percentiles,
    /// From each request's actual start: hides the time spent queued behind a slow answer.
    pub raw: Percentiles,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generator {
    /// The load generator's own CPU (user + system) over the run.
    pub cpu_s: f64,
    pub cpu_ms_per_1000_requests: f64,
}

/// `drill bench --url ... --json`.
#[derive(Debug, Clone, Serialize)]
pub struct UrlReport {
    pub format_version: u32,
    pub url: String,
    pub method: String,
    pub rate: f64,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub connections: usize,
    pub timeout_ms: u64,
    pub late_after_ms: f64,
    pub counts: Counts,
    pub error_rate: f64,
    pub achieved_rate: f64,
    pub max_lag_ms: f64,
    pub latency_ms: Latency,
    pub per_second: Vec<SecondStats>,
    pub generator: Generator,
    pub machine: Machine,
    pub interrupted: bool,
}

impl UrlReport {
    pub fn new(
        req: &RequestSpec,
        url: &str,
        spec: &LoadSpec,
        r: &LoadResult,
        machine: Machine,
    ) -> UrlReport {
        let cpu = r.generator_cpu.as_secs_f64();
        let started = r.counts.completed() + r.counts.failed;
        UrlReport {
            format_version: FORMAT_VERSION,
            url: url.to_string(),
            method: req.method.to_string(),
            rate: spec.rate,
            warmup_s: spec.warmup.as_secs_f64(),
            duration_s: spec.duration.as_secs_f64(),
            connections: spec.connections,
            timeout_ms: spec.timeout.as_millis() as u64,
            late_after_ms: LATE_AFTER.as_secs_f64() * 1000.0,
            counts: r.counts,
            error_rate: r.counts.error_rate(),
            achieved_rate: r.achieved_rate(),
            max_lag_ms: r.max_lag.as_secs_f64() * 1000.0,
            latency_ms: Latency {
                corrected: Percentiles::of(&r.corrected),
                raw: Percentiles::of(&r.raw),
            },
            per_second: r.seconds(),
            generator: Generator {
                cpu_s: cpu,
                cpu_ms_per_1000_requests: if started > 0 {
                    cpu * 1000.0 * 1000.0 / started as f64
                } else {
                    0.0
                },
            },
            machine,
            interrupted: r.interrupted,
        }
    }

    /// What a person reads.
    pub fn render(&self) -> String {
        let c = &self.counts;
        let mut out = format!(
            "{} {} at {} req/s for {} s (+{} s warm-up), {} connection(s)\n\n",
            self.method,
            self.url,
            fmt_num(self.rate),
            fmt_num(self.duration_s),
            fmt_num(self.warmup_s),
            self.connections
        );
        let row = |name: &str, p: &Percentiles| {
            vec![
                name.to_string(),
                fmt_ms(p.p50),
                fmt_ms(p.p90),
                fmt_ms(p.p95),
                fmt_ms(p.p99),
                fmt_ms(p.p999),
                fmt_ms(p.max),
            ]
        };
        out.push_str(&crate::console::table(&[
            vec![
                "latency (ms)".to_string(),
                "p50".into(),
                "p90".into(),
                "p95".into(),
                "p99".into(),
                "p99.9".into(),
                "max".into(),
            ],
            row("corrected", &self.latency_ms.corrected),
            row("raw", &self.latency_ms.raw),
        ]));
        out.push_str(&format!(
            "\nrequests   {} scheduled, {} ok, {} 4xx, {} 5xx, {} failed, {} dropped (error rate {:.2}%)\n",
            c.scheduled,
            c.ok,
            c.status_4xx,
            c.status_5xx,
            c.failed,
            c.dropped,
            self.error_rate * 100.0
        ));
        out.push_str(&format!(
            "rate       {} req/s achieved of {} targeted\n",
            fmt_num(self.achieved_rate),
            fmt_num(self.rate)
        ));
        out.push_str(&format!(
            "schedule   {} started more than {} ms late, worst lag {} ms\n",
            c.late,
            fmt_num(self.late_after_ms),
            fmt_ms(self.max_lag_ms)
        ));
        out.push_str(&format!(
            "generator  {:.2} s CPU ({} ms per 1000 requests) on {} core(s)\n",
            self.generator.cpu_s,
            fmt_num(self.generator.cpu_ms_per_1000_requests),
            self.machine.cores
        ));
        if c.completed() > 0 && c.late > c.scheduled / 100 {
            out.push_str(
                "\nnote: more than 1% of requests started late: the service could not keep up at this rate \
                 (or the generator could not: compare its CPU with the cores); corrected latency counts the wait.\n",
            );
        }
        if c.completed() == 0 {
            out.push_str("\nnothing was answered: is the service running at that address?\n");
        }
        if self.interrupted {
            out.push_str("\ninterrupted: the figures cover what was measured before Ctrl-C.\n");
        }
        out
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.1}")
    }
}
