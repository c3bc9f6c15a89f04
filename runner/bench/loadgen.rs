//! An open-loop, constant-rate HTTP/1.1 load generator (wrk2's model).
//!
//! Request `i` is *intended* to start at `t0 + i / rate`, whatever happened to
//! the requests before it. A scheduler thread (std, for sleeps accurate to tens
//! of microseconds instead of tokio's millisecond timer) hands each intended
//! time to one of `connections` workers, round robin; each worker owns one
//! keep-alive connection and sends its requests in order. A worker that falls
//! behind (a slow or stalled service) keeps a backlog, and its requests start
//! late: latency measured from the intended time (*corrected*) counts that
//! wait, latency measured from the actual start (*raw*) does not. Both are
//! kept, so a run shows coordinated omission instead of hiding it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// A request later than this after its intended time counts as a late start.
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// Histograms hold microseconds up to one minute, 3 significant digits.
const MAX_US: u64 = 60_000_000;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("`{url}` is not a URL drill bench can load: {why}")]
    Url { url: String, why: String },
    #[error("cannot resolve `{host}`: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Spec(String),
    #[error("the scheduler thread could not start: {0}")]
    Thread(std::io::Error),
}

/// What one request looks like (every request of a run is the same).
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: Method,
    pub addr: SocketAddr,
    /// `host:port`, sent as the Host header.
    pub authority: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RequestSpec {
    /// `http://host:port/path?query` (no TLS: the kit loads services it runs itself).
    pub async fn from_url(url: &str, method: Method) -> Result<RequestSpec, LoadError> {
        let bad = |why: &str| LoadError::Url {
            url: url.to_string(),
            why: why.to_string(),
        };
        let uri: hyper::Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(bad(&format!("scheme `{other}`: only http:// is supported")))
            }
            None => return Err(bad("no scheme: write http://host:port/path")),
        }
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let addr = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|source| LoadError::Resolve {
                host: host.clone(),
                source,
            })?
            .next()
            .ok_or_else(|| bad("the host resolves to no address"))?;
        Ok(RequestSpec {
            method,
            addr,
            authority: uri
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_else(|| format!("{host}:{port}")),
            path_and_query: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "/".into()),
            headers: Vec::new(),
            body: Bytes::new(),
        })
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(self.path_and_query.as_str())
            .header(hyper::header::HOST, self.authority.as_str());
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(Full::new(self.body.clone()))
            .expect("method, path and headers were validated when the spec was made")
    }
}

/// Where the requests of a run come from: one fixed request ([`RequestSpec`])
/// or a weighted mix of templated ones (a scenario's workload).
pub trait Source: Send + Sync {
    /// Where every request goes.
    fn addr(&self) -> SocketAddr;
    /// The names of the kinds of request, indexed as [`Source::request`] returns them.
    fn kinds(&self) -> Vec<String>;
    /// Request number `seq` of the run (0-based, warm-up included) and its kind.
    /// Built before the request's actual start is taken, so building is never
    /// counted in the raw latency; `Err` counts the request as failed.
    fn request(&self, seq: u64) -> (usize, Result<Request<Full<Bytes>>, String>);
}

impl Source for RequestSpec {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn kinds(&self) -> Vec<String> {
        vec![format!("{} {}", self.method, self.path_and_query)]
    }

    fn request(&self, _seq: u64) -> (usize, Result<Request<Full<Bytes>>, String>) {
        (0, Ok(self.build()))
    }
}

/// How hard and how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Requests per second, constant.
    pub rate: f64,
    /// Sent but not recorded, so connections and caches are warm.
    pub warmup: Duration,
    /// Recorded.
    pub duration: Duration,
    /// Keep-alive connections (one worker each).
    pub connections: usize,
    /// A request not answered within this fails (and its connection is replaced).
    pub timeout: Duration,
}

