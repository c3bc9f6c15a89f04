//! `scenarios/<name>/bench.toml`: the workload `drill bench <scenario>` runs
//! against both languages (format: docs/drill-format.md, "bench.toml").
//!
//! It reuses what the acceptance suite declares: the service is started from
//! `acceptance.toml`'s `[service]` (this file only overrides some of its
//! environment), its fakes are the suite's `[fakes.*]`, their latency is a
//! list of fault rules exactly as a check writes them, and the request mix
//! uses the request step's templates and signing. Loading validates
//! everything at once and names the file, the field and what to do.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use serde::{Deserialize, Serialize};

use super::loadgen::Source;
use crate::harness::faults::{splitmix64, FaultRule, RawFault};
use crate::harness::loopback::non_loopback_listen;
use crate::harness::validate::{check_placeholders, is_name, is_token};
use crate::harness::{RequestTemplate, SignSpec, Suite};

pub const FORMAT_VERSION: u32 = 1;
pub const FILE: &str = "bench.toml";
/// Largest sum of the mix's weights (the mix is a cycle of that length).
const MAX_TOTAL_WEIGHT: u32 = 10_000;
/// Largest `N` of a `{pool.N}` placeholder.
const MAX_POOL: u64 = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("{}: missing: every scenario needs a bench.toml (its workload for `drill bench`; format in docs/drill-format.md, \"bench.toml\")", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: {} problem(s):\n  {}", path.display(), problems.len(), problems.join("\n  "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

/// A loaded and validated workload.
#[derive(Debug, Clone)]
pub struct Workload {
    pub path: PathBuf,
    /// Over `acceptance.toml`'s `[service.env]`: production-like settings
    /// instead of the ones shrunk for checks.
    pub env: BTreeMap<String, String>,
    /// Probed with GET until it answers 2xx: the "first ready answer".
    pub ready_path: String,
    /// Startups measured per language (spread over the rounds).
    pub startup_runs: u32,
    pub rates: Vec<f64>,
    pub warmup: Duration,
    pub duration: Duration,
    pub connections: usize,
    pub timeout: Duration,
    /// The fakes' behaviour under load (usually `latency` on every call).
    pub faults: Vec<FaultRule>,
    pub requests: Vec<MixRequest>,
    pub limits: Limits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    format_version: u32,
    #[serde(default)]
    service: RawService,
    #[serde(default)]
    startup: RawStartup,
    load: RawLoad,
    #[serde(default)]
    faults: Vec<toml::Value>,
    #[serde(default)]
    requests: Vec<MixRequest>,
    #[serde(default)]
    limits: Limits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default = "default_ready_path")]
    ready_path: String,
}

impl Default for RawService {
    fn default() -> Self {
        RawService {
            env: BTreeMap::new(),
            ready_path: default_ready_path(),
        }
    }
}

fn default_ready_path() -> String {
    "/healthz".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStartup {
    #[serde(default = "default_startup_runs")]
    runs: u32,
}

impl Default for RawStartup {
    fn default() -> Self {
        RawStartup {
            runs: default_startup_runs(),
        }
    }
}

fn default_startup_runs() -> u32 {
    10
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    rates: Vec<f64>,
    #[serde(default = "default_warmup_s")]
    warmup_s: f64,
    #[serde(default = "default_duration_s")]
    duration_s: f64,
    #[serde(default = "default_connections")]
    connections: usize,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_warmup_s() -> f64 {
    5.0
}
fn default_duration_s() -> f64 {
    30.0
}
fn default_connections() -> usize {
    16
}
fn default_timeout_ms() -> u64 {
    5000
}

/// One kind of request of the mix: the request step's templated fields plus
/// a name and a weight.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixRequest {
    pub name: String,
    #[serde(default = "one")]
    pub weight: u32,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub body_bytes: Option<usize>,
    pub(crate) sign: Option<SignSpec>,
}

fn one() -> u32 {
    1
}

/// What the user cares about per instance; each is marked met or missed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Corrected p95 latency (median over rounds), milliseconds.
    pub p95_ms: Option<f64>,
    /// Corrected p99 latency (median over rounds), milliseconds.
    pub p99_ms: Option<f64>,
    /// Peak RSS (median over rounds), MB.
    pub rss_mb: Option<f64>,
    /// Startup, exec to the first ready answer (median), milliseconds.
    pub startup_ms: Option<f64>,
    /// Failed and 5xx answers over requests started (median over rounds).
    pub error_rate: Option<f64>,
}

