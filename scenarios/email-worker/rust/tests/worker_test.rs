use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use emailworker::metrics::Metrics;
use emailworker::provider::{self, Client};
use emailworker::queue::{Email, Queue};
use emailworker::worker::{Options, Pool};
use tokio::sync::{mpsc, watch, Semaphore};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "emailworker-worker-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory of this name can only be left over from a dead process
        // whose pid this one reuses (a killed test run): start from empty.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A queue holding n emails (em_0, em_1, ...) and a pool sending them to
/// `app`. Keep the TempDir alive while using them.
async fn setup(n: usize, opts: Options, app: Router) -> (Arc<Queue>, Pool, TempDir) {
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });

    let dir = TempDir::new();
    let q = Arc::new(Queue::open(dir.0.join("emails.db")).unwrap());
    for i in 0..n {
        let mut e = Email {
            id: format!("em_{i}"),
            to: "a@example.com".to_string(),
            subject: "hi".to_string(),
            body: "hello".to_string(),
            created_at: "2026-11-27T10:00:00Z".to_string(),
            ..Email::default()
        };
        q.enqueue(&mut e).unwrap();
    }
    let m = Arc::new(Metrics::new());
    let client = Client::new(
        provider::Options {
            base_url: url,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Duration::from_millis(1),
            rate_per_sec: 0,
        },
        m.clone(),
    );
    let pool = Pool::new(q.clone(), client, m, opts);
    (q, pool, dir)
}

fn test_options() -> Options {
    Options {
        concurrency: 2,
        buffer_size: 2,
        lease: Duration::from_secs(60),
        poll_interval: Duration::from_millis(5),
    }
}

/// Polls until email `id` has the status, for up to 5 s.
async fn wait_status(q: &Queue, id: &str, status: &str) -> Email {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let e = q.get(id).unwrap();
        if e.status == status {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "{id}: status {:?}, want {status:?}",
            e.status
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn pool_sends_and_acks_every_email() {
    let calls = Arc::new(AtomicI64::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "" }
        }),
    );
    let (q, mut pool, _dir) = setup(5, test_options(), app).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (_hard_tx, hard_rx) = watch::channel(false);
    pool.start(stop_rx, hard_rx);
    for i in 0..5 {
        wait_status(&q, &format!("em_{i}"), "sent").await;
    }
    stop_tx.send(true).unwrap();
    pool.wait().await;
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn pool_marks_rejected_email_failed() {
    let app = Router::new().route("/v1/messages", post(|| async { StatusCode::BAD_REQUEST }));
    let (q, mut pool, _dir) = setup(1, test_options(), app).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (_hard_tx, hard_rx) = watch::channel(false);
    pool.start(stop_rx, hard_rx);
    let e = wait_status(&q, "em_0", "failed").await;
    stop_tx.send(true).unwrap();
    pool.wait().await;
    assert_eq!(e.last_error, "provider answered 400");
}

#[tokio::test]
async fn pool_releases_unsent_emails_on_stop() {
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<()>();
    let unblock = Arc::new(Semaphore::new(0));
    let gate = unblock.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            let arrived_tx = arrived_tx.clone();
            let gate = gate.clone();
            async move {
                let _ = arrived_tx.send(());
                let _ = gate.acquire().await;
                ""
            }
        }),
    );
    let opts = Options {
        concurrency: 1,
        ..test_options()
    };
    let (q, mut pool, _dir) = setup(3, opts, app).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (_hard_tx, hard_rx) = watch::channel(false);
    pool.start(stop_rx, hard_rx);
    arrived.recv().await; // em_0 is being sent; the others are buffered or queued
    stop_tx.send(true).unwrap();
    unblock.close(); // the send in progress finishes
    pool.wait().await;

    for (id, want) in [("em_0", "sent"), ("em_1", "queued"), ("em_2", "queued")] {
        assert_eq!(q.get(id).unwrap().status, want, "{id}");
    }
}
