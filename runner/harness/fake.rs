//! A fake HTTP dependency: a tiny HTTP/1.1 server on `127.0.0.1:0` that
//! answers from its routes, applies the check's faults call by call, and
//! records every call.
//!
//! Each connection carries one request and is closed after the answer
//! (`Connection: close`). That keeps "call N" meaning "the N-th request the
//! service sent", and stops HTTP clients (Go's Transport retries requests
//! carrying an `Idempotency-Key` on a reused connection) from silently
//! re-sending a request the fake reset.
//!
//! On a raw socket rather than an HTTP server library because the faults act
//! on the connection itself: a TCP reset at a chosen moment (SO_LINGER 0), a
//! head followed by a body trickled in timed pieces, a socket held open with
//! no answer. A server library owns the socket and the write timing and hides
//! these. The request is read with `httparse` (`wire.rs`); the answer is a
//! status line, headers and a Content-Length body, written here.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::faults::{self, FaultKind, FaultRule};
use super::template;
use super::wire;

/// Pieces a `slow_body` answer is cut into.
const SLOW_BODY_PIECES: u64 = 10;

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

/// Generated bodies (`body_bytes` of routes and requests) are capped so a
/// typo cannot eat the memory.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// `n` bytes of printable filler: deterministic, and valid in any text field
/// (`body_bytes` of routes and of request steps).
pub(crate) fn generated_body(n: usize) -> Vec<u8> {
    // Repeat, not a per-byte loop: four 16 MiB bodies at once must not eat
    // a deadline of the service under test, even in a debug build.
    let mut body = b"abcdefghijklmnopqrstuvwxyz".repeat(n.div_ceil(26));
    body.truncate(n);
    body
}

/// One request received by a fake.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// 1-based arrival order: the number fault selectors use.
    pub index: u64,
    pub method: String,
    /// The request target as sent, query included.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The value of the fake's idempotency header, if it has one and it was sent.
    pub key: Option<String>,
    /// The fault kind applied to this call, if any.
    pub fault: Option<String>,
    /// The effect this call made (1-based, in the order effects happened).
    pub effect: Option<u64>,
    /// Answered from the idempotency store: no new effect.
    pub replayed: bool,
    /// The status answered; `None` for a hang or a reset.
    pub status: Option<u16>,
    /// Milliseconds since the fake started.
    pub at_ms: u64,
}

/// Counts over a fake's calls.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FakeSummary {
    pub calls: u64,
    pub effects: u64,
    pub faulted: u64,
    pub replayed: u64,
    /// Effects per idempotency key (calls without a key are not listed).
    pub effects_by_key: BTreeMap<String, u64>,
}

impl FakeSummary {
    pub fn of(calls: &[CallRecord]) -> FakeSummary {
        let mut s = FakeSummary::default();
        for c in calls {
            s.calls += 1;
            s.faulted += u64::from(c.fault.is_some());
            s.replayed += u64::from(c.replayed);
            if c.effect.is_some() {
                s.effects += 1;
                if let Some(k) = &c.key {
                    *s.effects_by_key.entry(k.clone()).or_default() += 1;
                }
            }
        }
        s
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Default)]
struct State {
    calls: Vec<CallRecord>,
    effects: u64,
    /// Answers of completed effects, by idempotency key.
    answers: HashMap<String, Answer>,
    /// Rules turned on while running ([`FakeServer::arm`]), each with the
    /// number of calls that had arrived when it was: its selector counts
    /// from the first call after that.
    armed: Vec<(FaultRule, u64)>,
}

