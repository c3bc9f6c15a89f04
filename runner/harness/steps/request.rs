//! `do = "request"`: send one request, or `count` of them `concurrency` at a
//! time, and judge every response (status, JSON, headers, body); optionally
//! sign each one (HMAC-SHA256, webhook style) and save values of the first
//! response for later steps.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::task::JoinSet;

use super::{StepCx, StepFuture, StepKind, Vars, DEFAULT_STEP_LIMIT_MS};
use crate::harness::client::{self, Response};
use crate::harness::env::{clip, Env};
use crate::harness::fake::{generated_body, MAX_BODY_BYTES};
use crate::harness::json_match::{json_eq, toml_to_json};
use crate::harness::signature::hmac_sha256_hex;
use crate::harness::template;
use crate::harness::validate::{check_placeholders, is_name, is_pointer, is_token};

const MAX_CONCURRENCY: u32 = 1000;
const MAX_COUNT: u32 = 100_000;

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
    /// The client hangs up on a request still unanswered after this many ms
    /// (a caller that gave up); such a request is not judged.
    pub hang_up_after_ms: Option<u64>,
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

impl StepKind for RequestStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        let r = self;
        let timeout_ms = cx.timeout_ms;
        if !is_token(&r.method) {
            cx.problem(format!(
                "field `method`: {:?} is not an HTTP method",
                r.method
            ));
        }
        if !r.path.starts_with('/') {
            cx.problem("field `path` must start with `/`");
        }
        if !(1..=MAX_CONCURRENCY).contains(&r.concurrency) {
            cx.problem(format!("field `concurrency` must be 1..={MAX_CONCURRENCY}"));
        }
        if r.count.is_some_and(|c| !(1..=MAX_COUNT).contains(&c)) {
            cx.problem(format!("field `count` must be 1..={MAX_COUNT}"));
        }
        if r.body.is_some() && r.body_bytes.is_some() {
            cx.problem("`body` and `body_bytes` exclude each other");
        }
        if r.body_bytes.is_some_and(|n| n > MAX_BODY_BYTES) {
            cx.problem(format!("field `body_bytes` exceeds {MAX_BODY_BYTES}"));
        }
        if let Some(sign) = &r.sign {
            let problems = sign.problems(cx.known, &format!("{}: ", cx.at));
            cx.problems.extend(problems);
        }
        for s in &r.expect_status {
            if !(100..=599).contains(s) {
                cx.problem(format!("field `expect_status`: {s} is not an HTTP status"));
            }
        }
        if r.within_ms.is_some_and(|ms| ms == 0 || ms > timeout_ms) {
            cx.problem(format!(
                "field `within_ms` must be 1..={timeout_ms} (the check's limit)"
            ));
        }
        if let Some(ms) = r.hang_up_after_ms {
            if ms == 0 || ms > timeout_ms {
                cx.problem(format!(
                    "field `hang_up_after_ms` must be 1..={timeout_ms} (the check's limit)"
                ));
            }
            if r.within_ms.is_some() {
                cx.problem(
                    "`hang_up_after_ms` and `within_ms` exclude each other (a request unanswered by `hang_up_after_ms` is given up, not failed)",
                );
            }
            if !r.save.is_empty() {
                cx.problem("`hang_up_after_ms` and `save` exclude each other (a given-up request has no value to save)");
            }
        }
        cx.placeholders(&r.path, "field `path`");
        for (h, v) in &r.headers {
            cx.placeholders(v, &format!("header {h}"));
        }
        if let Some(b) = &r.body {
            cx.placeholders(b, "field `body`");
        }
        for (ptr, v) in &r.expect_json {
            if !is_pointer(ptr) {
                cx.problem(format!(
                    "field `expect_json`: {ptr:?} is not a JSON pointer (\"/a/b\")"
                ));
            }
            cx.value_placeholders(v, &format!("expect_json {ptr}"));
        }
        for (h, v) in &r.expect_header {
            cx.placeholders(v, &format!("expect_header {h}"));
        }
        if let Some(b) = &r.expect_body_contains {
            cx.placeholders(b, "field `expect_body_contains`");
        }
        for (name, ptr) in &r.save {
            if !is_pointer(ptr) {
                cx.problem(format!(
                    "field `save.{name}`: {ptr:?} is not a JSON pointer"
                ));
            }
            if !is_name(name) || matches!(name.as_str(), "i" | "run" | "run_dir") {
                cx.problem(format!(
                    "field `save`: {name:?} cannot be used as a saved name"
                ));
            }
        }
    }

    fn describe(&self, vars: &Vars) -> String {
        let path = template::render(&self.path, |k| vars.get(k).cloned())
            .unwrap_or_else(|_| self.path.clone());
        let times = if self.total() > 1 {
            format!(" ×{}", self.total())
        } else {
            String::new()
        };
        format!("{} {path}{times}", self.method)
    }

    fn run<'a>(&'a self, env: &'a mut Env, vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(run(self, env, vars))
    }

    fn needs_service(&self) -> bool {
        true
    }

    fn saves(&self) -> Vec<String> {
        self.save.keys().cloned().collect()
    }
}

