//! Drains the queue: a dispatcher claims emails into a bounded buffer, a
//! fixed number of workers send them through the provider and settle each
//! one in the queue.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::{JoinHandle, JoinSet};

use crate::metrics::Metrics;
use crate::provider::{Client, Message};
use crate::queue::{Email, Queue};

/// Configures a [`Pool`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Workers, i.e. sends at once.
    pub concurrency: usize,
    /// Claimed emails waiting for a worker, at most.
    pub buffer_size: usize,
    /// How long a claim holds an email.
    pub lease: Duration,
    /// Wait between claims when the queue is empty.
    pub poll_interval: Duration,
}

/// The dispatcher and its workers.
pub struct Pool {
    inner: Arc<Inner>,
    done: Option<JoinHandle<()>>,
}

struct Inner {
    q: Arc<Queue>,
    client: Client,
    metrics: Arc<Metrics>,
    opts: Options,
}

/// The shared end of the buffer: workers take turns receiving from it.
type Buffer = Arc<Mutex<mpsc::Receiver<Email>>>;

/// Resolves once the flag is set; never if
/// its sender is gone without setting it.
async fn fired(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|set| *set).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Pool {
    /// A pool; `start` runs it.
    pub fn new(q: Arc<Queue>, client: Client, metrics: Arc<Metrics>, opts: Options) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                q,
                client,
                metrics,
                opts,
            }),
            done: None,
        }
    }

    /// Claims and sends emails until `stop` is set. Then sends in progress
    /// finish, unless `hard` is set first (their emails return to the
    /// queue), and claimed emails still waiting in the buffer return to the
    /// queue. `wait` returns once all of that is done.
    pub fn start(&mut self, stop: watch::Receiver<bool>, hard: watch::Receiver<bool>) {
        let (tx, rx) = mpsc::channel(self.inner.opts.buffer_size);
        let buf: Buffer = Arc::new(Mutex::new(rx));
        let mut workers = JoinSet::new();
        for _ in 0..self.inner.opts.concurrency {
            let inner = self.inner.clone();
            workers.spawn(inner.work(stop.clone(), hard.clone(), buf.clone()));
        }
        let inner = self.inner.clone();
        self.done = Some(tokio::spawn(async move {
            inner.dispatch(stop, tx).await;
            workers.join_all().await;
        }));
    }

    /// Waits until the pool has drained after `stop`.
    pub async fn wait(self) {
        if let Some(done) = self.done {
            let _ = done.await;
        }
    }
}

impl Inner {
    /// Claims as many emails as the buffer has room for, so the process
    /// never holds more than `buffer_size` unsent emails besides those being
    /// sent. Dropping `buf` at the end closes the buffer.
    async fn dispatch(&self, mut stop: watch::Receiver<bool>, buf: mpsc::Sender<Email>) {
        while !*stop.borrow() {
            let mut jobs = Vec::new();
            let free = buf.capacity();
            if free > 0 {
                match self.q.claim(free, self.opts.lease) {
                    Ok(claimed) => jobs = claimed,
                    Err(err) => tracing::error!(error = %err, "internal error"),
                }
            }
            let claimed = jobs.len();
            // Only this task sends on buf and it had room for all of them.
            for e in jobs {
                self.metrics.add_buffered(1);
                let _ = buf.send(e).await;
            }
            if claimed == 0 {
                tokio::select! {
                    () = tokio::time::sleep(self.opts.poll_interval) => {}
                    () = fired(&mut stop) => {}
                }
            }
        }
    }

    /// Sends the buffered emails one at a time until the buffer is closed.
    async fn work(
        self: Arc<Self>,
        stop: watch::Receiver<bool>,
        hard: watch::Receiver<bool>,
        buf: Buffer,
    ) {
        loop {
            let next = buf.lock().await.recv().await;
            let Some(e) = next else { break };
            self.metrics.add_buffered(-1);
            if *stop.borrow() {
                // Shutting down: an email not started yet goes back to the
                // queue rather than into a send the deadline may cut short.
                self.release(&e);
                continue;
            }
            self.metrics.add_sending(1);
            self.process(hard.clone(), &e).await;
            self.metrics.add_sending(-1);
        }
    }

    /// Sends one claimed email and settles it in the queue: sent, failed for
    /// good, or released when the shutdown deadline cut the send short.
    async fn process(&self, mut hard: watch::Receiver<bool>, e: &Email) {
        let msg = Message {
            message_id: e.id.clone(),
            to: e.to.clone(),
            subject: e.subject.clone(),
            body: e.body.clone(),
        };
        let outcome = tokio::select! {
            outcome = self.client.send(&msg) => Some(outcome),
            () = fired(&mut hard) => None,
        };
        match outcome {
            Some((attempts, Ok(()))) => {
                // Acknowledge only now: if the process dies before this line
                // the lease runs out and the email is sent again, and the
                // provider drops the duplicate by its Idempotency-Key.
                if let Err(err) = self.q.ack(&e.id) {
                    tracing::error!(error = %err, "internal error");
                    return;
                }
                self.metrics.sent();
                tracing::info!(email_id = %e.id, attempts, "email sent");
            }
            None => self.release(e),
            Some((attempts, Err(err))) => {
                tracing::error!(email_id = %e.id, attempts, error = %err, "send failed");
                if let Err(err) = self.q.fail(&e.id, &err.to_string()) {
                    tracing::error!(error = %err, "internal error");
                    return;
                }
                self.metrics.failed();
            }
        }
    }

    /// Hands a claimed email back to the queue.
    fn release(&self, e: &Email) {
        if let Err(err) = self.q.release(&e.id) {
            tracing::error!(error = %err, "internal error");
            return;
        }
        self.metrics.released();
        tracing::info!(email_id = %e.id, "email released");
    }
}
