//! Flushed log lines in SQLite, and the queries over them.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection};
use serde::Serialize;

/// One stored log line. The JSON form is the archive's and the query
/// answer's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Line {
    pub tenant: String,
    /// When the ingester received the line, RFC 3339 UTC, milliseconds.
    pub ts: String,
    pub level: String,
    pub msg: String,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database is closed")]
    Closed,
    /// A database call failed at `step` ("insert batch", ...).
    #[error("{step}: {source}")]
    Db {
        step: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Wraps a database error with the step that failed ("insert batch: ...").
fn wrap(step: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |source| StoreError::Db { step, source }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lines (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  ts TEXT NOT NULL,
  level TEXT NOT NULL,
  msg TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lines_tenant_seq ON lines(tenant, seq);";

/// The SQLite-backed line store: one connection shared by the whole
/// service, behind a mutex (SQLite allows one writer). Every critical
/// section is short and synchronous.
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

    /// Writes `lines` in one transaction: all or none.
    pub fn insert_batch(&self, lines: &[Line]) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let step = wrap("insert batch");
            let tx = conn.transaction().map_err(&step)?;
            {
                let mut stmt = tx
                    .prepare("INSERT INTO lines(tenant, ts, level, msg) VALUES(?1, ?2, ?3, ?4)")
                    .map_err(&step)?;
                for l in lines {
                    stmt.execute(params![l.tenant, l.ts, l.level, l.msg])
                        .map_err(&step)?;
                }
            }
            tx.commit().map_err(&step)
        })
    }

    /// `tenant`'s newest lines first, at most `limit`, keeping those whose
    /// message contains `q` (every line when `q` is empty).
    pub fn query(&self, tenant: &str, q: &str, limit: usize) -> Result<Vec<Line>, StoreError> {
        self.with_conn(|conn| {
            let step = wrap("query");
            let mut stmt = conn
                .prepare(
                    "SELECT tenant, ts, level, msg FROM lines \
                     WHERE tenant = ?1 AND (?2 = '' OR instr(msg, ?2) > 0) \
                     ORDER BY seq DESC LIMIT ?3",
                )
                .map_err(&step)?;
            let rows = stmt
                .query_map(params![tenant, q, limit as i64], |row| {
                    Ok(Line {
                        tenant: row.get(0)?,
                        ts: row.get(1)?,
                        level: row.get(2)?,
                        msg: row.get(3)?,
                    })
                })
                .map_err(&step)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(&step)
        })
    }
}
