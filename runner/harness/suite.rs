//! `acceptance.toml`: the suite's types, loading and validation.
//!
//! Loading is two-stage: serde checks the shape (unknown keys are errors),
//! then validation checks what serde cannot (a step naming an undeclared
//! fake, a placeholder nothing defines, a bad `calls` selector...) and reports
//! every problem at once, each naming the check, the step and the field.
//! The service, the fakes and the checks are validated here; each step kind
//! validates its own fields (`steps/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use super::env::ServiceSpec;
use super::fake::{FakeSpec, MAX_BODY_BYTES};
use super::faults::{FaultRule, RawFault};
use super::loopback;
use super::steps::{Step, StepCx};
use super::validate::{check_placeholders, is_name, is_token};

pub const FORMAT_VERSION: u32 = 1;
/// The hard limit of a whole check without `timeout_ms`.
pub const DEFAULT_CHECK_LIMIT_MS: u64 = 30_000;

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

/// The names a service or check `env` value may use.
struct EnvNames {
    fake_urls: BTreeSet<String>,
}

impl EnvNames {
    fn known(&self, name: &str) -> bool {
        name == "run_dir" || name == "run" || self.fake_urls.contains(name)
    }
}

fn validate(raw: RawSuite, path: &Path, problems: &mut Vec<String>) -> Suite {
    if raw.format_version != FORMAT_VERSION {
        problems.push(format!(
            "field `format_version`: {} is not supported (this drill reads version {FORMAT_VERSION})",
            raw.format_version
        ));
    }
    let names = EnvNames {
        fake_urls: raw.fakes.keys().map(|f| format!("fake.{f}.url")).collect(),
    };
    validate_service(&raw.service, &names, problems);
    validate_fakes(&raw.fakes, problems);
    if raw.checks.is_empty() {
        problems.push("no [[checks]]: a suite needs at least one".into());
    }
    let mut seen = BTreeSet::new();
    let checks = raw
        .checks
        .into_iter()
        .enumerate()
        .map(|(ci, rc)| validate_check(rc, ci, &raw.fakes, &names, &mut seen, problems))
        .collect();
    Suite {
        path: path.to_path_buf(),
        service: raw.service,
        fakes: raw.fakes,
        checks,
    }
}

fn validate_service(service: &ServiceSpec, names: &EnvNames, problems: &mut Vec<String>) {
    if service.startup_timeout_ms == 0 {
        problems.push("service: field `startup_timeout_ms` must be positive".into());
    }
    if service.ready.msg.is_empty() || service.ready.addr_field.is_empty() {
        problems.push("service: field `ready` needs a non-empty `msg` and `addr_field`".into());
    }
    for (key, value) in &service.env {
        let at = format!("service.env.{key}");
        check_placeholders(value, &|n| names.known(n), &at, problems);
        check_listen(key, value, &at, problems);
    }
    for (path, content) in &service.files {
        let at = format!("service.files.{path}");
        check_placeholders(content, &|n| names.known(n), &at, problems);
        if let Some(why) = crate::harness::validate::run_file_path_problem(path) {
            problems.push(format!("{at}: {why}"));
        }
    }
}

fn validate_fakes(fakes: &BTreeMap<String, FakeSpec>, problems: &mut Vec<String>) {
    for (name, fake) in fakes {
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
}

/// One `[[checks]]`: its name, limit and env, its fault rules, then its steps
/// in order (what each may use depends on the steps before it).
fn validate_check(
    rc: RawCheck,
    ci: usize,
    fakes: &BTreeMap<String, FakeSpec>,
    names: &EnvNames,
    seen: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) -> Check {
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
        let at = format!("{label}: env.{key}");
        check_placeholders(value, &|n| names.known(n), &at, problems);
        check_listen(key, value, &at, problems);
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
                if !fakes.contains_key(&rule.fake) {
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
    let steps = validate_steps(rc.steps, &label, timeout_ms, fakes, names, problems);
    Check {
        name: rc.name,
        summary: rc.summary,
        env: rc.env,
        timeout: Duration::from_millis(timeout_ms),
        faults,
        steps,
    }
}

/// A check's steps in order: each parsed by its kind and validated by it,
/// with the placeholders defined so far and the service's state (a step that
/// needs the service cannot follow one that stopped it, unless a restart came
/// between).
fn validate_steps(
    raw: Vec<toml::Value>,
    label: &str,
    timeout_ms: u64,
    fakes: &BTreeMap<String, FakeSpec>,
    names: &EnvNames,
    problems: &mut Vec<String>,
) -> Vec<Step> {
    let mut saved: BTreeSet<String> = BTreeSet::new();
    let mut running = true;
    let mut steps = Vec::new();
    for (si, value) in raw.into_iter().enumerate() {
        let step = match Step::parse(value) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{label}, step {}: {e}", si + 1));
                continue;
            }
        };
        let at = format!("{label}, step {} ({})", si + 1, step.kind());
        if !running && step.needs_service() {
            problems.push(format!(
                "{at}: the service was already stopped by an earlier signal step (add a restart step)"
            ));
        }
        let known = |n: &str| n == "i" || names.known(n) || saved.contains(n);
        step.validate(&mut StepCx {
            at,
            timeout_ms,
            fakes,
            known: &known,
            problems,
        });
        if let Some(after) = step.service_after() {
            running = after;
        }
        saved.extend(step.saves());
        steps.push(step);
    }
    steps
}