impl LoadSpec {
    pub fn validate(&self) -> Result<(), LoadError> {
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 1_000_000.0) {
            return Err(LoadError::Spec(format!(
                "--rate {}: give requests per second between 0 and 1000000",
                self.rate
            )));
        }
        if self.duration.is_zero() {
            return Err(LoadError::Spec("--duration must be above zero".into()));
        }
        if !(1..=10_000).contains(&self.connections) {
            return Err(LoadError::Spec(format!(
                "--connections {}: give 1 to 10000",
                self.connections
            )));
        }
        if self.timeout.is_zero() {
            return Err(LoadError::Spec("--timeout must be above zero".into()));
        }
        Ok(())
    }

    fn total(&self) -> u64 {
        ((self.warmup + self.duration).as_secs_f64() * self.rate).round() as u64
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Percentiles {
                count: 0,
                mean: 0.0,
                p50: 0.0,
                p90: 0.0,
                p95: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
            };
        }
        Percentiles {
            count: h.len(),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// One second of the measurement (by intended start time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecondStats {
    pub second: u32,
    pub requests: u64,
    pub errors: u64,
    /// Corrected latency of the requests intended to start in this second.
    pub latency_ms: Percentiles,
}

/// Outcome counts of the recorded requests.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Requests whose intended time fell in the measurement.
    pub scheduled: u64,
    /// Answered with a status below 400.
    pub ok: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// No answer: connection refused or reset, timed out, malformed.
    pub failed: u64,
    /// Started more than `LATE_AFTER` after their intended time.
    pub late: u64,
    /// Never started: still queued when the run ended.
    pub dropped: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.scheduled += o.scheduled;
        self.ok += o.ok;
        self.status_4xx += o.status_4xx;
        self.status_5xx += o.status_5xx;
        self.failed += o.failed;
        self.late += o.late;
        self.dropped += o.dropped;
    }

    fn answered(&mut self, status: u16) {
        match status {
            0..=399 => self.ok += 1,
            400..=499 => self.status_4xx += 1,
            _ => self.status_5xx += 1,
        }
    }

    pub fn completed(&self) -> u64 {
        self.ok + self.status_4xx + self.status_5xx
    }

    /// Failed and 5xx answers over the requests that were started.
    pub fn error_rate(&self) -> f64 {
        let started = self.completed() + self.failed;
        if started == 0 {
            0.0
        } else {
            (self.failed + self.status_5xx) as f64 / started as f64
        }
    }
}

/// The recorded requests of one kind of a mix.
pub struct KindResult {
    pub name: String,
    /// `scheduled`, the answers and `failed` (late and dropped are counted overall).
    pub counts: Counts,
    pub corrected: Histogram<u64>,
}

/// What a run measured; latencies in histograms of microseconds.
pub struct LoadResult {
    pub corrected: Histogram<u64>,
    pub raw: Histogram<u64>,
    pub counts: Counts,
    pub per_second: Vec<(Histogram<u64>, u64)>,
    /// Per kind of request, in the source's order.
    pub per_kind: Vec<KindResult>,
    /// Worst lag between an intended time and the actual start.
    pub max_lag: Duration,
    /// The first intended time of the measurement (after the warm-up).
    pub measure_from: Instant,
    /// From the first intended time of the measurement to the last answer.
    pub elapsed: Duration,
    /// The generator's own CPU time (user + system) over the whole run.
    pub generator_cpu: Duration,
    /// Stopped early (Ctrl-C).
    pub interrupted: bool,
}

impl LoadResult {
    pub fn achieved_rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.counts.completed() as f64 / secs
        } else {
            0.0
        }
    }

    pub fn seconds(&self) -> Vec<SecondStats> {
        self.per_second
            .iter()
            .enumerate()
            .map(|(i, (h, errors))| SecondStats {
                second: i as u32,
                requests: h.len(),
                errors: *errors,
                latency_ms: Percentiles::of(h),
            })
            .collect()
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("static bounds are valid")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_US)
}