impl Workload {
    /// `bench.toml` in the scenario folder `dir`, checked against its suite.
    pub fn load_for(dir: &Path, suite: &Suite) -> Result<Workload, WorkloadError> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WorkloadError::Missing { path })
            }
            Err(source) => return Err(WorkloadError::Read { path, source }),
        };
        Workload::parse(&text, &path, suite)
    }

    /// Parses workload text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path, suite: &Suite) -> Result<Workload, WorkloadError> {
        let raw: RawWorkload = toml::from_str(text).map_err(|e| WorkloadError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut problems = Vec::new();
        let w = validate(raw, path, suite, &mut problems);
        if problems.is_empty() {
            Ok(w)
        } else {
            Err(WorkloadError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }
}

fn validate(raw: RawWorkload, path: &Path, suite: &Suite, problems: &mut Vec<String>) -> Workload {
    if raw.format_version != FORMAT_VERSION {
        problems.push(format!(
            "field `format_version`: {} is not supported (this drill reads version {FORMAT_VERSION})",
            raw.format_version
        ));
    }
    let fakes = suite.fake_names();
    let fake_url = |n: &str| {
        n.strip_prefix("fake.")
            .and_then(|f| f.strip_suffix(".url"))
            .is_some_and(|f| fakes.iter().any(|x| x == f))
    };
    let env_known = |n: &str| n == "run" || n == "run_dir" || fake_url(n);
    for (key, value) in &raw.service.env {
        let at = format!("service.env.{key}");
        if let Some(instead) = non_loopback_listen(key, value) {
            problems.push(format!(
                "{at}: {value:?} would make the service reachable from other machines; the kit runs services on loopback only: write {instead:?}"
            ));
        }
        check_placeholders(value, &env_known, &at, problems);
    }
    if !raw.service.ready_path.starts_with('/') {
        problems.push("service: field `ready_path` must start with `/` (e.g. \"/healthz\")".into());
    }
    if !(1..=1000).contains(&raw.startup.runs) {
        problems.push("startup: field `runs` must be 1..=1000".into());
    }
    let l = &raw.load;
    if l.rates.is_empty() {
        problems.push("load: field `rates` is empty: give at least one rate, e.g. [200]".into());
    }
    for r in &l.rates {
        if !(r.is_finite() && *r > 0.0 && *r <= 1_000_000.0) {
            problems.push(format!(
                "load: field `rates`: {r} is not a rate (requests per second, above 0)"
            ));
        }
    }
    let secs = |v: f64, field: &str, zero_ok: bool, problems: &mut Vec<String>| {
        if !(v.is_finite() && (if zero_ok { v >= 0.0 } else { v > 0.0 }) && v <= 86_400.0) {
            problems.push(format!(
                "load: field `{field}`: {v} is not a number of seconds{}",
                if zero_ok { "" } else { " above 0" }
            ));
            Duration::ZERO
        } else {
            Duration::from_secs_f64(v)
        }
    };
    let warmup = secs(l.warmup_s, "warmup_s", true, problems);
    let duration = secs(l.duration_s, "duration_s", false, problems);
    if !(1..=10_000).contains(&l.connections) {
        problems.push("load: field `connections` must be 1..=10000".into());
    }
    if l.timeout_ms == 0 {
        problems.push("load: field `timeout_ms` must be above 0".into());
    }

    let mut faults = Vec::new();
    for (i, v) in raw.faults.into_iter().enumerate() {
        let at = format!("faults[{}]", i + 1);
        match v.try_into::<RawFault>() {
            Err(e) => problems.push(format!("{at}: {}", e.message())),
            Ok(rf) => match rf.into_rule() {
                Err(e) => problems.push(format!("{at}: {e}")),
                Ok(rule) => {
                    if !fakes.contains(&rule.fake) {
                        problems.push(format!(
                            "{at}: field `fake`: acceptance.toml declares no fake {:?} (it has: {})",
                            rule.fake,
                            fakes.join(", ")
                        ));
                    }
                    faults.push(rule);
                }
            },
        }
    }

    if raw.requests.is_empty() {
        problems.push("no [[requests]]: the mix needs at least one".into());
    }
    let mut total = 0u32;
    let mut names = Vec::new();
    let known = |n: &str| n == "seq" || env_known(n) || pool_size(n).is_some();
    for (i, r) in raw.requests.iter().enumerate() {
        let at = format!("requests[{}] ({})", i + 1, r.name);
        if !is_name(&r.name) {
            problems.push(format!(
                "{at}: field `name` may only use letters, digits, `_` and `-`"
            ));
        }
        if names.contains(&r.name) {
            problems.push(format!("{at}: another request has this name"));
        }
        names.push(r.name.clone());
        if r.weight == 0 {
            problems.push(format!(
                "{at}: field `weight` must be at least 1 (remove the request to leave it out)"
            ));
        }
        total = total.saturating_add(r.weight);
        if !is_token(&r.method) || r.method.parse::<hyper::Method>().is_err() {
            problems.push(format!(
                "{at}: field `method`: {:?} is not an HTTP method",
                r.method
            ));
        }
        if !r.path.starts_with('/') {
            problems.push(format!("{at}: field `path` must start with `/`"));
        }
        if r.body.is_some() && r.body_bytes.is_some() {
            problems.push(format!("{at}: `body` and `body_bytes` exclude each other"));
        }
        if r.body_bytes
            .is_some_and(|n| n > crate::harness::fake::MAX_BODY_BYTES)
        {
            problems.push(format!("{at}: field `body_bytes` is too large"));
        }
        check_placeholders(&r.path, &known, &format!("{at}: field `path`"), problems);
        for (h, v) in &r.headers {
            if !is_token(h) {
                problems.push(format!("{at}: header {h:?} is not a header name"));
            }
            check_placeholders(v, &known, &format!("{at}: header {h}"), problems);
        }
        if let Some(b) = &r.body {
            check_placeholders(b, &known, &format!("{at}: field `body`"), problems);
        }
        if let Some(sign) = &r.sign {
            problems.extend(sign.problems(&known, &format!("{at}: ")));
        }
    }
    if total > MAX_TOTAL_WEIGHT {
        problems.push(format!(
            "requests: the weights add up to {total}; keep them at most {MAX_TOTAL_WEIGHT} (they are proportions)"
        ));
    }
    let lim = &raw.limits;
    for (field, v) in [
        ("p95_ms", lim.p95_ms),
        ("p99_ms", lim.p99_ms),
        ("rss_mb", lim.rss_mb),
        ("startup_ms", lim.startup_ms),
    ] {
        if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            problems.push(format!("limits: field `{field}` must be above 0"));
        }
    }
    if lim
        .error_rate
        .is_some_and(|v| !(v.is_finite() && (0.0..=1.0).contains(&v)))
    {
        problems.push("limits: field `error_rate` is a fraction: 0 to 1 (0.01 is 1%)".into());
    }
    Workload {
        path: path.to_path_buf(),
        env: raw.service.env,
        ready_path: raw.service.ready_path,
        startup_runs: raw.startup.runs,
        rates: raw.load.rates.clone(),
        warmup,
        duration,
        connections: raw.load.connections,
        timeout: Duration::from_millis(raw.load.timeout_ms),
        faults,
        requests: raw.requests,
        limits: raw.limits,
    }
}

