mod util;

use std::time::Duration;

use edgeproxy::upstream::{Options, Pool};
use util::{answer, handler, serve, Upstream};

/// Serves /healthz with the given status.
async fn new_upstream(health_status: u16) -> Upstream {
    serve(handler(
        move |_req| async move { answer(health_status, "") },
    ))
    .await
}

fn new_pool(max_conns: usize, urls: &[&str]) -> Pool {
    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
    Pool::new(
        &urls,
        Options {
            max_conns,
            health_timeout: Duration::from_secs(1),
        },
    )
}

#[tokio::test]
async fn acquire_round_robin_skips_unhealthy() {
    let (ok1, failing, ok2) = (
        new_upstream(200).await,
        new_upstream(500).await,
        new_upstream(204).await,
    );
    let p = new_pool(8, &[&ok1.url, &failing.url, &ok2.url]);
    p.check_all().await;

    let mut got = Vec::new();
    for _ in 0..4 {
        let u = p.acquire().expect("no upstream acquired");
        got.push(u.index);
        drop(u);
    }
    assert_eq!(got, [0, 2, 0, 2]);
    let states = p.states();
    assert!(
        states[0].healthy && !states[1].healthy && states[2].healthy,
        "health {states:?}, want healthy, unhealthy, healthy"
    );
}

#[tokio::test]
async fn acquire_respects_max_conns() {
    let up = new_upstream(200).await;
    let p = new_pool(2, &[&up.url]);
    assert!(
        p.acquire().is_none(),
        "acquired an upstream that was never probed"
    );
    p.check_all().await;

    let a = p.acquire();
    let b = p.acquire();
    assert!(
        a.is_some() && b.is_some(),
        "could not take two slots of two"
    );
    assert!(p.acquire().is_none(), "took a third slot of two");
    assert_eq!(p.states()[0].in_flight, 2);
    drop(a);
    assert!(p.acquire().is_some(), "a released slot was not reusable");
}
