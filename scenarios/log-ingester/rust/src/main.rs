//! The log-ingester service: config, logging, wiring, the housekeeping
//! tick, signals and graceful shutdown.

use std::error::Error;
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ingester::archive;
use ingester::batch::Batcher;
use ingester::config::Config;
use ingester::httpapi;
use ingester::ingest::Service;
use ingester::logging;
use ingester::metrics::Metrics;
use ingester::quota::Limiter;
use ingester::store::Store;
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

    // Subscribed before listening, so a signal during startup is not lost.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    dump_tasks_on_sigquit()?;

    let m = Arc::new(Metrics::new());
    let depth = m.clone();
    let b = Arc::new(Batcher::new(
        cfg.batch_size,
        cfg.max_queued_lines,
        cfg.flush_interval,
        move |n| depth.set_queue_depth(n),
    ));
    let svc = Arc::new(Service::new(
        cfg.max_line_bytes,
        Limiter::new(cfg.quota_lines, cfg.quota_window, cfg.quota_max_tenants),
        b.clone(),
        st.clone(),
        archive::Client::new(&cfg.archive_url, cfg.archive_timeout),
        m.clone(),
    ));

    let stop_flush = CancellationToken::new();
    let _stop_flush_on_return = stop_flush.clone().drop_guard();
    let flusher = {
        let (b, svc, stop) = (b.clone(), svc.clone(), stop_flush.clone());
        tokio::spawn(async move {
            b.run(stop, |batch| {
                let svc = svc.clone();
                async move { svc.flush(batch).await }
            })
            .await
        })
    };
    // Ticks at half the flush interval, so a batch waits at most 1.5 of it.
    let housekeeper = {
        let svc = svc.clone();
        let period = (cfg.flush_interval / 2).max(Duration::from_millis(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(Instant::now() + period, period);
            loop {
                let now = tick.tick().await;
                svc.housekeep(now.into_std());
            }
        })
    };

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

    // One budget: drain the HTTP requests, then flush what they queued.
    let deadline = Instant::now() + cfg.shutdown_timeout;
    stop_serving.cancel();
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(res) => res??,
        Err(_) => server.abort(),
    }
    housekeeper.abort();
    b.close();
    if tokio::time::timeout_at(deadline, flusher).await.is_err() {
        tracing::error!("shutdown budget spent: lines not flushed");
    }
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