fn check_listen(key: &str, value: &str, at: &str, problems: &mut Vec<String>) {
    if let Some(instead) = loopback::non_loopback_listen(key, value) {
        problems.push(format!(
            "{at}: {value:?} would make the service reachable from other machines; the kit runs services on loopback only: write {instead:?}"
        ));
    }
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
    fn hang_up_after_ms_loads_alone_and_excludes_within_ms_and_save() {
        parse(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/charges"
concurrency = 4
hang_up_after_ms = 200
"#,
        )
        .unwrap();
        let msg = problems(
            r#"
[[checks]]
name = "c1"
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/charges"
hang_up_after_ms = 200
within_ms = 1000
save = { id = "/id" }
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/charges"
hang_up_after_ms = 0
"#,
        );
        assert!(
            msg.contains("step 1 (request): `hang_up_after_ms` and `within_ms` exclude each other"),
            "{msg}"
        );
        assert!(
            msg.contains("step 1 (request): `hang_up_after_ms` and `save` exclude each other"),
            "{msg}"
        );
        assert!(
            msg.contains("step 2 (request): field `hang_up_after_ms` must be 1..=30000"),
            "{msg}"
        );
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
            msg.contains("check \"c1\", step 2: field `do`: unknown step kind `teleport`, expected one of `request`, `fake_calls`, `sleep`, `signal`, `log`, `metric`, `process`, `restart`"),
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
        let steps = r#"
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
"#;
        let suite = parse(&format!("[[checks]]\nname = \"c1\"\n{steps}")).unwrap();
        let kinds: Vec<&str> = suite
            .check("c1")
            .unwrap()
            .steps
            .iter()
            .map(|s| s.kind())
            .collect();
        assert_eq!(
            kinds,
            [
                "request",
                "fake_calls",
                "metric",
                "process",
                "signal",
                "restart",
                "request"
            ]
        );
        // The same steps without the restart: the last request would reach a
        // service the signal step stopped.
        let without = steps.replace("[[checks.steps]]\ndo = \"restart\"\n", "");
        assert_ne!(without, steps);
        let msg = problems(&format!("[[checks]]\nname = \"c1\"\n{without}"));
        assert!(msg.contains("1 problem(s)"), "{msg}");
        assert!(
            msg.contains("check \"c1\", step 6 (request): the service was already stopped by an earlier signal step (add a restart step)"),
            "{msg}"
        );
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
    fn a_listen_address_beyond_loopback_is_refused_naming_the_field_and_the_fix() {
        let text = HEAD.replace(
            "[service.env]\n",
            "[service.env]\nLISTEN_ADDR = \"0.0.0.0:0\"\n",
        );
        let checks = r#"
[[checks]]
name = "c1"
env = { BIND = ":8080" }
[[checks.steps]]
do = "sleep"
ms = 1
"#;
        let msg = Suite::parse(
            &format!("{text}\n{checks}"),
            Path::new("scen/acceptance.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.starts_with("scen/acceptance.toml: 2 problem(s)"),
            "{msg}"
        );
        assert!(
            msg.contains(r#"service.env.LISTEN_ADDR: "0.0.0.0:0" would make the service reachable from other machines; the kit runs services on loopback only: write "127.0.0.1:0""#),
            "{msg}"
        );
        assert!(
            msg.contains(r#"check "c1": env.BIND: ":8080" would make the service reachable from other machines; the kit runs services on loopback only: write "127.0.0.1:8080""#),
            "{msg}"
        );
    }

    #[test]
    fn service_files_and_write_file_steps_are_checked_at_load() {
        let head = "format_version = 1\n[service]\nready = { msg = \"listening\", addr_field = \"addr\" }\n";
        let ok = format!(
            "{head}[service.files]\n\"conf/rules.json\" = '{{\"dir\":\"{{run_dir}}\"}}'\n\
             [[checks]]\nname = \"c1\"\n[[checks.steps]]\ndo = \"write_file\"\npath = \"conf/rules.json\"\ncontent = \"[]\"\n"
        );
        Suite::parse(&ok, Path::new("x.toml")).unwrap();
        let bad = format!(
            "{head}[service.files]\n\"../up\" = \"{{nope}}\"\n\
             [[checks]]\nname = \"c1\"\n[[checks.steps]]\ndo = \"write_file\"\npath = \"/abs\"\ncontent = \"{{also_nope}}\"\n"
        );
        let msg = Suite::parse(&bad, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("service.files.../up: unknown placeholder {nope}"),
            "{msg}"
        );
        assert!(
            msg.contains("service.files.../up: a file path may only hold plain names"),
            "{msg}"
        );
        assert!(
            msg.contains("step 1 (write_file): field `path`: a file path must be relative"),
            "{msg}"
        );
        assert!(
            msg.contains("field `content`: unknown placeholder {also_nope}"),
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