struct Shared {
    name: String,
    spec: FakeSpec,
    faults: Vec<FaultRule>,
    seed: u64,
    started: Instant,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection task must not take the records down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake. Dropping it closes the listener and every open connection.
pub struct FakeServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and starts serving. `faults` may hold rules for
    /// other fakes; only this fake's are used.
    pub(crate) async fn start(
        name: &str,
        spec: &FakeSpec,
        faults: &[FaultRule],
        seed: u64,
    ) -> io::Result<FakeServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            name: name.to_string(),
            spec: spec.clone(),
            faults: faults.iter().filter(|r| r.fake == name).cloned().collect(),
            seed,
            started: Instant::now(),
            state: Mutex::new(State::default()),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(FakeServer { shared, addr, task })
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.lock().calls.clone()
    }

    pub fn summary(&self) -> FakeSummary {
        FakeSummary::of(&self.shared.lock().calls)
    }

    /// Turns `rules` (this fake's among them) on from the next call, ahead
    /// of the rules it started with: a fault that begins while the service
    /// runs (a game day's inject). Selectors count from the next call: `1-`
    /// is every call from now on.
    pub fn arm(&self, rules: &[FaultRule]) {
        let mut st = self.shared.lock();
        let base = st.calls.len() as u64;
        let mut armed: Vec<(FaultRule, u64)> = rules
            .iter()
            .filter(|r| r.fake == self.shared.name)
            .map(|r| (r.clone(), base))
            .collect();
        armed.append(&mut st.armed);
        st.armed = armed;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task (hung calls included) and closes their sockets.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                conns.spawn(serve(stream, shared.clone()));
            }
            // EMFILE and friends: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(Some(request)) = wire::read_request(&mut stream).await else {
        return;
    };
    let wire::Request {
        method,
        path,
        headers,
        body,
    } = request;

    // Arrival: number the call, pick its fault and record it atomically, so
    // the numbering is the order the records appear in.
    let (index, fault) = {
        let mut st = shared.lock();
        let index = st.calls.len() as u64 + 1;
        let fault = st
            .armed
            .iter()
            .find(|(r, base)| index > *base && r.calls.matches(index - base))
            .map(|(r, _)| r)
            .or_else(|| faults::select(&shared.faults, &shared.name, index))
            .map(|r| r.kind.clone());
        let key = shared
            .spec
            .idempotency_header
            .as_deref()
            .and_then(|h| wire::header(&headers, h))
            .map(str::to_string);
        st.calls.push(CallRecord {
            index,
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            key,
            fault: fault.as_ref().map(|k| k.name().to_string()),
            effect: None,
            replayed: false,
            status: None,
            at_ms: shared.started.elapsed().as_millis() as u64,
        });
        (index, fault)
    };

    match fault {
        None => {
            let answer = handle(&shared, index, &body);
            let _ = write_answer(&mut stream, &answer, None).await;
        }
        Some(FaultKind::Latency {
            delay_ms,
            jitter_ms,
        }) => {
            let delay =
                faults::latency_delay(shared.seed, &shared.name, index, delay_ms, jitter_ms);
            tokio::time::sleep(delay).await;
            let answer = handle(&shared, index, &body);
            let _ = write_answer(&mut stream, &answer, None).await;
        }
        Some(FaultKind::Hang) => {
            // Hold the connection until the caller gives up; dropping the fake
            // ends it otherwise.
            let mut buf = [0u8; 1024];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Some(FaultKind::RespondLate { delay_ms }) => {
            let answer = handle(&shared, index, &body);
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = write_answer(&mut stream, &answer, None).await;
        }
        Some(FaultKind::ResetBefore) => reset(&mut stream),
        Some(FaultKind::ResetAfter) => {
            handle(&shared, index, &body);
            set_status(&shared, index, None);
            reset(&mut stream);
        }
        Some(FaultKind::Status { status }) => {
            let answer = Answer {
                status,
                headers: Vec::new(),
                body: br#"{"error":"injected fault"}"#.to_vec(),
            };
            set_status(&shared, index, Some(status));
            let _ = write_answer(&mut stream, &answer, None).await;
        }
        Some(FaultKind::SlowBody { delay_ms }) => {
            let answer = handle(&shared, index, &body);
            let _ = write_answer(&mut stream, &answer, Some(Duration::from_millis(delay_ms))).await;
        }
    }
}

