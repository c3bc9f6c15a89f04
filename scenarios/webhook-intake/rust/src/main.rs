//! The webhook-intake service: config, logging, wiring, signals and
//! graceful shutdown.

use std::process::ExitCode;
use std::sync::Arc;

use intake::config::Config;
use intake::downstream::{self, Client};
use intake::httpapi;
use intake::intake::Service;
use intake::logging;
use intake::metrics::Metrics;
use intake::signature::Verifier;
use intake::store::Store;
use intake::worker::Pool;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

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

    let st = match Store::open(&cfg.db_path) {
        Ok(st) => Arc::new(st),
        Err(err) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    };

    // Work a previous process accepted but did not finish.
    let pending = match st.pending() {
        Ok(pending) => pending,
        Err(err) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    };

    // Installed before listening, so a signal from now on is a graceful
    // shutdown rather than the default kill.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(error = %err, "fatal error");
            return 1;
        }
    };

    let m = Arc::new(Metrics::new());
    let dc = Client::new(
        downstream::Options {
            base_url: cfg.downstream_url.clone(),
            timeout: cfg.downstream_timeout,
            max_attempts: cfg.downstream_max_attempts,
            backoff: cfg.downstream_backoff,
        },
        m.clone(),
    );
    let pool = Arc::new(Pool::new(cfg.queue_size, dc, st.clone(), m.clone()));
    // The workers get their own stop signal: they stop after the HTTP server
    // has drained, so requests still running can queue their events.
    let (stop_work, work_stop) = watch::channel(false);
    pool.start(work_stop, cfg.workers);
    let requeue = pool.clone();
    tokio::spawn(async move {
        for ev in pending {
            if !requeue.submit(ev).await {
                return;
            }
        }
    });
    let svc = Arc::new(Service::new(
        Verifier::new(&cfg.webhook_secret, cfg.signature_tolerance),
        st.clone(),
        pool.clone(),
        m.clone(),
    ));

    // Listening before logging means the "listening" line carries the real
    // port even when LISTEN_ADDR asks for port 0.
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

    // The signal future starts the graceful shutdown, logging the
    // conventional signal name both twins use (e.g. "SIGTERM"), and starts
    // the shutdown budget below.
    let (signalled_tx, signalled_rx) = oneshot::channel::<Instant>();
    let shutdown = async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
        let _ = signalled_tx.send(Instant::now() + cfg.shutdown_timeout);
    };
    let srv =
        axum::serve(ln, httpapi::new(svc, m, cfg.max_body_bytes)).with_graceful_shutdown(shutdown);
    // One budget for both stages: drain the HTTP requests, then let the
    // workers finish the attempts they have on the wire. The deadline is
    // kept outside the select: the signal can arrive in the same poll that
    // ends the server, and the workers must still get their budget.
    let mut signalled_rx = signalled_rx;
    let mut deadline: Option<Instant> = None;
    let budget = async {
        match (&mut signalled_rx).await {
            Ok(at) => {
                deadline = Some(at);
                tokio::time::sleep_until(at).await
            }
            Err(_) => std::future::pending().await,
        }
    };

    tokio::select! {
        res = srv => {
            if let Err(err) = res {
                tracing::error!(error = %err, "fatal error");
                return 1;
            }
        }
        // Budget spent: dropping the server drops the requests still running.
        () = budget => {}
    }
    stop_work.send_replace(true);
    if let Some(deadline) = deadline.or_else(|| signalled_rx.try_recv().ok()) {
        // Budget spent: unfinished events stay pending for the next start.
        let _ = tokio::time::timeout_at(deadline, pool.wait()).await;
    }
    // Before "stopped", as the README orders it.
    let _ = st.close();
    tracing::info!("stopped");
    0
}
