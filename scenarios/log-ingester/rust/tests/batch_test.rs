use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ingester::batch::{BatchError, Batcher};
use ingester::store::Line;
use tokio_util::sync::CancellationToken;

fn lines(n: usize) -> Vec<Line> {
    vec![
        Line {
            tenant: "t".to_string(),
            level: "info".to_string(),
            msg: "m".to_string(),
            ..Line::default()
        };
        n
    ]
}

#[tokio::test]
async fn seals_by_size_and_by_age() {
    let t0 = Instant::now();
    let depth = Arc::new(AtomicUsize::new(99));
    let d = depth.clone();
    let b = Batcher::new(3, 100, Duration::from_secs(1), move |n| {
        d.store(n, Ordering::Relaxed)
    });
    b.add(lines(4), t0).unwrap();
    b.add(lines(1), t0).unwrap();
    assert_eq!(b.flush_aged(t0 + Duration::from_millis(999)), 0);
    assert_eq!(b.flush_aged(t0 + Duration::from_secs(1)), 1);
    b.close();
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let s = sizes.clone();
    b.run(CancellationToken::new(), move |batch| {
        s.lock().unwrap().push(batch.len());
        async {}
    })
    .await;
    assert_eq!(*sizes.lock().unwrap(), [4, 1]);
    assert_eq!(depth.load(Ordering::Relaxed), 0);
}

#[test]
fn refuses_lines_beyond_the_queue_limit() {
    let t0 = Instant::now();
    let b = Batcher::new(10, 4, Duration::from_secs(1), |_| {});
    b.add(lines(3), t0).unwrap();
    assert_eq!(b.add(lines(2), t0), Err(BatchError::Overloaded));
    b.add(lines(1), t0).unwrap();
    b.close();
    assert_eq!(b.add(lines(1), t0), Err(BatchError::Closed));
}