/// Runs the call through the routes and the idempotency store, making an
/// effect if it is new and successful. Records the outcome on the call.
fn handle(shared: &Shared, index: u64, request_body: &[u8]) -> Answer {
    let mut st = shared.lock();
    let pos = (index - 1) as usize;
    let (method, path, key) = {
        let c = &st.calls[pos];
        (c.method.clone(), c.path.clone(), c.key.clone())
    };
    let route_path = path.split('?').next().unwrap_or("");
    let route = shared
        .spec
        .routes
        .iter()
        .find(|r| r.method == method && r.path == route_path);
    let Some(route) = route else {
        st.calls[pos].status = Some(404);
        return Answer {
            status: 404,
            headers: Vec::new(),
            body: br#"{"error":"no route in fake"}"#.to_vec(),
        };
    };
    if let Some(stored) = key.as_ref().and_then(|k| st.answers.get(k)).cloned() {
        let c = &mut st.calls[pos];
        c.replayed = true;
        c.status = Some(stored.status);
        return stored;
    }
    let success = (200..300).contains(&route.status);
    let effect = if success {
        st.effects += 1;
        Some(st.effects)
    } else {
        None
    };
    let effect_str = effect.map(|e| e.to_string()).unwrap_or_default();
    // Templates were validated at load: only {effect} can appear.
    let fill = |s: &str| {
        template::render(s, |_| Some(effect_str.clone())).unwrap_or_else(|_| s.to_string())
    };
    let answer = Answer {
        status: route.status,
        headers: route
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), fill(v)))
            .collect(),
        body: if route.echo_body {
            request_body.to_vec()
        } else if let Some(n) = route.body_bytes {
            generated_body(n)
        } else {
            fill(&route.body).into_bytes()
        },
    };
    if let (Some(k), true) = (key, success) {
        st.answers.insert(k, answer.clone());
    }
    let c = &mut st.calls[pos];
    c.effect = effect;
    c.status = Some(answer.status);
    answer
}

fn set_status(shared: &Shared, index: u64, status: Option<u16>) {
    shared.lock().calls[(index - 1) as usize].status = status;
}

/// Closes with a TCP RST: SO_LINGER 0 makes close() abort the connection.
fn reset(stream: &mut TcpStream) {
    let _ = stream.set_zero_linger();
}

