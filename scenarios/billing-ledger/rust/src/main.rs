//! The billing-ledger service: config, logging, wiring, signals and
//! graceful shutdown.

use std::process::ExitCode;
use std::sync::Arc;

use ledger::config::Config;
use ledger::httpapi;
use ledger::ledger::Service;
use ledger::logging;
use ledger::metrics::Metrics;
use ledger::provider::{self, Client};
use ledger::store::Store;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

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
    let pc = Client::new(
        provider::Options {
            base_url: cfg.provider_url.clone(),
            timeout: cfg.provider_timeout,
            max_attempts: cfg.provider_max_attempts,
            backoff: cfg.provider_backoff,
        },
        m.clone(),
    );
    let svc = Arc::new(Service::new(
        st.clone(),
        pc,
        m.clone(),
        cfg.max_balance_cents,
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
    let (signalled_tx, signalled_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
        let _ = signalled_tx.send(());
    };
    let srv = axum::serve(ln, httpapi::new(svc, m)).with_graceful_shutdown(shutdown);
    let budget = async move {
        match signalled_rx.await {
            Ok(()) => tokio::time::sleep(cfg.shutdown_timeout).await,
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
    // Before "stopped", as the README orders it.
    let _ = st.close();
    tracing::info!("stopped");
    0
}
