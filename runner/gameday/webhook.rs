//! The game day's webhook (`gameday start --webhook URL`, docs/gameday.md,
//! "The webhook"): every alert, clear and pager message POSTed as a
//! versioned JSON body to a plain-http URL.
//!
//! Never in the facilitator's way: [`Hook::send`] only puts the message on a
//! bounded queue (a full queue drops it, counted); one background task
//! delivers them in order, each POST bounded by [`TIMEOUT`] and retried at
//! most [`ATTEMPTS`] times. The first message that cannot be delivered is
//! reported once through the reporter the hook was given; every later one
//! is only counted ([`Counts`], in `status.json`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::Timestamp;
use crate::harness::client;

pub const FORMAT_NAME: &str = "drillkit-gameday-page";
pub const FORMAT_VERSION: u32 = 1;
/// One POST, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// Tries per message (the first and the retries).
pub const ATTEMPTS: u32 = 3;
/// The wait before the second try; doubled before each next one.
const BACKOFF: Duration = Duration::from_millis(200);
/// Messages waiting for delivery; more are dropped (and counted).
pub const QUEUE: usize = 64;

/// A webhook URL: `http://HOST[:PORT][/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// The path and query, `/` when the URL has none.
    pub path: String,
    text: String,
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Url {
    /// Parses `--webhook`'s value; the error says what is wrong and what works.
    pub fn parse(text: &str) -> Result<Url, String> {
        let example = "e.g. http://127.0.0.1:9000/page";
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(format!(
                "{text:?} is not a URL; give an http URL ({example})"
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "http" => {}
            "https" => {
                return Err(format!(
                    "{text:?}: https is not supported (the kit's client speaks plain HTTP); \
                     give an http URL ({example}), or a local relay that forwards to https"
                ))
            }
            other => {
                return Err(format!(
                    "{text:?}: the scheme {other:?} is not supported; give an http URL ({example})"
                ))
            }
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let path = path.split('#').next().unwrap_or("/").to_string();
        if authority.contains('@') {
            return Err(format!(
                "{text:?}: credentials in the URL are not supported; give http://HOST:PORT/PATH"
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: an IPv6 host needs its closing ']'"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{text:?} names no host; give one ({example})"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{text:?}: the port {p:?} is not a number 1-65535"))?,
        };
        Ok(Url {
            host: host.to_string(),
            port,
            path,
            text: text.to_string(),
        })
    }
}

/// What a message is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// The burn-rate alert fired.
    Alert,
    /// The alert cleared.
    Clear,
    /// Any other line on the pager (a customer report, an escalation).
    Message,
}

/// The SLI when a message was sent: the last closed window and the burn.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SliNow {
    /// The window's index (windows of `slo.window_ms` from the traffic's start).
    pub window: u64,
    /// Its share of good requests; `None` when no request completed in it.
    pub sli: Option<f64>,
    pub long_burn: Option<f64>,
    pub short_burn: Option<f64>,
    pub budget_left: f64,
    pub alert_firing: bool,
}

/// The JSON body of every POST (docs/gameday.md, "The webhook").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Body {
    pub format_name: String,
    pub format_version: u32,
    pub kind: PageKind,
    /// The line as the pager file has it (without its time).
    pub text: String,
    pub gameday: String,
    pub on_call: Option<String>,
    pub at: Timestamp,
    /// `None` before the first window closed.
    pub sli: Option<SliNow>,
}

impl Body {
    pub fn new(
        kind: PageKind,
        text: &str,
        gameday: &str,
        on_call: Option<&str>,
        at: Timestamp,
        sli: Option<SliNow>,
    ) -> Body {
        Body {
            format_name: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            kind,
            text: text.to_string(),
            gameday: gameday.to_string(),
            on_call: on_call.map(str::to_string),
            at,
            sli,
        }
    }
}

/// Messages delivered, not delivered (every try failed) and dropped (the
/// queue was full).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub delivered: u64,
    pub failed: u64,
    pub dropped: u64,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// Says a line on the facilitator's terminal.
pub type Reporter = Arc<dyn Fn(&str) + Send + Sync>;

/// The delivery task and its queue. Made inside a tokio runtime.
pub struct Hook {
    url: Url,
    tx: Mutex<Option<mpsc::Sender<Body>>>,
    counters: Arc<Counters>,
    sli: Mutex<Option<SliNow>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hook {
    pub fn spawn(url: Url, report: Reporter) -> Hook {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(deliver(url.clone(), rx, counters.clone(), report));
        Hook {
            url,
            tx: Mutex::new(Some(tx)),
            counters,
            sli: Mutex::new(None),
            task: Mutex::new(Some(task)),
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The SLI the next messages carry.
    pub fn observe(&self, now: SliNow) {
        *locked(&self.sli) = Some(now);
    }

    pub fn sli(&self) -> Option<SliNow> {
        *locked(&self.sli)
    }

    /// Queues `body`; never waits. A full queue drops it (counted).
    pub fn send(&self, body: Body) {
        let queued = locked(&self.tx)
            .as_ref()
            .is_some_and(|tx| tx.try_send(body).is_ok());
        if !queued {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn counts(&self) -> Counts {
        Counts {
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }

    /// Closes the queue and lets the task deliver what is queued for at
    /// most `limit`; what is left then is counted as dropped.
    pub async fn finish(&self, limit: Duration) -> Counts {
        locked(&self.tx).take();
        let task = locked(&self.task).take();
        if let Some(mut task) = task {
            if tokio::time::timeout(limit, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
        self.counts()
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        if let Some(t) = locked(&self.task).as_ref() {
            t.abort();
        }
    }
}

async fn deliver(
    url: Url,
    mut rx: mpsc::Receiver<Body>,
    counters: Arc<Counters>,
    report: Reporter,
) {
    let mut reported = false;
    while let Some(body) = rx.recv().await {
        let bytes = serde_json::to_vec(&body).expect("a webhook body serializes");
        let mut last = String::new();
        let mut ok = false;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 1)).await;
            }
            match tokio::time::timeout(TIMEOUT, post(&url, &bytes)).await {
                Ok(Ok(())) => {
                    ok = true;
                    break;
                }
                Ok(Err(e)) => last = e,
                Err(_) => last = format!("no answer within {} s", TIMEOUT.as_secs()),
            }
        }
        if ok {
            counters.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            if !reported {
                reported = true;
                report(&format!(
                    "webhook {url}: {} was not delivered after {ATTEMPTS} tries ({last}); \
                     the game day goes on, later failures are only counted (status.json, \
                     and at the end)",
                    match body.kind {
                        PageKind::Alert => "the alert",
                        PageKind::Clear => "the alert's clear",
                        PageKind::Message => "a pager message",
                    }
                ));
            }
        }
    }
}

/// One POST; `Ok` on a 2xx answer.
async fn post(url: &Url, body: &[u8]) -> Result<(), String> {
    let addr: SocketAddr = tokio::net::lookup_host((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("resolving {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", url.host))?;
    let headers = [
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            "User-Agent".to_string(),
            format!("drillkit/{}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    let r = client::send(addr, "POST", &url.path, &headers, Some(body))
        .await
        .map_err(|e| e.to_string())?;
    if (200..300).contains(&r.status) {
        Ok(())
    } else {
        Err(format!("answered {}", r.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_only_with_a_host_and_a_default_port_and_path() {
        let u = Url::parse("http://127.0.0.1:9000/hooks/page?team=a").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9000, "/hooks/page?team=a")
        );
        let u = Url::parse("http://localhost").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = Url::parse("http://[::1]:81?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 81, "/?x=1")
        );
        for (bad, says) in [
            ("https://example.com/x", "https is not supported"),
            ("ftp://h/x", "scheme \"ftp\""),
            ("127.0.0.1:9000", "not a URL"),
            ("http://:9000/x", "no host"),
            ("http://h:0/x", "1-65535"),
            ("http://h:http/x", "1-65535"),
            ("http://u:p@h/x", "credentials"),
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_body_is_versioned_and_carries_kind_text_id_time_and_sli() {
        let at = Timestamp::from_unix_ms(1_000_000);
        let sli = SliNow {
            window: 12,
            sli: Some(0.5),
            long_burn: Some(17.3),
            short_burn: Some(50.0),
            budget_left: -0.25,
            alert_firing: true,
        };
        let b = Body::new(
            PageKind::Alert,
            "ALERT firing",
            "g1",
            Some("ana"),
            at,
            Some(sli),
        );
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["format_name"], FORMAT_NAME);
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["kind"], "alert");
        assert_eq!(v["text"], "ALERT firing");
        assert_eq!(v["gameday"], "g1");
        assert_eq!(v["on_call"], "ana");
        assert_eq!(v["at"], at.to_string());
        assert_eq!(v["sli"]["window"], 12);
        assert_eq!(v["sli"]["short_burn"], 50.0);
        assert_eq!(v["sli"]["alert_firing"], true);
        let back: Body = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
        let clear =
            serde_json::to_value(Body::new(PageKind::Clear, "c", "g", None, at, None)).unwrap();
        assert_eq!(clear["kind"], "clear");
        assert!(clear["sli"].is_null() && clear["on_call"].is_null());
    }

    #[tokio::test]
    async fn a_dead_webhook_is_reported_once_and_counted_and_send_never_waits() {
        // A port nobody listens on: every try is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let s = said.clone();
        let hook = Hook::spawn(
            url,
            Arc::new(move |l: &str| s.lock().unwrap().push(l.into())),
        );
        let at = Timestamp::from_unix_ms(0);
        let started = std::time::Instant::now();
        for _ in 0..3 {
            hook.send(Body::new(PageKind::Message, "m", "g", None, at, None));
        }
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "send waited"
        );
        let c = hook.finish(Duration::from_secs(10)).await;
        assert_eq!(
            c,
            Counts {
                delivered: 0,
                failed: 3,
                dropped: 0
            }
        );
        let said = said.lock().unwrap();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("not delivered after 3 tries"), "{said:?}");
        // After the end nothing more is queued: counted as dropped.
        hook.send(Body::new(PageKind::Message, "m", "g", None, at, None));
        assert_eq!(hook.counts().dropped, 1);
    }

    #[tokio::test]
    async fn a_refused_post_is_tried_again_and_the_body_arrives_as_sent() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // The first POST is answered 503, the second 200.
        let server = tokio::spawn(async move {
            let mut got = Vec::new();
            for answer in ["503 Service Unavailable", "200 OK"] {
                let (mut c, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let mut req = Vec::new();
                loop {
                    let n = c.read(&mut buf).await.unwrap();
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req).into_owned();
                    if let Some(h) = text.find("\r\n\r\n") {
                        let len: usize = text[..h]
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if req.len() >= h + 4 + len || n == 0 {
                            break;
                        }
                    }
                }
                let reply = format!("HTTP/1.1 {answer}\r\nContent-Length: 0\r\n\r\n");
                c.write_all(reply.as_bytes()).await.unwrap();
                got.push(String::from_utf8(req).unwrap());
            }
            got
        });
        let url = Url::parse(&format!("http://127.0.0.1:{port}/hook?x=1")).unwrap();
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let s = said.clone();
        let hook = Hook::spawn(
            url,
            Arc::new(move |l: &str| s.lock().unwrap().push(l.into())),
        );
        let body = Body::new(
            PageKind::Message,
            "MESSAGE customer report: x",
            "g",
            Some("ana"),
            Timestamp::from_unix_ms(0),
            None,
        );
        hook.send(body.clone());
        let c = hook.finish(Duration::from_secs(10)).await;
        assert_eq!(
            c,
            Counts {
                delivered: 1,
                failed: 0,
                dropped: 0
            }
        );
        assert!(
            said.lock().unwrap().is_empty(),
            "a delivered message reports nothing"
        );
        let got = server.await.unwrap();
        assert_eq!(got.len(), 2);
        for req in &got {
            assert!(req.starts_with("POST /hook?x=1 HTTP/1.1\r\n"), "{req}");
            assert!(req.contains("Content-Type: application/json"), "{req}");
            let json = &req[req.find("\r\n\r\n").unwrap() + 4..];
            let sent: Body = serde_json::from_str(json).unwrap();
            assert_eq!(sent, body);
        }
    }
}