async fn write_answer(
    stream: &mut TcpStream,
    answer: &Answer,
    trickle: Option<Duration>,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
    if wire::header(&answer.headers, "content-type").is_none() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        answer.body.len()
    ));
    let body = answer.body.as_slice();
    match trickle {
        None => {
            let mut all = head.into_bytes();
            all.extend_from_slice(body);
            stream.write_all(&all).await?;
        }
        Some(total) => {
            stream.write_all(head.as_bytes()).await?;
            let pieces = SLOW_BODY_PIECES.min(body.len().max(1) as u64);
            let per = total / pieces as u32;
            let size = body.len().div_ceil(pieces as usize).max(1);
            let mut chunks = body.chunks(size);
            for _ in 0..pieces {
                tokio::time::sleep(per).await;
                if let Some(chunk) = chunks.next() {
                    stream.write_all(chunk).await?;
                    stream.flush().await?;
                }
            }
        }
    }
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        402 => "Payment Required",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::super::client::{self, ClientError};
    use super::*;

    fn spec(idempotent: bool) -> FakeSpec {
        let text = format!(
            r#"
{}
[[routes]]
method = "POST"
path = "/v1/charges"
body = '{{"id":"pch_{{effect}}","status":"succeeded"}}'
"#,
            if idempotent {
                r#"idempotency_header = "Idempotency-Key""#
            } else {
                ""
            }
        );
        toml::from_str(&text).unwrap()
    }

    fn rules(list: &[&str]) -> Vec<FaultRule> {
        list.iter().map(|s| FaultRule::parse(s).unwrap()).collect()
    }

    async fn charge(fake: &FakeServer, key: Option<&str>) -> Result<client::Response, ClientError> {
        let headers: Vec<(String, String)> = key
            .map(|k| vec![("Idempotency-Key".to_string(), k.to_string())])
            .unwrap_or_default();
        let call = client::send(
            fake.addr(),
            "POST",
            "/v1/charges",
            &headers,
            Some(b"{\"reference\":\"r1\"}"),
        );
        tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("fake answered in time")
    }

    #[tokio::test]
    async fn answers_from_routes_numbering_effects_and_recording_calls() {
        let fake = FakeServer::start("provider", &spec(false), &[], 1)
            .await
            .unwrap();
        let r1 = charge(&fake, None).await.unwrap();
        let r2 = charge(&fake, None).await.unwrap();
        assert_eq!(r1.status, 200);
        assert_eq!(r1.json().unwrap()["id"], "pch_1");
        assert_eq!(r2.json().unwrap()["id"], "pch_2");
        let missing = client::send(fake.addr(), "GET", "/nope?x=1", &[], None)
            .await
            .unwrap();
        assert_eq!(missing.status, 404);
        let calls = fake.calls();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].index, 1);
        assert_eq!(calls[0].body, "{\"reference\":\"r1\"}");
        assert_eq!((calls[1].effect, calls[2].effect), (Some(2), None));
        assert_eq!(calls[2].path, "/nope?x=1");
        let s = fake.summary();
        assert_eq!((s.calls, s.effects), (3, 2));
    }

    #[tokio::test]
    async fn same_idempotency_key_replays_without_a_new_effect() {
        let fake = FakeServer::start("provider", &spec(true), &[], 1)
            .await
            .unwrap();
        let a = charge(&fake, Some("k1")).await.unwrap();
        let b = charge(&fake, Some("k1")).await.unwrap();
        let c = charge(&fake, Some("k2")).await.unwrap();
        assert_eq!(a.text(), b.text());
        assert_eq!(c.json().unwrap()["id"], "pch_2");
        let s = fake.summary();
        assert_eq!((s.calls, s.effects, s.replayed), (3, 2, 1));
        assert_eq!(s.effects_by_key.get("k1"), Some(&1));
    }

    #[tokio::test]
    async fn armed_faults_count_their_calls_from_the_arming_and_come_first() {
        let start =
            rules(&[r#"{ fake = "provider", calls = "all", kind = "latency", delay_ms = 1 }"#]);
        let fake = FakeServer::start("provider", &spec(false), &start, 1)
            .await
            .unwrap();
        assert_eq!(charge(&fake, None).await.unwrap().status, 200);
        assert_eq!(charge(&fake, None).await.unwrap().status, 200);
        fake.arm(&rules(&[
            r#"{ fake = "provider", calls = "2-", kind = "status", status = 503 }"#,
            r#"{ fake = "other", calls = "all", kind = "hang" }"#,
        ]));
        // Call 3 is the first after the arming: not selected by "2-".
        assert_eq!(charge(&fake, None).await.unwrap().status, 200);
        assert_eq!(charge(&fake, None).await.unwrap().status, 503);
        assert_eq!(charge(&fake, None).await.unwrap().status, 503);
        let faults: Vec<Option<String>> = fake.calls().into_iter().map(|c| c.fault).collect();
        let latency = Some("latency".to_string());
        let status = Some("status".to_string());
        assert_eq!(
            faults,
            [
                latency.clone(),
                latency.clone(),
                latency,
                status.clone(),
                status
            ]
        );
    }

    #[tokio::test]
    async fn status_fault_on_first_call_makes_no_effect() {
        let r = rules(&[r#"{ fake = "provider", calls = "1", kind = "status", status = 503 }"#]);
        let fake = FakeServer::start("provider", &spec(true), &r, 1)
            .await
            .unwrap();
        let first = charge(&fake, Some("k")).await.unwrap();
        assert_eq!(first.status, 503);
        assert_eq!(first.json().unwrap()["error"], "injected fault");
        let second = charge(&fake, Some("k")).await.unwrap();
        assert_eq!(second.json().unwrap()["id"], "pch_1");
        let calls = fake.calls();
        assert_eq!(calls[0].fault.as_deref(), Some("status"));
        assert_eq!((calls[0].effect, calls[1].effect), (None, Some(1)));
    }

    #[tokio::test]
    async fn resets_before_and_after_differ_only_in_the_effect() {
        let r = rules(&[
            r#"{ fake = "provider", calls = "1", kind = "reset_before" }"#,
            r#"{ fake = "provider", calls = "2", kind = "reset_after" }"#,
        ]);
        let fake = FakeServer::start("provider", &spec(true), &r, 1)
            .await
            .unwrap();
        assert!(matches!(
            charge(&fake, Some("a")).await,
            Err(ClientError::Reset)
        ));
        assert!(matches!(
            charge(&fake, Some("b")).await,
            Err(ClientError::Reset)
        ));
        // The work of call 2 was done: its key replays the stored answer.
        let again = charge(&fake, Some("b")).await.unwrap();
        assert_eq!(again.json().unwrap()["id"], "pch_1");
        let calls = fake.calls();
        assert_eq!(calls[0].effect, None);
        assert_eq!(calls[1].effect, Some(1));
        assert!(calls[2].replayed);
    }

    #[tokio::test]
    async fn hang_records_the_call_and_never_answers() {
        let r = rules(&[r#"{ fake = "provider", calls = "all", kind = "hang" }"#]);
        let fake = FakeServer::start("provider", &spec(true), &r, 1)
            .await
            .unwrap();
        let call = client::send(fake.addr(), "POST", "/v1/charges", &[], Some(b"{}"));
        assert!(tokio::time::timeout(Duration::from_millis(300), call)
            .await
            .is_err());
        let s = fake.summary();
        assert_eq!((s.calls, s.effects, s.faulted), (1, 0, 1));
        assert_eq!(fake.calls()[0].status, None);
    }

    #[tokio::test]
    async fn respond_late_makes_the_effect_before_answering() {
        let r = rules(&[
            r#"{ fake = "provider", calls = "1", kind = "respond_late", delay_ms = 400 }"#,
        ]);
        let fake = Arc::new(
            FakeServer::start("provider", &spec(true), &r, 1)
                .await
                .unwrap(),
        );
        let f2 = fake.clone();
        let pending = tokio::spawn(async move { charge(&f2, Some("late")).await });
        // The effect shows up while the answer is still held back.
        let deadline = Instant::now() + Duration::from_secs(2);
        while fake.summary().effects == 0 {
            assert!(Instant::now() < deadline, "effect never made");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!pending.is_finished());
        // A retry with the same key while the first answer is pending replays.
        let retry = charge(&fake, Some("late")).await.unwrap();
        assert_eq!(retry.json().unwrap()["id"], "pch_1");
        let first = pending.await.unwrap().unwrap();
        assert_eq!(first.json().unwrap()["id"], "pch_1");
        assert_eq!(fake.summary().effects, 1);
    }

    #[tokio::test]
    async fn echo_and_generated_bodies() {
        let spec: FakeSpec = toml::from_str(
            r#"
[[routes]]
method = "POST"
path = "/echo"
echo_body = true
[[routes]]
method = "GET"
path = "/big"
body_bytes = 70000
"#,
        )
        .unwrap();
        let fake = FakeServer::start("f", &spec, &[], 1).await.unwrap();
        let echo = client::send(fake.addr(), "POST", "/echo", &[], Some(b"ping"))
            .await
            .unwrap();
        assert_eq!(echo.body, b"ping");
        let big = client::send(fake.addr(), "GET", "/big", &[], None)
            .await
            .unwrap();
        assert_eq!(big.body.len(), 70000);
        assert_eq!(&big.body[..3], b"abc");
    }

    #[tokio::test]
    async fn latency_and_slow_body_still_answer_in_full() {
        let r = rules(&[
            r#"{ fake = "provider", calls = "1", kind = "latency", delay_ms = 100, jitter_ms = 20 }"#,
            r#"{ fake = "provider", calls = "2", kind = "slow_body", delay_ms = 100 }"#,
        ]);
        let fake = FakeServer::start("provider", &spec(false), &r, 7)
            .await
            .unwrap();
        let t = Instant::now();
        assert_eq!(
            charge(&fake, None).await.unwrap().json().unwrap()["id"],
            "pch_1"
        );
        assert!(t.elapsed() >= Duration::from_millis(80));
        let t = Instant::now();
        let slow = charge(&fake, None).await.unwrap();
        assert_eq!(slow.json().unwrap()["id"], "pch_2");
        assert!(t.elapsed() >= Duration::from_millis(90));
        assert_eq!(fake.summary().effects, 2);
    }
}
