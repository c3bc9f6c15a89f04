//! The in-process worker pool that delivers accepted events downstream.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::downstream::{Chain, Client};
use crate::metrics::Metrics;
use crate::store::{Event, Store, STATUS_DELIVERED, STATUS_FAILED};

/// A bounded queue of events and the workers that drain it.
pub struct Pool {
    queue_tx: mpsc::Sender<Event>,
    /// Shared by the workers (an mpsc channel has one receiver): whoever
    /// holds the lock takes the next event.
    queue_rx: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    /// Cancelled once the workers are told to stop: senders still waiting
    /// for room give up.
    stopped: CancellationToken,
    client: Client,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// A pool whose queue holds up to `size` events.
    pub fn new(size: usize, client: Client, store: Arc<Store>, metrics: Arc<Metrics>) -> Pool {
        let (queue_tx, queue_rx) = mpsc::channel(size.max(1));
        Pool {
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            stopped: CancellationToken::new(),
            client,
            store,
            metrics,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Runs `n` workers until `stop` is cancelled. A worker busy with an
    /// event finishes the attempt on the wire, then stops.
    pub fn start(self: &Arc<Self>, stop: CancellationToken, n: usize) {
        let pool = Arc::clone(self);
        let watcher = stop.clone();
        tokio::spawn(async move {
            watcher.cancelled().await;
            pool.stopped.cancel();
        });
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..n {
            let pool = Arc::clone(self);
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move { pool.run(stop).await }));
        }
    }

    /// Waits until every worker has returned.
    pub async fn wait(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Queues `ev`, waiting for room (backpressure on the senders), and
    /// reports whether it was queued (not if the pool stopped first).
    pub async fn submit(&self, ev: Event) -> bool {
        self.metrics.add_queue_depth(1);
        tokio::select! {
            sent = self.queue_tx.send(ev) => {
                if sent.is_err() {
                    self.metrics.add_queue_depth(-1);
                }
                sent.is_ok()
            }
            () = self.stopped.cancelled() => {
                self.metrics.add_queue_depth(-1);
                false
            }
        }
    }

    async fn run(&self, stop: CancellationToken) {
        loop {
            let ev = {
                let mut queue = self.queue_rx.lock().await;
                tokio::select! {
                    () = stop.cancelled() => return,
                    ev = queue.recv() => match ev {
                        Some(ev) => ev,
                        None => return,
                    },
                }
            };
            self.metrics.add_queue_depth(-1);
            self.process(&stop, ev).await;
        }
    }

    /// Delivers one event and records the outcome.
    async fn process(&self, stop: &CancellationToken, ev: Event) {
        let (attempts, result) = self.client.deliver(&ev, stop).await;
        if result.is_err() && stop.is_cancelled() {
            return; // shutting down: left pending, delivered after the restart
        }
        // Counted before the store says so, so whoever sees the outcome in
        // the store also sees it in the metrics.
        let status = match &result {
            Ok(()) => {
                self.metrics.event_delivered();
                STATUS_DELIVERED
            }
            Err(_) => {
                self.metrics.event_failed();
                STATUS_FAILED
            }
        };
        if let Err(err) = self.store.finish(&ev.id, status, attempts) {
            tracing::error!(error = %err, "internal error");
        }
        match result {
            Err(err) => {
                tracing::error!(event_id = %ev.id, attempts, error = %Chain(&err), "event failed")
            }
            Ok(()) => tracing::info!(event_id = %ev.id, attempts, "event delivered"),
        }
    }
}
