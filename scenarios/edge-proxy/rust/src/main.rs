//! The edge proxy: config, logging, wiring, the health checker, signals and
//! graceful shutdown.

use std::convert::Infallible;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use edgeproxy::config::Config;
use edgeproxy::logging;
use edgeproxy::metrics::Metrics;
use edgeproxy::proxy::{self, Proxy};
use edgeproxy::upstream::{self, Pool};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> ExitCode {
    ExitCode::from(run().await)
}

/// Returns the exit status.
async fn run() -> u8 {
    logging::init();
    if let Err(err) = install_task_dump(tokio::runtime::Handle::current()) {
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
    let pool = Arc::new(Pool::new(
        &cfg.upstream_urls,
        upstream::Options {
            max_conns: cfg.upstream_max_conns,
            health_timeout: cfg.health_timeout,
        },
    ));
    let px = Arc::new(Proxy::new(
        pool.clone(),
        proxy::Options {
            upstream_timeout: cfg.upstream_timeout,
            body_idle_timeout: cfg.body_idle_timeout,
            max_idle: cfg.upstream_max_idle,
        },
        m,
    ));

    // One round of probes before listening, so the first request already
    // knows which upstreams answer.
    pool.check_all().await;

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
    let health = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.run(cfg.health_interval).await })
    };

    let graceful = GracefulShutdown::new();
    let name = loop {
        tokio::select! {
            accepted = ln.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    // Out of fds or a connection reset before accept: the
                    // listener itself is fine.
                    Err(_) => continue,
                };
                let px = px.clone();
                let svc = service_fn(move |req| {
                    let px = px.clone();
                    async move { Ok::<_, Infallible>(px.serve(req, peer).await) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
        }
    };
    tracing::info!(signal = name, "shutting down");
    health.abort();
    drop(ln);

    tokio::select! {
        () = graceful.shutdown() => {}
        // Budget spent: returning drops the requests still running.
        () = tokio::time::sleep(cfg.shutdown_timeout) => {}
    }
    tracing::info!("stopped");
    0
}

/// How long a task dump waits for the runtime's workers to reach the scheduler.
const DUMP_WAIT: Duration = Duration::from_secs(2);

/// `kill -QUIT <pid>` prints what every task of `main` is waiting on to
/// stderr and exits with status 2, the usual SIGQUIT contract. The
/// signal is watched from a thread with a runtime of its own: when the proxy
/// stops answering, every worker of `main` may be stuck.
fn install_task_dump(main: tokio::runtime::Handle) -> io::Result<()> {
    let watcher = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, before the proxy listens, not when the thread starts.
    // `main`'s runtime is running on this thread: enter the watcher's, never block on it.
    let mut quit = {
        let _watcher = watcher.enter();
        signal(SignalKind::quit())?
    };
    std::thread::Builder::new()
        .name("task-dump".into())
        .spawn(move || {
            watcher.block_on(async {
                quit.recv().await;
                let report = match tokio::time::timeout(DUMP_WAIT, main.dump()).await {
                    Ok(dump) => {
                        let tasks = dump.tasks();
                        let mut report = format!("task dump: {} tasks\n", tasks.iter().count());
                        for task in tasks.iter() {
                            report += &format!("\n{}:\n{}\n", task.id(), task.trace());
                        }
                        report
                    }
                    Err(_) => format!(
                        "task dump: none, a runtime worker is blocked outside an .await \
                         (it did not reach the scheduler within {DUMP_WAIT:?})\n"
                    ),
                };
                let _ = io::stderr().lock().write_all(report.as_bytes());
                std::process::exit(2);
            })
        })?;
    Ok(())
}
