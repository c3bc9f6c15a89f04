use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use emailworker::queue::{Email, Queue, QueueError};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "emailworker-queue-test-{}-{}",
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

fn open() -> (Queue, TempDir) {
    let dir = TempDir::new();
    (Queue::open(dir.0.join("emails.db")).unwrap(), dir)
}

/// Stores n emails with ids em_0, em_1, ... in that order.
fn enqueue(q: &Queue, n: usize) {
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
}

fn ids(jobs: &[Email]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

fn status(q: &Queue, id: &str) -> String {
    q.get(id).unwrap().status
}

#[test]
fn enqueue_and_get() {
    let (q, _dir) = open();
    enqueue(&q, 1);
    let want = Email {
        id: "em_0".to_string(),
        to: "a@example.com".to_string(),
        subject: "hi".to_string(),
        body: "hello".to_string(),
        status: "queued".to_string(),
        last_error: String::new(),
        created_at: "2026-11-27T10:00:00Z".to_string(),
    };
    assert_eq!(q.get("em_0").unwrap(), want);
    assert!(matches!(q.get("em_missing"), Err(QueueError::NotFound)));
}

#[test]
fn claim_oldest_first_up_to_limit() {
    let (q, _dir) = open();
    enqueue(&q, 3);
    let jobs = q.claim(2, Duration::from_secs(60)).unwrap();
    assert_eq!(ids(&jobs), ["em_0", "em_1"]);
    assert_eq!(status(&q, "em_0"), "sending");
    let jobs = q.claim(5, Duration::from_secs(60)).unwrap();
    assert_eq!(ids(&jobs), ["em_2"]);
}

#[test]
fn expired_lease_is_claimed_again() {
    let (q, _dir) = open();
    enqueue(&q, 1);
    assert_eq!(q.claim(1, Duration::from_millis(300)).unwrap().len(), 1);
    assert_eq!(
        q.claim(1, Duration::from_secs(60)).unwrap().len(),
        0,
        "leased job claimed again before its lease expired"
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(q.claim(1, Duration::from_secs(60)).unwrap().len(), 1);
}

#[test]
fn ack_fail_and_release() {
    let (q, _dir) = open();
    enqueue(&q, 3);
    q.claim(3, Duration::from_secs(60)).unwrap();
    q.ack("em_0").unwrap();
    q.fail("em_1", "provider answered 400").unwrap();
    q.release("em_2").unwrap();
    assert_eq!(status(&q, "em_0"), "sent");
    let failed = q.get("em_1").unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.last_error.as_str()),
        ("failed", "provider answered 400")
    );
    let jobs = q.claim(3, Duration::from_secs(60)).unwrap();
    assert_eq!(ids(&jobs), ["em_2"]);
}

#[test]
fn settled_email_keeps_its_status() {
    let (q, _dir) = open();
    enqueue(&q, 2);
    q.claim(2, Duration::from_secs(60)).unwrap();
    q.ack("em_0").unwrap();
    q.fail("em_1", "provider answered 400").unwrap();
    for id in ["em_0", "em_1"] {
        q.release(id).unwrap();
    }
    assert_eq!(status(&q, "em_0"), "sent", "sent, then released");
    assert_eq!(status(&q, "em_1"), "failed", "failed, then released");
    let jobs = q.claim(2, Duration::from_secs(60)).unwrap();
    assert!(
        jobs.is_empty(),
        "settled emails claimed again: {:?}",
        ids(&jobs)
    );
}

#[test]
fn late_finish_keeps_another_workers_result() {
    let (q, _dir) = open();
    enqueue(&q, 1);
    // The first worker's lease runs out mid-send; a second worker claims the
    // email again and the provider rejects it for good.
    q.claim(1, Duration::from_millis(1)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let jobs = q.claim(1, Duration::from_secs(60)).unwrap();
    assert_eq!(ids(&jobs), ["em_0"], "claim after the lease ran out");
    q.fail("em_0", "provider answered 400").unwrap();
    // The first worker's send ends late: the email stays failed.
    q.ack("em_0").unwrap();
    let email = q.get("em_0").unwrap();
    assert_eq!(
        (email.status.as_str(), email.last_error.as_str()),
        ("failed", "provider answered 400"),
        "failed, then acked late"
    );
    let jobs = q.claim(1, Duration::from_secs(60)).unwrap();
    assert!(
        jobs.is_empty(),
        "settled email claimed again: {:?}",
        ids(&jobs)
    );
}
