//! Groups accepted lines into batches, sealed by size or by age, and hands
//! them one at a time to a flush function.

use std::future::Future;
use std::mem;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::Line;

/// Why lines were not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Taking the lines would put more than the configured number of lines
    /// in waiting.
    #[error("too many lines waiting to be written")]
    Overloaded,
    #[error("batcher closed")]
    Closed,
}

struct Inner {
    current: Vec<Line>,
    /// When `current` got its first line.
    opened: Option<Instant>,
    sealed: Vec<Vec<Line>>,
    /// Lines taken and not yet flushed.
    queued: usize,
    closed: bool,
}

/// Safe for concurrent use.
pub struct Batcher {
    size: usize,
    max_queued: usize,
    max_age: Duration,
    inner: Mutex<Inner>,
    wake: Notify,
    depth: Box<dyn Fn(usize) + Send + Sync>,
}

impl Batcher {
    /// A batcher sealing batches at `size` lines or `max_age`, holding at
    /// most `max_queued` lines that are not flushed yet; `depth` is told the
    /// number of waiting lines whenever it changes.
    pub fn new(
        size: usize,
        max_queued: usize,
        max_age: Duration,
        depth: impl Fn(usize) + Send + Sync + 'static,
    ) -> Batcher {
        Batcher {
            size,
            max_queued,
            max_age,
            inner: Mutex::new(Inner {
                current: Vec::new(),
                opened: None,
                sealed: Vec::new(),
                queued: 0,
                closed: false,
            }),
            wake: Notify::new(),
            depth: Box::new(depth),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `lines` into the current batch, all or none.
    pub fn add(&self, lines: Vec<Line>, now: Instant) -> Result<(), BatchError> {
        let mut b = self.lock();
        if b.closed {
            return Err(BatchError::Closed);
        }
        if b.queued + lines.len() > self.max_queued {
            return Err(BatchError::Overloaded);
        }
        if b.current.is_empty() {
            b.opened = Some(now);
        }
        b.queued += lines.len();
        b.current.extend(lines);
        (self.depth)(b.queued);
        if b.current.len() >= self.size {
            self.seal(&mut b);
        }
        Ok(())
    }

    /// Moves the current batch to the flush queue; the lock is held.
    fn seal(&self, b: &mut Inner) {
        if b.current.is_empty() {
            return;
        }
        let batch = mem::take(&mut b.current);
        b.sealed.push(batch);
        self.wake.notify_one();
    }

    /// Seals the current batch if it is at least `max_age` old at `now` and
    /// returns how many lines it sealed.
    pub fn flush_aged(&self, now: Instant) -> usize {
        let mut b = self.lock();
        let n = b.current.len();
        let young = b
            .opened
            .is_none_or(|opened| now.saturating_duration_since(opened) < self.max_age);
        if n == 0 || young {
            return 0;
        }
        self.seal(&mut b);
        n
    }

    /// Seals the current batch and refuses further lines; `run` then
    /// flushes what is left and returns.
    pub fn close(&self) {
        let mut b = self.lock();
        b.closed = true;
        self.seal(&mut b);
        self.wake.notify_one();
    }

    /// Takes the oldest sealed batch, and whether the batcher is closed.
    fn next(&self) -> (Option<Vec<Line>>, bool) {
        let mut b = self.lock();
        let batch = (!b.sealed.is_empty()).then(|| b.sealed.remove(0));
        (batch, b.closed)
    }

    /// Gives back the room of `n` lines that reached the store.
    fn flushed(&self, n: usize) {
        let mut b = self.lock();
        b.queued -= n;
        (self.depth)(b.queued);
    }

    /// Hands sealed batches to `flush`, oldest first, one at a time, until
    /// `close` has been called and everything sealed is flushed, or `stop`
    /// is cancelled.
    pub async fn run<F, Fut>(&self, stop: CancellationToken, mut flush: F)
    where
        F: FnMut(Vec<Line>) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            let (batch, closed) = self.next();
            if let Some(batch) = batch {
                let n = batch.len();
                flush(batch).await;
                self.flushed(n);
                continue;
            }
            if closed {
                return;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = stop.cancelled() => return,
            }
        }
    }
}
