//! Received events and their delivery state, in SQLite.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// Delivery states of an event.
pub const STATUS_PENDING: &str = "pending";
pub const STATUS_DELIVERED: &str = "delivered";
pub const STATUS_FAILED: &str = "failed";

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The event does not exist.
    #[error("not found")]
    NotFound,
    #[error("database is closed")]
    Closed,
    /// A database call failed at `step` ("insert event", ...).
    #[error("{step}: {source}")]
    Db {
        step: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Wraps a database error with the step that failed ("insert event: ...").
fn wrap(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Db { step, source }
}

/// One received event. The JSON form is the GET response body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The raw body as received, forwarded downstream unchanged.
    #[serde(skip)]
    pub payload: Vec<u8>,
    pub status: String,
    pub attempts: i64,
    /// RFC 3339 UTC with seconds precision, stored as text.
    pub received_at: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  payload BLOB NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  received_at TEXT NOT NULL
);";

const EVENT_COLUMNS: &str = "id, type, payload, status, attempts, received_at";

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        kind: row.get(1)?,
        payload: row.get(2)?,
        status: row.get(3)?,
        attempts: row.get(4)?,
        received_at: row.get(5)?,
    })
}

/// The SQLite-backed event store: one connection shared by the whole
/// service, behind a mutex (SQLite allows one writer anyway). Every critical
/// section is short and synchronous: the lock is never held across an
/// `.await`.
pub struct Store {
    /// `None` once closed.
    conn: Mutex<Option<Connection>>,
}

impl Store {
    /// Opens (creating if missing) the database at `path` and applies the schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA).map_err(wrap("apply schema"))?;
        Ok(Store {
            conn: Mutex::new(Some(conn)),
        })
    }

    /// Closes the database; later calls fail. Closing twice is a no-op.
    pub fn close(&self) -> Result<(), StoreError> {
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
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.lock().as_mut() {
            Some(conn) => f(conn),
            None => Err(StoreError::Closed),
        }
    }

    /// Stores `ev` as pending unless an event with its id exists, and
    /// reports whether it was inserted.
    pub fn insert(&self, ev: &Event) -> Result<bool, StoreError> {
        self.with_conn(|conn| {
            let n = conn
                .execute(
                    &format!(
                        "INSERT INTO events({EVENT_COLUMNS}) VALUES(?1, ?2, ?3, ?4, 0, ?5) \
                         ON CONFLICT(id) DO NOTHING"
                    ),
                    params![ev.id, ev.kind, ev.payload, STATUS_PENDING, ev.received_at],
                )
                .map_err(wrap("insert event"))?;
            Ok(n == 1)
        })
    }

    /// The event with this id, or `NotFound`.
    pub fn get(&self, id: &str) -> Result<Event, StoreError> {
        self.with_conn(|conn| {
            conn.query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
                params![id],
                event_from_row,
            )
            .optional()?
            .ok_or(StoreError::NotFound)
        })
    }

    /// Records the outcome of an event's delivery.
    pub fn finish(&self, id: &str, status: &str, attempts: u32) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            conn.execute(
                "UPDATE events SET status = ?1, attempts = ?2 WHERE id = ?3",
                params![status, attempts, id],
            )
            .map_err(wrap("finish event"))?;
            Ok(())
        })
    }

    /// The events not yet delivered or given up on, oldest first: the work a
    /// previous process left behind.
    pub fn pending(&self) -> Result<Vec<Event>, StoreError> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE status = ?1 ORDER BY seq"
            ))?;
            let rows = stmt.query_map(params![STATUS_PENDING], event_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