/// `N` of a `{pool.N}` placeholder: one of N values (0..N), drawn per request.
fn pool_size(name: &str) -> Option<u64> {
    let n: u64 = name.strip_prefix("pool.")?.parse().ok()?;
    (1..=MAX_POOL).contains(&n).then_some(n)
}

/// The request mix against one running service: request `seq` is of the
/// kind at `seq` in a fixed, evenly spread cycle of the weights, so Go and
/// Rust get the same sequence of requests.
pub struct Mix {
    addr: SocketAddr,
    authority: String,
    requests: Vec<(MixRequest, hyper::Method)>,
    cycle: Vec<usize>,
    /// `run`, `run_dir`, `fake.<name>.url` of the environment.
    vars: BTreeMap<String, String>,
}

impl Mix {
    pub fn new(requests: &[MixRequest], addr: SocketAddr, vars: BTreeMap<String, String>) -> Mix {
        Mix {
            addr,
            authority: addr.to_string(),
            requests: requests
                .iter()
                .map(|r| {
                    let m = r.method.parse().expect("validated at load");
                    (r.clone(), m)
                })
                .collect(),
            cycle: weighted_cycle(&requests.iter().map(|r| r.weight).collect::<Vec<_>>()),
            vars,
        }
    }
}

/// Smooth weighted round robin over `weights`: each kind appears `weight`
/// times in a cycle of their sum, spread out rather than in runs.
pub fn weighted_cycle(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut cycle = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, &w) in current.iter_mut().zip(weights) {
            *c += i64::from(w);
        }
        let (best, _) = current
            .iter()
            .enumerate()
            .max_by_key(|&(i, &c)| (c, std::cmp::Reverse(i)))
            .expect("at least one request");
        current[best] -= total;
        cycle.push(best);
    }
    cycle
}

