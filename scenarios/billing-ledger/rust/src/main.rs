//! The billing-ledger service: config, logging, wiring, signals and
//! graceful shutdown.

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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
    if let Err(err) = spawn_quit_handler(tokio::runtime::Handle::current()) {
        tracing::error!(error = %err, "fatal error");
        return 1;
    }

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

    // Both subscribed before the port opens: from then on SIGTERM and SIGINT
    // start the graceful shutdown below instead of ending the process.
    let subscribed = signal(SignalKind::terminate())
        .and_then(|sigterm| Ok((sigterm, signal(SignalKind::interrupt())?)));
    let (mut sigterm, mut sigint) = match subscribed {
        Ok(pair) => pair,
        Err(err) => {
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

    // The first signal starts the graceful shutdown (logged with the name
    // operators know it by) and the budget below.
    let (signalled_tx, signalled_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let received = tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
        };
        tracing::info!(signal = received, "shutting down");
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

/// `kill -QUIT <pid>`: every task of the service's runtime and the `.await`
/// it waits at, on stderr, then exit status 2, the usual
/// SIGQUIT contract. Handled on a thread of its own with a single-threaded runtime, which
/// keeps running when all of the service's workers are busy or stuck.
fn spawn_quit_handler(service: tokio::runtime::Handle) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Called from inside the service's runtime: enter this one, never block on it here.
    let mut sigquit = {
        let _own = rt.enter();
        signal(SignalKind::quit())?
    };
    std::thread::Builder::new()
        .name("sigquit".into())
        .spawn(move || {
            rt.block_on(sigquit.recv());
            let dump = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), service.dump()).await
            });
            let mut stderr = io::stderr().lock();
            match dump {
                Ok(dump) => {
                    let _ = writeln!(stderr, "SIGQUIT: {} tasks", dump.tasks().iter().count());
                    for task in dump.tasks().iter() {
                        let _ = writeln!(stderr, "\ntask {}:\n{}", task.id(), task.trace());
                    }
                }
                Err(_) => {
                    let _ = writeln!(
                        stderr,
                        "SIGQUIT: no task dump: a worker thread is blocked outside an .await \
                         (the runtime did not pause within 2 s)"
                    );
                }
            }
            let _ = stderr.flush();
            std::process::exit(2);
        })?;
    Ok(())
}
