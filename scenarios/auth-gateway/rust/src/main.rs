//! The auth gateway: config, logging, wiring, the key refresher, the rules
//! watcher (file polling and SIGHUP), signals and graceful shutdown.

use std::process::ExitCode;
use std::sync::Arc;

use authgw::config::Config;
use authgw::gateway::{self, Gateway};
use authgw::keys::Cache;
use authgw::logging;
use authgw::metrics::Metrics;
use authgw::rules::Store;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> ExitCode {
    ExitCode::from(run().await)
}

/// Returns the exit status.
async fn run() -> u8 {
    logging::init();
    let cfg = match Config::from_env() {
        Ok(cfg) => cfg,
        Err(err) => {
            tracing::error!(error = %err, "invalid configuration");
            return 2;
        }
    };
    let store = match Store::new(&cfg.rules_path) {
        Ok(store) => Arc::new(store),
        Err(err) => {
            tracing::error!(error = %err, "invalid rules file");
            return 2;
        }
    };
    {
        let (set, _) = store.current();
        tracing::info!(
            routes = set.len(),
            fingerprint = set.fingerprint(),
            "rules loaded"
        );
    }
    let (mut term, mut int, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(term), Ok(int), Ok(hup)) => (term, int, hup),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    };

    let m = Arc::new(Metrics::new());
    let keys = Arc::new(Cache::new(
        &cfg.keys_url,
        cfg.keys_timeout,
        cfg.keys_min_refresh,
        m.clone(),
    ));
    // Serving without keys is allowed: every token then asks for a fetch.
    let _ = keys.refresh("startup").await;
    let refresher = {
        let keys = keys.clone();
        let every = cfg.keys_refresh;
        tokio::spawn(async move { keys.run(every).await })
    };
    // Reloads on SIGHUP and when the file changes; both in this one task, so
    // reloads never overlap.
    let watcher = {
        let store = store.clone();
        let m = m.clone();
        let every = cfg.rules_poll;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = hup.recv() => store.reload("sighup", &m),
                    _ = tick.tick() => store.poll(&m),
                }
            }
        })
    };

    let gw = Arc::new(Gateway::new(
        gateway::Options {
            backend_url: cfg.backend_url.clone(),
            backend_timeout: cfg.backend_timeout,
            leeway: cfg.leeway,
        },
        keys,
        store,
        m,
    ));
    let ln = match TcpListener::bind(&cfg.listen_addr).await {
        Ok(ln) => ln,
        Err(err) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    };
    match ln.local_addr() {
        Ok(addr) => tracing::info!(addr = %addr, "listening"),
        Err(err) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(ln, gw.router())
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutting down");
    refresher.abort();
    watcher.abort();
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(cfg.shutdown_timeout, server).await;
    tracing::info!("stopped");
    0
}
