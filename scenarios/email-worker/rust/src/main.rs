//! The email-worker service: config, logging, wiring, signals and graceful
//! shutdown.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use emailworker::config::Config;
use emailworker::httpapi;
use emailworker::logging;
use emailworker::metrics::Metrics;
use emailworker::provider::{self, Client};
use emailworker::queue::Queue;
use emailworker::worker::{self, Pool};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{oneshot, watch};

#[tokio::main]
async fn main() -> ExitCode {
    ExitCode::from(run().await)
}

/// Returns the exit status.
async fn run() -> u8 {
    logging::init();
    if let Err(err) = dump_tasks_on_sigquit(tokio::runtime::Handle::current()) {
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

    let q = match Queue::open(&cfg.db_path) {
        Ok(q) => Arc::new(q),
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
    let client = Client::new(
        provider::Options {
            base_url: cfg.provider_url.clone(),
            timeout: cfg.send_timeout,
            max_attempts: cfg.send_max_attempts,
            backoff: cfg.send_backoff,
            rate_per_sec: cfg.send_rate_per_sec,
        },
        m.clone(),
    );
    let mut pool = Pool::new(
        q.clone(),
        client,
        m.clone(),
        worker::Options {
            concurrency: cfg.worker_concurrency,
            buffer_size: cfg.buffer_size,
            lease: cfg.lease,
            poll_interval: cfg.poll_interval,
        },
    );

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

    // The pool stops claiming on the signal (stop); hard, set once the
    // shutdown budget is spent, cuts the sends still running.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (hard_tx, hard_rx) = watch::channel(false);
    pool.start(stop_rx, hard_rx);

    // The signal future starts the graceful shutdown, logging the
    // conventional signal name (e.g. "SIGTERM"), and starts
    // the shutdown budget below.
    let (signalled_tx, signalled_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
        let _ = stop_tx.send(true);
        let _ = signalled_tx.send(());
    };
    let srv = axum::serve(ln, httpapi::new(q.clone(), m)).with_graceful_shutdown(shutdown);
    // The shutdown budget starts at the signal; once spent, it cuts the
    // sends and the requests still running.
    let shutdown_timeout = cfg.shutdown_timeout;
    let mut budget_spent = hard_tx.subscribe();
    tokio::spawn(async move {
        if signalled_rx.await.is_ok() {
            tokio::time::sleep(shutdown_timeout).await;
            let _ = hard_tx.send(true);
        }
    });

    tokio::select! {
        res = srv => {
            if let Err(err) = res {
                tracing::error!(error = %err, "fatal error");
                return 1;
            }
        }
        // Budget spent: dropping the server drops the requests still running.
        Ok(_) = budget_spent.wait_for(|spent| *spent) => {}
    }
    // In-flight sends finish (or are cut at the budget and released) and
    // buffered emails return to the queue before the database closes.
    pool.wait().await;
    // Before "stopped", as the README orders it.
    let _ = q.close();
    tracing::info!("stopped");
    0
}

/// On SIGQUIT (`kill -QUIT <pid>`), writes the trace of every task of
/// `runtime` to stderr and exits with status 2. It runs on a thread and a
/// runtime of its own, so it still answers when every worker of `runtime`
/// is stuck.
fn dump_tasks_on_sigquit(runtime: tokio::runtime::Handle) -> std::io::Result<()> {
    let own = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut quit = {
        let _in_own = own.enter();
        signal(SignalKind::quit())?
    };
    std::thread::Builder::new()
        .name("sigquit".into())
        .spawn(move || {
            own.block_on(async move {
                quit.recv().await;
                let mut out = String::from("SIGQUIT: task dump\n");
                // A dump needs every worker to pause at the scheduler.
                match tokio::time::timeout(Duration::from_secs(2), runtime.dump()).await {
                    Ok(dump) => {
                        for task in dump.tasks().iter() {
                            let _ = write!(out, "\ntask {}:\n{}\n", task.id(), task.trace());
                        }
                    }
                    Err(_) => out.push_str(
                        "no task dump: a runtime worker thread did not come back to the scheduler within 2 s\n",
                    ),
                }
                eprint!("{out}");
                std::process::exit(2);
            })
        })?;
    Ok(())
}
