//! `acceptance.toml`: the types, loading and validation.
//!
//! Loading is two-stage: serde checks the shape (unknown keys are errors),
//! then [`validate`] checks what serde cannot (a step naming an undeclared
//! fake, a placeholder nothing defines, a bad `calls` selector...) and reports
//! every problem at once, each naming the check, the step and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use super::faults::{FaultRule, RawFault};
use super::template;

pub const FORMAT_VERSION: u32 = 1;
/// The hard limit of a step without `within_ms`.
pub const DEFAULT_STEP_LIMIT_MS: u64 = 5000;
/// The hard limit of a whole check without `timeout_ms`.
pub const DEFAULT_CHECK_LIMIT_MS: u64 = 30_000;
const DEFAULT_LOG_WAIT_MS: u64 = 1000;
const MAX_CONCURRENCY: u32 = 1000;
const MAX_COUNT: u32 = 100_000;
/// Generated bodies (`body_bytes`) are capped so a typo cannot eat the memory.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum SuiteError {
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

/// A parsed and validated acceptance suite.
#[derive(Debug, Clone)]
pub struct Suite {
    pub(crate) path: PathBuf,
    pub(crate) service: ServiceSpec,
    pub(crate) fakes: BTreeMap<String, FakeSpec>,
    pub(crate) checks: Vec<Check>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    format_version: u32,
    service: ServiceSpec,
    #[serde(default)]
    fakes: BTreeMap<String, FakeSpec>,
    #[serde(default)]
    checks: Vec<RawCheck>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceSpec {
    #[serde(default = "default_startup_ms")]
    pub startup_timeout_ms: u64,
    pub ready: ReadySpec,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_startup_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadySpec {
    pub msg: String,
    pub addr_field: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FakeSpec {
    pub idempotency_header: Option<String>,
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteSpec {
    pub method: String,
    pub path: String,
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Answer with a generated body of this many bytes instead of `body`.
    pub body_bytes: Option<usize>,
    /// Answer with the request's body instead of `body`.
    #[serde(default)]
    pub echo_body: bool,
}

fn default_status() -> u16 {
    200
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    timeout_ms: Option<u64>,
    // Kept as raw values so each rule and step is decoded on its own and an
    // error can name which one is wrong.
    #[serde(default)]
    faults: Vec<toml::Value>,
    #[serde(default)]
    steps: Vec<toml::Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub name: String,
    #[allow(dead_code)] // shown by `drill show`-style commands later; kept parsed
    pub summary: String,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    pub faults: Vec<FaultRule>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub(crate) enum Step {
    Request(Box<RequestStep>),
    FakeCalls(FakeCallsStep),
    Sleep(SleepStep),
    Signal(SignalStep),
    Log(LogStep),
    Metric(MetricStep),
    Process(ProcessStep),
    Restart(RestartStep),
}

impl Step {
    fn kind(&self) -> &'static str {
        match self {
            Step::Request(_) => "request",
            Step::FakeCalls(_) => "fake_calls",
            Step::Sleep(_) => "sleep",
            Step::Signal(_) => "signal",
            Step::Log(_) => "log",
            Step::Metric(_) => "metric",
            Step::Process(_) => "process",
            Step::Restart(_) => "restart",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestStep {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    #[serde(default = "one")]
    pub concurrency: u32,
    /// Total requests, sent `concurrency` at a time; default `concurrency`.
    pub count: Option<u32>,
    pub body_bytes: Option<usize>,
    pub sign: Option<SignSpec>,
    pub expect_body_bytes: Option<usize>,
    #[serde(default)]
    pub expect_status: Vec<u16>,
    #[serde(default)]
    pub expect_json: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub expect_header: BTreeMap<String, String>,
    pub expect_body_contains: Option<String>,
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub save: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

impl RequestStep {
    pub fn total(&self) -> u32 {
        self.count.unwrap_or(self.concurrency)
    }
}

/// HMAC-SHA256 request signing (webhook-style).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignSpec {
    pub header: String,
    pub secret: String,
    /// Template of the signed bytes; may use `{timestamp}` and `{body}`.
    pub payload: String,
    /// Template of the header value; may use `{timestamp}` and `{hmac}`.
    pub value: String,
    #[serde(default)]
    pub timestamp_offset_s: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FakeCallsStep {
    pub fake: String,
    pub method: Option<String>,
    pub path: Option<String>,
    pub expect_calls: Option<u64>,
    pub expect_effects: Option<u64>,
    pub max_effects_per_key: Option<u64>,
    pub key_json: Option<String>,
    pub expect_min_calls: Option<u64>,
    /// No more calls than this (checked when the step runs; with `within_ms`, on every poll).
    pub expect_max_calls: Option<u64>,
    /// Poll until the expectations hold (asynchronous work), up to this long.
    pub within_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SleepStep {
    pub ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalStep {
    pub signal: String,
    #[serde(default = "default_step_limit")]
    pub expect_exit_within_ms: u64,
    pub expect_exit_code: Option<i32>,
}

fn default_step_limit() -> u64 {
    DEFAULT_STEP_LIMIT_MS
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogStep {
    pub expect_msg: String,
    #[serde(default)]
    pub expect_fields: BTreeMap<String, toml::Value>,
    #[serde(default = "default_log_wait")]
    pub within_ms: u64,
}

fn default_log_wait() -> u64 {
    DEFAULT_LOG_WAIT_MS
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricStep {
    #[serde(default = "default_metrics_path")]
    pub path: String,
    /// The series exactly as printed, labels included.
    pub name: String,
    pub expect: Option<f64>,
    pub expect_min: Option<f64>,
    pub expect_max: Option<f64>,
    pub within_ms: Option<u64>,
}

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcessStep {
    pub expect_rss_max_mb: Option<u64>,
    /// The peak RSS since the process started (`VmHWM`): catches a spike that
    /// was already freed when the step runs.
    pub expect_peak_rss_max_mb: Option<u64>,
    pub expect_fds_max: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestartStep {
    #[serde(default = "default_restart_signal")]
    pub signal: String,
}

fn default_restart_signal() -> String {
    "KILL".to_string()
}

/// The number of a signal name accepted by `do = "signal"`.
pub(crate) fn signal_number(name: &str) -> Option<i32> {
    match name {
        "TERM" => Some(libc::SIGTERM),
        "INT" => Some(libc::SIGINT),
        "KILL" => Some(libc::SIGKILL),
        _ => None,
    }
}

impl Suite {
    /// Reads and validates the suite at `path`.
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Suite::parse(&text, path)
    }

    /// Parses suite text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Suite, SuiteError> {
        let raw: RawSuite = toml::from_str(text).map_err(|e| SuiteError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut problems = Vec::new();
        let suite = validate(raw, path, &mut problems);
        if problems.is_empty() {
            Ok(suite)
        } else {
            Err(SuiteError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn check_names(&self) -> Vec<String> {
        self.checks.iter().map(|c| c.name.clone()).collect()
    }

    pub fn has_check(&self, name: &str) -> bool {
        self.check(name).is_some()
    }

    pub fn fake_names(&self) -> Vec<String> {
        self.fakes.keys().cloned().collect()
    }

    /// The fault rules of a check, e.g. to reproduce its conditions by hand.
    pub fn check_faults(&self, name: &str) -> Option<&[FaultRule]> {
        self.check(name).map(|c| c.faults.as_slice())
    }

    pub(crate) fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

fn validate(raw: RawSuite, _path: &Path, problems: &mut Vec<String>) -> Suite {
    if raw.format_version != FORMAT_VERSION {
        problems.push(format!(
            "field `format_version`: {} is not supported (this drill reads version {FORMAT_VERSION})",
            raw.format_version
        ));
    }
    let service = &raw.service;
    if service.startup_timeout_ms == 0 {
        problems.push("service: field `startup_timeout_ms` must be positive".into());
    }
    if service.ready.msg.is_empty() || service.ready.addr_field.is_empty() {
        problems.push("service: field `ready` needs a non-empty `msg` and `addr_field`".into());
    }
    let fake_urls: BTreeSet<String> = raw.fakes.keys().map(|f| format!("fake.{f}.url")).collect();
    let env_vars = |name: &str| name == "run_dir" || name == "run" || fake_urls.contains(name);
    for (key, value) in &service.env {
        check_placeholders(value, &env_vars, &format!("service.env.{key}"), problems);
    }

    for (name, fake) in &raw.fakes {
        if !is_name(name) {
            problems.push(format!(
                "fakes.{name}: a fake name may only use letters, digits, `_` and `-`"
            ));
        }
        if let Some(h) = &fake.idempotency_header {
            if !is_token(h) {
                problems.push(format!(
                    "fakes.{name}: field `idempotency_header`: {h:?} is not a header name"
                ));
            }
        }
        for (i, route) in fake.routes.iter().enumerate() {
            let at = format!("fakes.{name}.routes[{}]", i + 1);
            if !is_token(&route.method) {
                problems.push(format!(
                    "{at}: field `method`: {:?} is not an HTTP method",
                    route.method
                ));
            }
            if !route.path.starts_with('/') {
                problems.push(format!("{at}: field `path` must start with `/`"));
            }
            if !(100..=599).contains(&route.status) {
                problems.push(format!(
                    "{at}: field `status`: {} is not an HTTP status",
                    route.status
                ));
            }
            if route.echo_body && route.body_bytes.is_some() {
                problems.push(format!(
                    "{at}: `echo_body` and `body_bytes` exclude each other"
                ));
            }
            if (route.echo_body || route.body_bytes.is_some()) && !route.body.is_empty() {
                problems.push(format!(
                    "{at}: field `body` is unused with `echo_body` or `body_bytes`"
                ));
            }
            if route.body_bytes.is_some_and(|n| n > MAX_BODY_BYTES) {
                problems.push(format!("{at}: field `body_bytes` exceeds {MAX_BODY_BYTES}"));
            }
            let effect_only = |n: &str| n == "effect";
            check_placeholders(
                &route.body,
                &effect_only,
                &format!("{at}: field `body`"),
                problems,
            );
            for (h, v) in &route.headers {
                check_placeholders(v, &effect_only, &format!("{at}: header {h}"), problems);
            }
        }
    }

    if raw.checks.is_empty() {
        problems.push("no [[checks]]: a suite needs at least one".into());
    }
    let mut seen = BTreeSet::new();
    let mut checks = Vec::new();
    for (ci, rc) in raw.checks.into_iter().enumerate() {
        let label = if rc.name.is_empty() {
            format!("checks[{}]", ci + 1)
        } else {
            format!("check {:?}", rc.name)
        };
        if !is_name(&rc.name) {
            problems.push(format!(
                "{label}: field `name` must be non-empty letters, digits, `_` or `-`"
            ));
        } else if !seen.insert(rc.name.clone()) {
            problems.push(format!(
                "{label}: a check with this name is already defined"
            ));
        }
        let timeout_ms = rc.timeout_ms.unwrap_or(DEFAULT_CHECK_LIMIT_MS);
        if timeout_ms == 0 {
            problems.push(format!("{label}: field `timeout_ms` must be positive"));
        }
        for (key, value) in &rc.env {
            check_placeholders(value, &env_vars, &format!("{label}: env.{key}"), problems);
        }

        let mut faults = Vec::new();
        for (fi, value) in rc.faults.into_iter().enumerate() {
            let at = format!("{label}, faults[{}]", fi + 1);
            let rule = value
                .try_into::<RawFault>()
                .map_err(|e| e.message().to_string())
                .and_then(RawFault::into_rule);
            match rule {
                Ok(rule) => {
                    if !raw.fakes.contains_key(&rule.fake) {
                        problems.push(format!(
                            "{at}: field `fake`: no fake named {:?} is declared",
                            rule.fake
                        ));
                    }
                    faults.push(rule);
                }
                Err(e) => problems.push(format!("{at}: {e}")),
            }
        }

        if rc.steps.is_empty() {
            problems.push(format!("{label}: no steps"));
        }
        let mut saved: BTreeSet<String> = BTreeSet::new();
        let mut signalled = false;
        let mut steps = Vec::new();
        for (si, value) in rc.steps.into_iter().enumerate() {
            let step: Step = match value.try_into() {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("{label}, step {}: {}", si + 1, e.message()));
                    continue;
                }
            };
            let at = format!("{label}, step {} ({})", si + 1, step.kind());
            if signalled
                && matches!(
                    step,
                    Step::Request(_) | Step::Signal(_) | Step::Metric(_) | Step::Process(_)
                )
            {
                problems.push(format!(
                    "{at}: the service was already stopped by an earlier signal step (add a restart step)"
                ));
            }
            let known = |n: &str| {
                n == "i"
                    || n == "run"
                    || n == "run_dir"
                    || fake_urls.contains(n)
                    || saved.contains(n)
            };
            match &step {
                Step::Request(r) => {
                    if !is_token(&r.method) {
                        problems.push(format!(
                            "{at}: field `method`: {:?} is not an HTTP method",
                            r.method
                        ));
                    }
                    if !r.path.starts_with('/') {
                        problems.push(format!("{at}: field `path` must start with `/`"));
                    }
                    if !(1..=MAX_CONCURRENCY).contains(&r.concurrency) {
                        problems.push(format!(
                            "{at}: field `concurrency` must be 1..={MAX_CONCURRENCY}"
                        ));
                    }
                    if r.count.is_some_and(|c| !(1..=MAX_COUNT).contains(&c)) {
                        problems.push(format!("{at}: field `count` must be 1..={MAX_COUNT}"));
                    }
                    if r.body.is_some() && r.body_bytes.is_some() {
                        problems.push(format!("{at}: `body` and `body_bytes` exclude each other"));
                    }
                    if r.body_bytes.is_some_and(|n| n > MAX_BODY_BYTES) {
                        problems.push(format!("{at}: field `body_bytes` exceeds {MAX_BODY_BYTES}"));
                    }
                    if let Some(sign) = &r.sign {
                        if !is_token(&sign.header) {
                            problems.push(format!(
                                "{at}: field `sign.header`: {:?} is not a header name",
                                sign.header
                            ));
                        }
                        let with_ts = |extra: &'static str| {
                            move |n: &str| n == "timestamp" || n == extra || known(n)
                        };
                        check_placeholders(
                            &sign.secret,
                            &known,
                            &format!("{at}: field `sign.secret`"),
                            problems,
                        );
                        check_placeholders(
                            &sign.payload,
                            &with_ts("body"),
                            &format!("{at}: field `sign.payload`"),
                            problems,
                        );
                        check_placeholders(
                            &sign.value,
                            &with_ts("hmac"),
                            &format!("{at}: field `sign.value`"),
                            problems,
                        );
                    }
                    for s in &r.expect_status {
                        if !(100..=599).contains(s) {
                            problems.push(format!(
                                "{at}: field `expect_status`: {s} is not an HTTP status"
                            ));
                        }
                    }
                    if let Some(ms) = r.within_ms {
                        if ms == 0 || ms > timeout_ms {
                            problems.push(format!(
                                "{at}: field `within_ms` must be 1..={timeout_ms} (the check's limit)"
                            ));
                        }
                    }
                    check_placeholders(&r.path, &known, &format!("{at}: field `path`"), problems);
                    for (h, v) in &r.headers {
                        check_placeholders(v, &known, &format!("{at}: header {h}"), problems);
                    }
                    if let Some(b) = &r.body {
                        check_placeholders(b, &known, &format!("{at}: field `body`"), problems);
                    }
                    for (ptr, v) in &r.expect_json {
                        if !is_pointer(ptr) {
                            problems.push(format!("{at}: field `expect_json`: {ptr:?} is not a JSON pointer (\"/a/b\")"));
                        }
                        check_value_placeholders(
                            v,
                            &known,
                            &format!("{at}: expect_json {ptr}"),
                            problems,
                        );
                    }
                    for (h, v) in &r.expect_header {
                        check_placeholders(
                            v,
                            &known,
                            &format!("{at}: expect_header {h}"),
                            problems,
                        );
                    }
                    if let Some(b) = &r.expect_body_contains {
                        check_placeholders(
                            b,
                            &known,
                            &format!("{at}: field `expect_body_contains`"),
                            problems,
                        );
                    }
                    for (name, ptr) in &r.save {
                        if !is_pointer(ptr) {
                            problems.push(format!(
                                "{at}: field `save.{name}`: {ptr:?} is not a JSON pointer"
                            ));
                        }
                        if !is_name(name) || matches!(name.as_str(), "i" | "run" | "run_dir") {
                            problems.push(format!(
                                "{at}: field `save`: {name:?} cannot be used as a saved name"
                            ));
                        }
                    }
                }
                Step::FakeCalls(f) => match raw.fakes.get(&f.fake) {
                    None => problems.push(format!(
                        "{at}: field `fake`: no fake named {:?} is declared",
                        f.fake
                    )),
                    Some(fake) => {
                        if f.expect_calls.is_none()
                            && f.expect_effects.is_none()
                            && f.max_effects_per_key.is_none()
                            && f.expect_min_calls.is_none()
                            && f.expect_max_calls.is_none()
                        {
                            problems.push(format!(
                                "{at}: expects nothing: add `expect_calls`, `expect_min_calls`, `expect_max_calls`, `expect_effects` or `max_effects_per_key`"
                            ));
                        }
                        if f.within_ms.is_some_and(|ms| ms == 0 || ms > timeout_ms) {
                            problems
                                .push(format!("{at}: field `within_ms` must be 1..={timeout_ms}"));
                        }
                        if f.max_effects_per_key.is_some()
                            && f.key_json.is_none()
                            && fake.idempotency_header.is_none()
                        {
                            problems.push(format!(
                                "{at}: field `max_effects_per_key` needs `key_json` (the fake has no idempotency_header)"
                            ));
                        }
                        if let Some(ptr) = &f.key_json {
                            if !is_pointer(ptr) {
                                problems.push(format!(
                                    "{at}: field `key_json`: {ptr:?} is not a JSON pointer"
                                ));
                            }
                        }
                    }
                },
                Step::Sleep(s) => {
                    if s.ms > timeout_ms {
                        problems.push(format!(
                            "{at}: field `ms` exceeds the check's limit of {timeout_ms} ms"
                        ));
                    }
                }
                Step::Signal(s) => {
                    signalled = true;
                    if signal_number(&s.signal).is_none() {
                        problems.push(format!(
                            "{at}: field `signal`: {:?} is not one of TERM, INT, KILL",
                            s.signal
                        ));
                    }
                    if s.expect_exit_within_ms == 0 || s.expect_exit_within_ms > timeout_ms {
                        problems.push(format!(
                            "{at}: field `expect_exit_within_ms` must be 1..={timeout_ms}"
                        ));
                    }
                }
                Step::Metric(m) => {
                    if m.name.is_empty() {
                        problems.push(format!("{at}: field `name` is empty"));
                    }
                    if !m.path.starts_with('/') {
                        problems.push(format!("{at}: field `path` must start with `/`"));
                    }
                    if m.expect.is_none() && m.expect_min.is_none() && m.expect_max.is_none() {
                        problems.push(format!(
                            "{at}: expects nothing: add `expect`, `expect_min` or `expect_max`"
                        ));
                    }
                    if m.within_ms.is_some_and(|ms| ms == 0 || ms > timeout_ms) {
                        problems.push(format!("{at}: field `within_ms` must be 1..={timeout_ms}"));
                    }
                }
                Step::Process(p) => {
                    if p.expect_rss_max_mb.is_none()
                        && p.expect_peak_rss_max_mb.is_none()
                        && p.expect_fds_max.is_none()
                    {
                        problems.push(format!(
                            "{at}: expects nothing: add `expect_rss_max_mb`, `expect_peak_rss_max_mb` or `expect_fds_max`"
                        ));
                    }
                }
                Step::Restart(r) => {
                    signalled = false;
                    if !matches!(r.signal.as_str(), "KILL" | "TERM") {
                        problems.push(format!(
                            "{at}: field `signal`: {:?} is not KILL or TERM",
                            r.signal
                        ));
                    }
                }
                Step::Log(l) => {
                    if l.expect_msg.is_empty() {
                        problems.push(format!("{at}: field `expect_msg` is empty"));
                    }
                    for (k, v) in &l.expect_fields {
                        check_value_placeholders(
                            v,
                            &known,
                            &format!("{at}: expect_fields {k}"),
                            problems,
                        );
                    }
                }
            }
            if let Step::Request(r) = &step {
                saved.extend(r.save.keys().cloned());
            }
            steps.push(step);
        }
        checks.push(Check {
            name: rc.name,
            summary: rc.summary,
            env: rc.env,
            timeout: Duration::from_millis(timeout_ms),
            faults,
            steps,
        });
    }
    Suite {
        path: _path.to_path_buf(),
        service: raw.service,
        fakes: raw.fakes,
        checks,
    }
}

fn check_placeholders(s: &str, known: &dyn Fn(&str) -> bool, at: &str, problems: &mut Vec<String>) {
    for name in template::placeholders(s) {
        if !known(name) {
            problems.push(format!("{at}: unknown placeholder {{{name}}}"));
        }
    }
}

fn check_value_placeholders(
    v: &toml::Value,
    known: &dyn Fn(&str) -> bool,
    at: &str,
    problems: &mut Vec<String>,
) {
    match v {
        toml::Value::String(s) => check_placeholders(s, known, at, problems),
        toml::Value::Array(a) => a
            .iter()
            .for_each(|v| check_value_placeholders(v, known, at, problems)),
        toml::Value::Table(t) => t
            .values()
            .for_each(|v| check_value_placeholders(v, known, at, problems)),
        _ => {}
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An HTTP token (method or header name).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_pointer(s: &str) -> bool {
    s.is_empty() || s.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"
format_version = 1
[service]
ready = { msg = "listening", addr_field = "addr" }
[service.env]
PROVIDER_URL = "{fake.provider.url}"
DB_PATH = "{run_dir}/db"
[fakes.provider]
idempotency_header = "Idempotency-Key"
[[fakes.provider.routes]]
method = "POST"
path = "/v1/charges"
body = '{"id":"pch_{effect}"}'
"#;

    fn parse(checks: &str) -> Result<Suite, SuiteError> {
        Suite::parse(
            &format!("{HEAD}\n{checks}"),
            Path::new("scen/acceptance.toml"),
        )
    }

    fn problems(checks: &str) -> String {
        match parse(checks) {
            Ok(_) => panic!("suite accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_valid_suite_loads_with_its_checks_in_order() {
        let suite = parse(
            r#"
[[checks]]
name = "b_second"
faults = [{ fake = "provider", calls = "2-", kind = "latency", delay_ms = 10, jitter_ms = 2 }]
[[checks.steps]]
do = "request"
method = "POST"
path = "/v1/charges"
headers = { "Idempotency-Key" = "k-{run}-{i}" }
body = '{"account":"a{i}"}'
concurrency = 3
expect_status = [201]
save = { charge_id = "/id" }
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/charges/{charge_id}"
expect_json = { "/id" = "{charge_id}", "/amount_cents" = 5 }
[[checks.steps]]
do = "fake_calls"
fake = "provider"
expect_effects = 3
max_effects_per_key = 1
[[checks]]
name = "a_first"
[[checks.steps]]
do = "signal"
signal = "TERM"
expect_exit_code = 0
[[checks.steps]]
do = "log"
expect_msg = "stopped"
"#,
        )
        .unwrap();
        assert_eq!(suite.check_names(), vec!["b_second", "a_first"]);
        assert!(suite.has_check("a_first") && !suite.has_check("nope"));
        assert_eq!(suite.check_faults("b_second").unwrap().len(), 1);
    }

    #[test]
    fn unknown_fault_kind_names_file_check_and_field() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
faults = [{ fake = "provider", calls = "all", kind = "explode" }]
[[checks.steps]]
do = "sleep"
ms = 1
"#,
        );
        assert!(msg.contains("scen/acceptance.toml"), "{msg}");
        assert!(
            msg.contains(r#"check "c1", faults[1]: field `kind`: unknown fault kind "explode""#),
            "{msg}"
        );
    }

    #[test]
    fn a_step_on_an_undeclared_fake_is_rejected() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "fake_calls"
fake = "mailer"
expect_calls = 0
"#,
        );
        assert!(
            msg.contains(
                r#"check "c1", step 1 (fake_calls): field `fake`: no fake named "mailer""#
            ),
            "{msg}"
        );
    }

    #[test]
    fn bad_calls_selector_and_undeclared_fault_fake_are_both_reported() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
faults = [
  { fake = "provider", calls = "0", kind = "hang" },
  { fake = "ghost", calls = "1", kind = "hang" },
]
[[checks.steps]]
do = "sleep"
ms = 1
"#,
        );
        assert!(
            msg.contains("faults[1]: field `calls`: bad calls selector \"0\""),
            "{msg}"
        );
        assert!(
            msg.contains("faults[2]: field `fake`: no fake named \"ghost\""),
            "{msg}"
        );
        assert!(msg.contains("2 problem(s)"), "{msg}");
    }

    #[test]
    fn unknown_step_fields_and_kinds_are_rejected() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "GET"
path = "/healthz"
expect_stauts = [200]
[[checks.steps]]
do = "teleport"
"#,
        );
        assert!(
            msg.contains("check \"c1\", step 1: unknown field `expect_stauts`"),
            "{msg}"
        );
        assert!(
            msg.contains("check \"c1\", step 2: unknown variant `teleport`"),
            "{msg}"
        );
    }

    #[test]
    fn placeholders_must_be_defined_before_use() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/charges/{charge_id}"
[[checks.steps]]
do = "request"
method = "POST"
path = "/v1/charges"
save = { charge_id = "/id" }
"#,
        );
        assert!(
            msg.contains("step 1 (request): field `path`: unknown placeholder {charge_id}"),
            "{msg}"
        );
        assert!(!msg.contains("step 2"), "{msg}");
    }

    #[test]
    fn requests_after_a_signal_and_duplicate_names_are_rejected() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "signal"
signal = "HUP"
[[checks.steps]]
do = "request"
method = "GET"
path = "/healthz"
[[checks]]
name = "c1"
[[checks.steps]]
do = "sleep"
ms = 1
"#,
        );
        assert!(
            msg.contains("field `signal`: \"HUP\" is not one of TERM, INT, KILL"),
            "{msg}"
        );
        assert!(
            msg.contains("step 2 (request): the service was already stopped"),
            "{msg}"
        );
        assert!(
            msg.contains("check \"c1\": a check with this name is already defined"),
            "{msg}"
        );
    }

    #[test]
    fn worker_and_proxy_steps_parse_and_a_restart_reopens_the_service() {
        parse(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "POST"
path = "/v1/charges"
count = 50
concurrency = 5
body_bytes = 2048
expect_body_bytes = 0
sign = { header = "X-Sig", secret = "s", payload = "{timestamp}.{body}", value = "t={timestamp},v1={hmac}" }
[[checks.steps]]
do = "fake_calls"
fake = "provider"
expect_min_calls = 1
within_ms = 500
[[checks.steps]]
do = "metric"
name = 'ledger_http_requests_total{route="/v1/charges",status="201"}'
expect_min = 1
[[checks.steps]]
do = "process"
expect_rss_max_mb = 200
[[checks.steps]]
do = "signal"
signal = "TERM"
[[checks.steps]]
do = "restart"
[[checks.steps]]
do = "request"
method = "GET"
path = "/healthz"
"#,
        )
        .unwrap();
    }

    #[test]
    fn conflicting_and_empty_new_fields_are_rejected() {
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "POST"
path = "/x"
body = "{}"
body_bytes = 10
sign = { header = "X-Sig", secret = "s", payload = "{hmac}", value = "{body}" }
[[checks.steps]]
do = "metric"
name = "m"
[[checks.steps]]
do = "restart"
signal = "INT"
"#,
        );
        assert!(
            msg.contains("`body` and `body_bytes` exclude each other"),
            "{msg}"
        );
        assert!(
            msg.contains("field `sign.payload`: unknown placeholder {hmac}"),
            "{msg}"
        );
        assert!(
            msg.contains("field `sign.value`: unknown placeholder {body}"),
            "{msg}"
        );
        assert!(msg.contains("step 2 (metric): expects nothing"), "{msg}");
        assert!(
            msg.contains("step 3 (restart): field `signal`: \"INT\" is not KILL or TERM"),
            "{msg}"
        );
    }

    #[test]
    fn toml_shape_errors_carry_the_location() {
        let err = Suite::parse(
            "format_version = 1\n[service]\nready = 3\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml: "), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn the_billing_ledger_suite_is_valid() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/billing-ledger/acceptance.toml");
        if path.exists() {
            let suite = Suite::load(&path).unwrap();
            assert!(suite.has_check("late_provider_answer_charges_once"));
        }
    }
}