impl Source for Mix {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn kinds(&self) -> Vec<String> {
        self.requests.iter().map(|(r, _)| r.name.clone()).collect()
    }

    fn request(&self, seq: u64) -> (usize, Result<Request<Full<Bytes>>, String>) {
        let kind = self.cycle[(seq % self.cycle.len() as u64) as usize];
        let (r, method) = &self.requests[kind];
        let lookup = |n: &str| {
            if n == "seq" {
                return Some(seq.to_string());
            }
            if let Some(size) = pool_size(n) {
                let mut s = seq ^ 0x5eed_5eed;
                return Some((splitmix64(&mut s) % size).to_string());
            }
            self.vars.get(n).cloned()
        };
        let built = RequestTemplate {
            path: &r.path,
            headers: &r.headers,
            body: r.body.as_deref(),
            body_bytes: r.body_bytes,
            sign: r.sign.as_ref(),
        }
        .prepare(&lookup)
        .and_then(|p| {
            let body = p.body.unwrap_or_default();
            let mut b = Request::builder()
                .method(method.clone())
                .uri(p.path.as_str())
                .header(hyper::header::HOST, self.authority.as_str());
            // As the checks' client: a body without a type is JSON.
            if !body.is_empty()
                && !p
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                b = b.header(hyper::header::CONTENT_TYPE, "application/json");
            }
            for (k, v) in &p.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b.body(Full::new(Bytes::from(body)))
                .map_err(|e| format!("request {}: {e}", r.name))
        });
        (kind, built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycle_holds_each_kind_by_its_weight_spread_out() {
        let c = weighted_cycle(&[3, 1]);
        assert_eq!(c, vec![0, 0, 1, 0]);
        let c = weighted_cycle(&[5, 3, 2]);
        assert_eq!(c.len(), 10);
        for (k, w) in [(0, 5), (1, 3), (2, 2)] {
            assert_eq!(c.iter().filter(|&&x| x == k).count(), w);
        }
        assert!(c.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])));
    }

    #[test]
    fn pools_are_bounded_names() {
        assert_eq!(pool_size("pool.16"), Some(16));
        assert_eq!(pool_size("pool.0"), None);
        assert_eq!(pool_size("pool.x"), None);
        assert_eq!(pool_size("seq"), None);
    }
}
