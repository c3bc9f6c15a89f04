use std::time::{Duration, Instant};

use ingester::quota::Limiter;

#[test]
fn window_limits_and_resets() {
    let t0 = Instant::now();
    let l = Limiter::new(10, Duration::from_secs(60), 100);
    assert_eq!(l.allow("acme", 8, t0), Ok(()));
    assert_eq!(
        l.allow("acme", 3, t0 + Duration::from_secs(15)),
        Err(Duration::from_secs(45))
    );
    l.refund("acme", 2);
    assert_eq!(l.allow("acme", 4, t0 + Duration::from_secs(20)), Ok(()));
    assert_eq!(l.allow("acme", 10, t0 + Duration::from_secs(60)), Ok(()));
}

#[test]
fn tenant_table_is_bounded_and_swept() {
    let t0 = Instant::now();
    let l = Limiter::new(10, Duration::from_secs(60), 2);
    assert_eq!(l.allow("a", 1, t0), Ok(()));
    assert_eq!(l.allow("b", 1, t0 + Duration::from_secs(30)), Ok(()));
    assert_eq!(
        l.allow("c", 1, t0 + Duration::from_secs(40)),
        Err(Duration::from_secs(60))
    );
    assert_eq!(l.sweep(t0 + Duration::from_secs(60)), 1);
    assert_eq!(l.allow("c", 1, t0 + Duration::from_secs(60)), Ok(()));
}