/// Reported by the workers as requests finish, for a progress bar.
pub trait Observer: Send + Sync {
    fn finished(&self, _n: u64) {}
}

impl Observer for () {}

struct WorkerOut {
    corrected: Histogram<u64>,
    raw: Histogram<u64>,
    counts: Counts,
    per_second: Vec<(Histogram<u64>, u64)>,
    per_kind: Vec<(Counts, Histogram<u64>)>,
    max_lag: Duration,
    last_end: Option<Instant>,
}

/// Run the load; `stop` ends it early (what was measured is kept).
pub async fn run(
    source: Arc<dyn Source>,
    spec: &LoadSpec,
    stop: Arc<AtomicBool>,
    observer: Arc<dyn Observer>,
) -> Result<LoadResult, LoadError> {
    spec.validate()?;
    let cpu_before = super::own_cpu_time();
    let total = spec.total();
    let n = spec.connections.min(total.max(1) as usize);
    let mut senders = Vec::with_capacity(n);
    let mut workers = Vec::with_capacity(n);
    // The first intended time is a little in the future, so every worker is
    // waiting for its first request before the schedule begins.
    let t0 = Instant::now() + Duration::from_millis(50);
    let measure_from = t0 + spec.warmup;
    let seconds = spec.duration.as_secs_f64().ceil() as usize;
    let kinds = source.kinds();
    for _ in 0..n {
        let (tx, rx) = mpsc::unbounded_channel::<(u64, Instant)>();
        senders.push(tx);
        let req = source.clone();
        let kinds = kinds.len();
        let spec = spec.clone();
        let stop = stop.clone();
        let observer = observer.clone();
        workers.push(tokio::spawn(async move {
            worker(req, spec, rx, measure_from, seconds, kinds, stop, observer).await
        }));
    }
    let rate = spec.rate;
    let sched_stop = stop.clone();
    let scheduler = std::thread::Builder::new()
        .name("drill-bench-schedule".into())
        .spawn(move || {
            for i in 0..total {
                if sched_stop.load(Ordering::Relaxed) {
                    break;
                }
                let at = t0 + Duration::from_secs_f64(i as f64 / rate);
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
                if senders[(i % senders.len() as u64) as usize]
                    .send((i, at))
                    .is_err()
                {
                    break;
                }
            }
            // Dropping the senders tells each worker the schedule is complete.
        })
        .map_err(LoadError::Thread)?;
    let mut out = LoadResult {
        corrected: histogram(),
        raw: histogram(),
        counts: Counts::default(),
        per_second: (0..seconds).map(|_| (histogram(), 0)).collect(),
        per_kind: kinds
            .into_iter()
            .map(|name| KindResult {
                name,
                counts: Counts::default(),
                corrected: histogram(),
            })
            .collect(),
        max_lag: Duration::ZERO,
        measure_from,
        elapsed: Duration::ZERO,
        generator_cpu: Duration::ZERO,
        interrupted: false,
    };
    let mut last_end = measure_from;
    for w in workers {
        let Ok(w) = w.await else { continue };
        out.corrected.add(&w.corrected).expect("same bounds");
        out.raw.add(&w.raw).expect("same bounds");
        out.counts.add(&w.counts);
        for (mine, theirs) in out.per_second.iter_mut().zip(&w.per_second) {
            mine.0.add(&theirs.0).expect("same bounds");
            mine.1 += theirs.1;
        }
        for (mine, theirs) in out.per_kind.iter_mut().zip(&w.per_kind) {
            mine.counts.add(&theirs.0);
            mine.corrected.add(&theirs.1).expect("same bounds");
        }
        out.max_lag = out.max_lag.max(w.max_lag);
        if let Some(e) = w.last_end {
            last_end = last_end.max(e);
        }
    }
    let _ = tokio::task::spawn_blocking(move || scheduler.join()).await;
    out.elapsed = last_end.saturating_duration_since(measure_from);
    out.interrupted = stop.load(Ordering::Relaxed);
    out.generator_cpu = super::own_cpu_time().saturating_sub(cpu_before);
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    source: Arc<dyn Source>,
    spec: LoadSpec,
    mut rx: mpsc::UnboundedReceiver<(u64, Instant)>,
    measure_from: Instant,
    seconds: usize,
    kinds: usize,
    stop: Arc<AtomicBool>,
    observer: Arc<dyn Observer>,
) -> WorkerOut {
    let mut out = WorkerOut {
        corrected: histogram(),
        raw: histogram(),
        counts: Counts::default(),
        per_second: (0..seconds).map(|_| (histogram(), 0)).collect(),
        per_kind: (0..kinds)
            .map(|_| (Counts::default(), histogram()))
            .collect(),
        max_lag: Duration::ZERO,
        last_end: None,
    };
    // A request still queued this long after the schedule's end is dropped.
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    let mut drain_deadline: Option<Instant> = None;
    // After the schedule is complete, `recv` still hands out what is queued, then None.
    while let Some((seq, intended)) = rx.recv().await {
        let recorded = intended >= measure_from;
        if stop.load(Ordering::Relaxed) || drain_deadline.is_some_and(|d| Instant::now() > d) {
            if recorded {
                out.counts.scheduled += 1;
                out.counts.dropped += 1;
            }
            continue;
        }
        let (kind, request) = source.request(seq);
        let started = Instant::now();
        let lag = started.saturating_duration_since(intended);
        let status = match request {
            Ok(request) => {
                match tokio::time::timeout(spec.timeout, send(source.addr(), request, &mut conn))
                    .await
                {
                    Ok(Ok(status)) => Some(status),
                    Ok(Err(())) | Err(_) => {
                        conn = None;
                        None
                    }
                }
            }
            Err(_) => None,
        };
        let end = Instant::now();
        observer.finished(1);
        if !recorded {
            continue;
        }
        out.counts.scheduled += 1;
        out.max_lag = out.max_lag.max(lag);
        if lag > LATE_AFTER {
            out.counts.late += 1;
        }
        let second = (intended - measure_from).as_secs() as usize;
        let slot = out.per_second.get_mut(second);
        let by_kind = &mut out.per_kind[kind];
        by_kind.0.scheduled += 1;
        match status {
            Some(s) => {
                out.counts.answered(s);
                by_kind.0.answered(s);
                let corrected = micros(end - intended);
                by_kind.1.saturating_record(corrected);
                out.corrected.saturating_record(corrected);
                out.raw.saturating_record(micros(end - started));
                if let Some((h, errors)) = slot {
                    h.saturating_record(corrected);
                    if s >= 500 {
                        *errors += 1;
                    }
                }
            }
            None => {
                out.counts.failed += 1;
                by_kind.0.failed += 1;
                if let Some((_, errors)) = slot {
                    *errors += 1;
                }
            }
        }
        out.last_end = Some(end);
        if rx.is_closed() && drain_deadline.is_none() {
            // The schedule is complete: what is still queued gets one timeout to go out.
            drain_deadline = Some(end + spec.timeout);
        }
    }
    out
}

/// One request on the worker's connection, opening one if needed; the answer's status.
pub(crate) async fn send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
    conn: &mut Option<SendRequest<Full<Bytes>>>,
) -> Result<u16, ()> {
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(|_| ())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        *conn = Some(sender);
    }
    let sender = conn.as_mut().expect("connected above");
    sender.ready().await.map_err(|_| ())?;
    let resp = sender.send_request(request).await.map_err(|_| ())?;
    let status = resp.status().as_u16();
    // Read the whole body: a real client pays for it, and the connection is reused after.
    resp.into_body().collect().await.map_err(|_| ())?;
    Ok(status)
}