/// One prepared request: its templates filled, its body made, signed.
pub(crate) struct Prepared {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// The templated parts of a request (a step's, or one of a bench mix).
pub(crate) struct RequestTemplate<'a> {
    pub path: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub body: Option<&'a str>,
    pub body_bytes: Option<usize>,
    pub sign: Option<&'a SignSpec>,
}

fn prepare(r: &RequestStep, i: usize, vars: &Vars) -> Result<Prepared, String> {
    let lookup = |k: &str| {
        if k == "i" {
            Some(i.to_string())
        } else {
            vars.get(k).cloned()
        }
    };
    RequestTemplate {
        path: &r.path,
        headers: &r.headers,
        body: r.body.as_deref(),
        body_bytes: r.body_bytes,
        sign: r.sign.as_ref(),
    }
    .prepare(&lookup)
}

impl RequestTemplate<'_> {
    /// Fills every template with `lookup`, makes the body and signs it.
    pub(crate) fn prepare(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Prepared, String> {
        let path = template::render(self.path, lookup)?;
        let mut headers = self
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), template::render(v, lookup)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let body: Option<Vec<u8>> = match (self.body, self.body_bytes) {
            (Some(b), _) => Some(template::render(b, lookup)?.into_bytes()),
            (None, Some(n)) => Some(generated_body(n)),
            (None, None) => None,
        };
        if let Some(sign) = self.sign {
            headers.push(sign.header_for(body.as_deref().unwrap_or_default(), lookup)?);
        }
        Ok(Prepared {
            path,
            headers,
            body,
        })
    }
}

impl SignSpec {
    /// The signature header of `body`, signed now (plus `timestamp_offset_s`).
    fn header_for(
        &self,
        body: &[u8],
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, String), String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let timestamp = (now + self.timestamp_offset_s).to_string();
        let body_text = String::from_utf8_lossy(body).into_owned();
        let payload = template::render(&self.payload, |k| match k {
            "timestamp" => Some(timestamp.clone()),
            "body" => Some(body_text.clone()),
            _ => lookup(k),
        })?;
        let secret = template::render(&self.secret, lookup)?;
        let mac = hmac_sha256_hex(secret.as_bytes(), payload.as_bytes());
        let value = template::render(&self.value, |k| match k {
            "timestamp" => Some(timestamp.clone()),
            "hmac" => Some(mac.clone()),
            _ => lookup(k),
        })?;
        Ok((self.header.clone(), value))
    }

    /// Problems of the signing fields; `known` says which placeholders the
    /// secret may use (the payload adds `timestamp` and `body`, the value
    /// `timestamp` and `hmac`).
    pub(crate) fn problems(&self, known: &dyn Fn(&str) -> bool, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_token(&self.header) {
            problems.push(format!(
                "{at}field `sign.header`: {:?} is not a header name",
                self.header
            ));
        }
        let with = |extra: [&'static str; 2]| move |n: &str| extra.contains(&n) || known(n);
        check_placeholders(
            &self.secret,
            known,
            &format!("{at}field `sign.secret`"),
            &mut problems,
        );
        check_placeholders(
            &self.payload,
            &with(["timestamp", "body"]),
            &format!("{at}field `sign.payload`"),
            &mut problems,
        );
        check_placeholders(
            &self.value,
            &with(["timestamp", "hmac"]),
            &format!("{at}field `sign.value`"),
            &mut problems,
        );
        problems
    }
}

async fn run(r: &RequestStep, env: &Env, vars: &mut Vars) -> Result<(), String> {
    let limit_ms = r
        .hang_up_after_ms
        .or(r.within_ms)
        .unwrap_or(DEFAULT_STEP_LIMIT_MS);
    let hangs_up = r.hang_up_after_ms.is_some();
    let limit = Duration::from_millis(limit_ms);
    let n = r.total() as usize;
    let gate = Arc::new(tokio::sync::Semaphore::new(r.concurrency as usize));
    let mut set = JoinSet::new();
    for i in 0..n {
        let p = prepare(r, i, vars)?;
        let (addr, method, gate) = (env.addr(), r.method.clone(), gate.clone());
        set.spawn(async move {
            // The permit bounds how many are in flight; `within_ms` counts
            // from the moment this request is actually sent.
            let _permit = gate.acquire_owned().await;
            let call = client::send(addr, &method, &p.path, &p.headers, p.body.as_deref());
            (i, tokio::time::timeout(limit, call).await)
        });
    }
    // A request the client hung up on stays `None`: nobody judges it.
    let mut results: Vec<Option<Result<Response, String>>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| format!("request task failed: {e}"))?;
        results[i] = match r {
            Ok(Ok(resp)) => Some(Ok(resp)),
            Ok(Err(e)) => Some(Err(e.reason())),
            Err(_) if hangs_up => None,
            Err(_) => Some(Err(format!("no response within {limit_ms} ms"))),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_requests_carry_an_hmac_of_the_rendered_payload() {
        let r: RequestStep = toml::from_str(
            r#"
method = "POST"
path = "/hook/{i}"
body = '{"n":{i}}'
sign = { header = "X-Sig", secret = "s3cret", payload = "{timestamp}.{body}", value = "t={timestamp},v1={hmac}", timestamp_offset_s = -600 }
"#,
        )
        .unwrap();
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
        let want = hmac_sha256_hex(b"s3cret", format!("{t}.{{\"n\":2}}").as_bytes());
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
}
