mod util;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Response};
use util::{answer, assert_error, handler, new_proxy, new_upstream, send, serve};

#[tokio::test]
async fn forwards_request_and_answer() {
    let up = new_upstream(handler(
        |req: hyper::Request<hyper::body::Incoming>| async move {
            let line = format!("{} {}", req.method(), req.uri());
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let mut resp = answer(201, &format!("{line} {}", String::from_utf8_lossy(&body)));
            resp.headers_mut()
                .insert("x-upstream", "yes".parse().unwrap());
            resp
        },
    ))
    .await;
    let px = new_proxy(Duration::from_secs(1), &[&up.url]).await;

    let r = send(&px, "POST", "/v1/items?sort=asc", "hello", &[]).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body, "POST /v1/items?sort=asc hello");
    assert_eq!(r.headers["x-upstream"], "yes");
}

#[tokio::test]
async fn strips_hop_by_hop_headers() {
    let seen = Arc::new(Mutex::new(HeaderMap::new()));
    let seen_by_upstream = seen.clone();
    let up = new_upstream(handler(
        move |req: hyper::Request<hyper::body::Incoming>| {
            *seen_by_upstream.lock().unwrap() = req.headers().clone();
            async move {
                let mut resp = Response::new(Full::new(Bytes::new()));
                let h = resp.headers_mut();
                h.insert("connection", "X-Upstream-Hop".parse().unwrap());
                h.insert("x-upstream-hop", "1".parse().unwrap());
                h.insert("keep-alive", "timeout=5".parse().unwrap());
                h.insert("proxy-authenticate", "Basic".parse().unwrap());
                h.insert("x-end-to-end", "1".parse().unwrap());
                resp
            }
        },
    ))
    .await;
    let px = new_proxy(Duration::from_secs(1), &[&up.url]).await;

    let r = send(
        &px,
        "GET",
        "/",
        "",
        &[
            ("connection", "X-Client-Hop"),
            ("x-client-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic Zm9vOmJhcg=="),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-request-id", "abc"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    let seen = seen.lock().unwrap().clone();
    for h in [
        "x-client-hop",
        "keep-alive",
        "proxy-authorization",
        "te",
        "upgrade",
    ] {
        assert!(
            seen.get(h).is_none(),
            "upstream received {h}: {:?}",
            seen.get(h)
        );
    }
    // hyper's client may add its own `connection` header; the client's
    // value must not be forwarded.
    assert_ne!(
        seen.get("connection").map(|v| v.to_str().unwrap_or("")),
        Some("X-Client-Hop")
    );
    assert_eq!(seen["x-request-id"], "abc");
    assert_eq!(seen["x-forwarded-for"], "203.0.113.7, 192.0.2.1");
    for h in [
        "connection",
        "x-upstream-hop",
        "keep-alive",
        "proxy-authenticate",
    ] {
        assert!(
            r.headers.get(h).is_none(),
            "client received {h}: {:?}",
            r.headers.get(h)
        );
    }
    assert_eq!(r.headers["x-end-to-end"], "1");
}

#[tokio::test]
async fn upstream_timeout_answers_504() {
    let up = new_upstream(handler(|_req| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        answer(200, "")
    }))
    .await;
    let px = new_proxy(Duration::from_millis(50), &[&up.url]).await;

    let start = Instant::now();
    let r = send(&px, "GET", "/slow", "", &[]).await;
    assert_error(&r, 504, "upstream timeout");
    let elapsed = start.elapsed();
    assert!(
        elapsed <= Duration::from_millis(400),
        "answered after {elapsed:?}, want about 50ms"
    );
}

#[tokio::test]
async fn refused_upstream_answers_502() {
    let up = new_upstream(handler(|_req| async move { answer(200, "") })).await;
    let px = new_proxy(Duration::from_secs(1), &[&up.url]).await;
    up.close(); // healthy at the last probe, gone now
    tokio::task::yield_now().await;

    let r = send(&px, "GET", "/", "", &[]).await;
    assert_error(&r, 502, "upstream unavailable");
}

#[tokio::test]
async fn no_healthy_upstream_answers_503() {
    let up = serve(handler(|_req| async move { answer(503, "") })).await;
    let px = new_proxy(Duration::from_secs(1), &[&up.url]).await;

    let r = send(&px, "GET", "/", "", &[]).await;
    assert_error(&r, 503, "no healthy upstream");
}

#[tokio::test]
async fn admin_routes() {
    let up = new_upstream(handler(|_req| async move { answer(200, "") })).await;
    let px = new_proxy(Duration::from_secs(1), &[&up.url]).await;
    send(&px, "GET", "/counted", "", &[]).await;

    let r = send(&px, "GET", "/_proxy/healthz", "", &[]).await;
    assert!(
        r.status == 200 && r.body.trim() == r#"{"status":"ok"}"#,
        "healthz: {} {:?}",
        r.status,
        r.body
    );
    let r = send(&px, "GET", "/_proxy/metrics", "", &[]).await;
    for line in [
        r#"proxy_requests_total{status="200"} 2"#,
        r#"proxy_upstream_healthy{upstream="0"} 1"#,
        r#"proxy_upstream_in_flight{upstream="0"} 0"#,
        r#"proxy_upstream_failures_total{upstream="0"} 0"#,
    ] {
        assert!(
            r.body.contains(&format!("{line}\n")),
            "metrics lack {line:?}:\n{}",
            r.body
        );
    }
    assert_error(
        &send(&px, "GET", "/_proxy/nope", "", &[]).await,
        404,
        "not found",
    );
}
