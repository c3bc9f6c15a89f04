//! The durable email queue, a table in SQLite. A job is claimed with a
//! lease; it is acknowledged (sent), failed, or released back to the queue.
//! A job whose lease expired, because the process that claimed it died, can
//! be claimed again.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// Why a queue call failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The email does not exist.
    #[error("not found")]
    NotFound,
    /// The queue was closed.
    #[error("database is closed")]
    Closed,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// The database failed at this step ("lease: ...").
    #[error("{step}: {source}")]
    Step {
        step: &'static str,
        source: rusqlite::Error,
    },
}

/// Wraps a database error with the step that failed.
fn wrap(step: &'static str) -> impl FnOnce(rusqlite::Error) -> QueueError {
    move |source| QueueError::Step { step, source }
}

/// Statuses of an email.
pub const STATUS_QUEUED: &str = "queued";
pub const STATUS_SENDING: &str = "sending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_FAILED: &str = "failed";

/// One job. The JSON form is the HTTP status body (without the body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Email {
    pub id: String,
    pub to: String,
    pub subject: String,
    #[serde(skip)]
    pub body: String,
    pub status: String,
    /// Why the email failed; empty otherwise.
    pub last_error: String,
    /// RFC 3339 UTC with seconds precision, stored as text.
    pub created_at: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS emails (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS emails_status ON emails(status, seq);";

const EMAIL_COLUMNS: &str = "id, to_addr, subject, body, status, last_error, created_at";

fn email_from_row(row: &Row<'_>) -> rusqlite::Result<Email> {
    Ok(Email {
        id: row.get(0)?,
        to: row.get(1)?,
        subject: row.get(2)?,
        body: row.get(3)?,
        status: row.get(4)?,
        last_error: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// The SQLite-backed queue: one connection shared by the whole service,
/// behind a mutex (SQLite allows one writer anyway). Every critical section
/// is short and synchronous: the lock is never held across an `.await`.
pub struct Queue {
    /// `None` once closed.
    conn: Mutex<Option<Connection>>,
}

/// A fresh email id: "em_" and 16 lowercase hex digits.
pub fn new_id() -> String {
    let bytes: [u8; 8] = rand::random();
    let mut id = String::from("em_");
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

fn now_millis() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl Queue {
    /// Opens (creating if missing) the database at `path` and applies the schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Queue, QueueError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA).map_err(wrap("apply schema"))?;
        Ok(Queue {
            conn: Mutex::new(Some(conn)),
        })
    }

    /// Closes the database; later calls fail. Closing twice is a no-op.
    pub fn close(&self) -> Result<(), QueueError> {
        match self.lock().take() {
            Some(conn) => conn.close().map_err(|(_, err)| err.into()),
            None => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the connection, holding the lock for just that call.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, QueueError>,
    ) -> Result<T, QueueError> {
        match self.lock().as_mut() {
            Some(conn) => f(conn),
            None => Err(QueueError::Closed),
        }
    }

    /// Stores `e` as a queued job; `e.id` and `e.created_at` must be set.
    pub fn enqueue(&self, e: &mut Email) -> Result<(), QueueError> {
        e.status = STATUS_QUEUED.to_string();
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO emails(id, to_addr, subject, body, status, created_at) \
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.id, e.to, e.subject, e.body, e.status, e.created_at],
            )?;
            Ok(())
        })
    }

    /// The email with this id, or `NotFound`.
    pub fn get(&self, id: &str) -> Result<Email, QueueError> {
        self.with_conn(|conn| {
            conn.query_row(
                &format!("SELECT {EMAIL_COLUMNS} FROM emails WHERE id = ?1"),
                params![id],
                email_from_row,
            )
            .optional()?
            .ok_or(QueueError::NotFound)
        })
    }

    /// Leases up to `limit` claimable jobs, oldest first: queued ones and
    /// those whose lease expired (their worker died). They stay "sending"
    /// until acknowledged, failed or released, or until the lease runs out.
    pub fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Email>, QueueError> {
        let now = now_millis();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let tx = conn.transaction()?; // rolled back on drop unless committed
            let mut jobs = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {EMAIL_COLUMNS} FROM emails \
                     WHERE status = ?1 OR (status = ?2 AND lease_until_ms <= ?3) \
                     ORDER BY seq LIMIT ?4"
                ))?;
                let rows = stmt
                    .query_map(
                        params![STATUS_QUEUED, STATUS_SENDING, now, limit as i64],
                        email_from_row,
                    )
                    .map_err(wrap("select claimable"))?;
                rows.collect::<Result<Vec<Email>, _>>()?
            };
            for e in &mut jobs {
                e.status = STATUS_SENDING.to_string();
                tx.execute(
                    "UPDATE emails SET status = ?1, lease_until_ms = ?2 WHERE id = ?3",
                    params![STATUS_SENDING, now.saturating_add(lease_ms), e.id],
                )
                .map_err(wrap("lease"))?;
            }
            tx.commit()?;
            Ok(jobs)
        })
    }

    /// Marks a claimed job as sent: it will never be claimed again.
    pub fn ack(&self, id: &str) -> Result<(), QueueError> {
        self.finish(id, STATUS_SENT, "")
    }

    /// Marks a claimed job as failed for good, with the reason.
    pub fn fail(&self, id: &str, reason: &str) -> Result<(), QueueError> {
        self.finish(id, STATUS_FAILED, reason)
    }

    /// Hands a claimed job back to the queue, claimable at once. A job that
    /// is not "sending" any more was settled already and keeps its status: a
    /// late `release` must not put a sent email back in the queue.
    pub fn release(&self, id: &str) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute(
                "UPDATE emails SET status = ?1, lease_until_ms = 0 WHERE id = ?2 AND status = ?3",
                params![STATUS_QUEUED, id, STATUS_SENDING],
            )?;
            Ok(())
        })
    }

    /// Moves a job out of "sending" and drops its lease. A job that is not
    /// "sending" any more was settled already, by a worker that claimed it
    /// after this one's lease ran out, and keeps its status: a late `fail`
    /// must not turn a sent email into a failed one.
    fn finish(&self, id: &str, status: &str, reason: &str) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute(
                "UPDATE emails SET status = ?1, last_error = ?2, lease_until_ms = 0 \
                 WHERE id = ?3 AND status = ?4",
                params![status, reason, id, STATUS_SENDING],
            )?;
            Ok(())
        })
    }
}
