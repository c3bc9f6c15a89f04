//! The table of upstreams: which are healthy, how many requests each is
//! serving, which one serves the next request, and the health checker that
//! keeps the table current.

use std::ops::Deref;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::metrics::UpstreamState;
use crate::BoxError;

/// One backend from UPSTREAM_URLS.
#[derive(Debug)]
pub struct Upstream {
    /// Position in UPSTREAM_URLS: the label in metrics and logs.
    pub index: usize,
    /// Base URL, no trailing slash.
    pub url: String,
    /// Live `Slot`s of this upstream.
    in_flight: AtomicI64,
}

/// One of an upstream's connection slots, taken by `Pool::acquire`;
/// dropping it gives the slot back.
#[derive(Debug)]
pub struct Slot {
    upstream: Arc<Upstream>,
}

impl Deref for Slot {
    type Target = Upstream;

    fn deref(&self) -> &Upstream {
        &self.upstream
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.upstream.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Configures a Pool.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Connection slots per upstream.
    pub max_conns: usize,
    /// HEALTH_TIMEOUT_MS.
    pub health_timeout: Duration,
}

/// The upstream table. An upstream is used only when its last probe
/// succeeded and it has a free slot; the choice is round-robin.
pub struct Pool {
    upstreams: Vec<Arc<Upstream>>,
    opts: Options,
    client: Client<HttpConnector, Empty<Bytes>>,
    table: Mutex<Table>,
}

struct Table {
    healthy: Vec<bool>,
    next: usize,
}

impl Pool {
    /// Builds the table; every upstream starts unhealthy until `check_all`
    /// has probed it.
    pub fn new(urls: &[String], opts: Options) -> Pool {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(opts.health_timeout));
        Pool {
            upstreams: urls
                .iter()
                .enumerate()
                .map(|(index, url)| {
                    Arc::new(Upstream {
                        index,
                        url: url.clone(),
                        in_flight: AtomicI64::new(0),
                    })
                })
                .collect(),
            opts,
            // Probes get their own small pool so a busy proxy never makes a
            // probe wait for a connection.
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(1)
                .build(connector),
            table: Mutex::new(Table {
                healthy: vec![false; urls.len()],
                next: 0,
            }),
        }
    }

    /// Picks the next healthy upstream with a free connection slot and
    /// takes the slot. `None` when none qualifies.
    pub fn acquire(&self) -> Option<Slot> {
        let mut table = self.table();
        let n = self.upstreams.len();
        for k in 0..n {
            let i = (table.next + k) % n;
            let u = &self.upstreams[i];
            if !table.healthy[i] || u.in_flight.load(Ordering::SeqCst) >= self.max_conns() {
                continue;
            }
            u.in_flight.fetch_add(1, Ordering::SeqCst);
            table.next = (i + 1) % n;
            return Some(Slot {
                upstream: u.clone(),
            });
        }
        None
    }

    /// Reports every upstream for the metrics page.
    pub fn states(&self) -> Vec<UpstreamState> {
        let table = self.table();
        self.upstreams
            .iter()
            .enumerate()
            .map(|(i, u)| UpstreamState {
                healthy: table.healthy[i],
                in_flight: u.in_flight.load(Ordering::SeqCst),
            })
            .collect()
    }

    /// Probes every upstream each interval, forever (the caller aborts the
    /// task).
    pub async fn run(&self, interval: Duration) {
        let start = tokio::time::Instant::now() + interval;
        let mut ticker = tokio::time::interval_at(start, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.check_all().await;
        }
    }

    /// Probes every upstream once, then records the results.
    pub async fn check_all(&self) {
        let mut results = Vec::with_capacity(self.upstreams.len());
        for u in &self.upstreams {
            results.push(self.probe(u).await);
        }
        let mut table = self.table();
        for (i, ok) in results.into_iter().enumerate() {
            if table.healthy[i] != ok {
                tracing::info!(
                    upstream = i,
                    url = %self.upstreams[i].url,
                    healthy = ok,
                    "upstream health changed"
                );
            }
            table.healthy[i] = ok;
        }
    }

    /// Whether GET /healthz answers 2xx, body included.
    async fn probe(&self, u: &Upstream) -> bool {
        let probe = tokio::time::timeout(self.opts.health_timeout, self.get_healthz(&u.url));
        matches!(probe.await, Ok(Ok(true)))
    }

    async fn get_healthz(&self, base: &str) -> Result<bool, BoxError> {
        let req = Request::get(format!("{base}/healthz")).body(Empty::new())?;
        let resp = self.client.request(req).await?;
        let ok = resp.status().is_success();
        Limited::new(resp.into_body(), 64 << 10).collect().await?;
        Ok(ok)
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Every write leaves the table consistent, so a panic elsewhere
        // while it was held does not make it unusable.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn max_conns(&self) -> i64 {
        i64::try_from(self.opts.max_conns).unwrap_or(i64::MAX)
    }
}
