//! The webhook-intake service: config, logging, wiring, signals and
//! graceful shutdown.

use std::error::Error;
use std::fmt::Write as _;
use std::future::IntoFuture;
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
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let cfg = match Config::from_env() {
        Ok(cfg) => cfg,
        Err(err) => {
            tracing::error!(error = %err, "invalid configuration");
            return ExitCode::from(2);
        }
    };
    match run(cfg).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "fatal error");
            ExitCode::FAILURE
        }
    }
}

/// Serves until a stop signal, then shuts down within the configured budget.
async fn run(cfg: Config) -> Result<(), Box<dyn Error>> {
    let st = Arc::new(Store::open(&cfg.db_path)?);
    // Work a previous process accepted but did not finish.
    let pending = st.pending()?;

    // Subscribed before listening, so a signal that comes during startup
    // is not lost.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    dump_tasks_on_sigquit()?;

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
    let stop_work = CancellationToken::new();
    pool.start(stop_work.clone(), cfg.workers);
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
    let ln = TcpListener::bind(&cfg.listen_addr).await?;
    tracing::info!(addr = %ln.local_addr()?, "listening");

    let stop_serving = CancellationToken::new();
    let mut server = tokio::spawn(
        axum::serve(ln, httpapi::new(svc, m, cfg.max_body_bytes))
            .with_graceful_shutdown(stop_serving.clone().cancelled_owned())
            .into_future(),
    );
    let name = tokio::select! {
        res = &mut server => {
            res??;
            return Err("the HTTP server stopped on its own".into());
        }
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutting down");

    // One budget for both stages: drain the HTTP requests, then let the
    // workers finish the attempts they have on the wire.
    let deadline = Instant::now() + cfg.shutdown_timeout;
    stop_serving.cancel();
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(res) => res??,
        // Budget spent: the requests still running are dropped.
        Err(_) => server.abort(),
    }
    stop_work.cancel();
    // Budget spent: unfinished events stay pending for the next start.
    let _ = tokio::time::timeout_at(deadline, pool.wait()).await;
    // Before "stopped", as the README orders it.
    let _ = st.close();
    tracing::info!("stopped");
    Ok(())
}

/// `kill -QUIT <pid>` writes the trace of every task to stderr and exits with
/// status 2: what each task is waiting on, for a service that hangs.
fn dump_tasks_on_sigquit() -> std::io::Result<()> {
    let mut quit = signal(SignalKind::quit())?;
    tokio::spawn(async move {
        quit.recv().await;
        let dump = tokio::runtime::Handle::current().dump().await;
        let mut out = String::new();
        for (i, task) in dump.tasks().iter().enumerate() {
            let _ = writeln!(out, "task {}:\n{}\n", i + 1, task.trace());
        }
        eprint!("{out}");
        std::process::exit(2);
    });
    Ok(())
}
