//! The in-process worker pool that delivers accepted events downstream.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::downstream::Client;
use crate::metrics::Metrics;
use crate::store::{Event, Store, STATUS_DELIVERED, STATUS_FAILED};

/// A bounded queue of events and the workers that drain it.
pub struct Pool {
    queue_tx: mpsc::Sender<Event>,
    /// Shared by the workers (tokio's channel has one receiver; Go's has
    /// many): whoever holds the lock takes the next event.
    queue_rx: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    stopped: watch::Sender<bool>,
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
            stopped: watch::Sender::new(false),
            client,
            store,
            metrics,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Runs `n` workers until `stop` turns true. A worker busy with an event
    /// finishes the attempt on the wire, then stops; an event it did not
    /// finish stays pending in the store and is queued again at the next
    /// start.
    pub fn start(self: &Arc<Self>, stop: watch::Receiver<bool>, n: usize) {
        let pool = Arc::clone(self);
        let mut watcher = stop.clone();
        tokio::spawn(async move {
            let _ = watcher.wait_for(|stopped| *stopped).await;
            pool.stopped.send_replace(true);
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
    /// reports whether it was queued: not if the pool stopped first, in which
    /// case the event stays pending in the store.
    pub async fn submit(&self, ev: Event) -> bool {
        self.metrics.add_queue_depth(1);
        let mut stopped = self.stopped.subscribe();
        tokio::select! {
            sent = self.queue_tx.send(ev) => {
                if sent.is_err() {
                    self.metrics.add_queue_depth(-1);
                }
                sent.is_ok()
            }
            _ = stopped.wait_for(|stopped| *stopped) => {
                self.metrics.add_queue_depth(-1);
                false
            }
        }
    }

    async fn run(&self, mut stop: watch::Receiver<bool>) {
        loop {
            let ev = {
                let mut queue = self.queue_rx.lock().await;
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return,
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
    async fn process(&self, stop: &watch::Receiver<bool>, ev: Event) {
        let (attempts, result) = self.client.deliver(&ev, stop).await;
        if result.is_err() && *stop.borrow() {
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
                tracing::error!(event_id = %ev.id, attempts, error = %err, "event failed")
            }
            Ok(()) => tracing::info!(event_id = %ev.id, attempts, "event delivered"),
        }
    }
}
