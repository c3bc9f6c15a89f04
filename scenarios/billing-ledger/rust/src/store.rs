//! The ledger (charges and account balances) in SQLite.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The charge or the account does not exist.
    #[error("not found")]
    NotFound,
    /// The store was closed.
    #[error("database is closed")]
    Closed,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// The database failed at this step ("update balance: ...").
    #[error("{step}: {source}")]
    Step {
        step: &'static str,
        source: rusqlite::Error,
    },
}

/// Wraps a database error with the step that failed.
fn wrap(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Step { step, source }
}

/// One recorded charge. The JSON form is the HTTP response body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub id: String,
    #[serde(skip)]
    pub idempotency_key: String,
    pub account: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: String,
    pub provider_charge_id: String,
    /// The account balance right after this charge.
    pub balance_cents: i64,
    /// RFC 3339 UTC with seconds precision, stored as text.
    pub created_at: String,
}

/// An account's balance and how many charges it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    #[serde(rename = "account")]
    pub id: String,
    pub balance_cents: i64,
    pub charges: i64,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  balance_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  provider_charge_id TEXT NOT NULL,
  balance_cents INTEGER NOT NULL,
  created_at TEXT NOT NULL
);";

const CHARGE_COLUMNS: &str = "id, idempotency_key, account, amount_cents, currency, \
     status, provider_charge_id, balance_cents, created_at";

/// The SQLite-backed ledger: one connection shared by the whole service,
/// behind a mutex (SQLite allows one writer anyway). Every critical section is
/// short and synchronous: the lock is never held across an `.await`.
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

    /// The account's balance, 0 for an unknown account.
    pub fn balance(&self, account: &str) -> Result<i64, StoreError> {
        self.with_conn(|conn| {
            let bal = conn
                .query_row(
                    "SELECT balance_cents FROM accounts WHERE id = ?1",
                    params![account],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(bal.unwrap_or(0))
        })
    }

    /// The charge with this id, or `NotFound`.
    pub fn get_charge(&self, id: &str) -> Result<Charge, StoreError> {
        self.charge_where("id", id)
    }

    /// The charge recorded with this idempotency key, or `NotFound`.
    pub fn charge_by_key(&self, key: &str) -> Result<Charge, StoreError> {
        self.charge_where("idempotency_key", key)
    }

    /// Looks a charge up by one column; `column` is never user input.
    fn charge_where(&self, column: &str, value: &str) -> Result<Charge, StoreError> {
        self.with_conn(|conn| {
            conn.query_row(
                &format!("SELECT {CHARGE_COLUMNS} FROM charges WHERE {column} = ?1"),
                params![value],
                |row| {
                    Ok(Charge {
                        id: row.get(0)?,
                        idempotency_key: row.get(1)?,
                        account: row.get(2)?,
                        amount_cents: row.get(3)?,
                        currency: row.get(4)?,
                        status: row.get(5)?,
                        provider_charge_id: row.get(6)?,
                        balance_cents: row.get(7)?,
                        created_at: row.get(8)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound)
        })
    }

    /// Stores ch and updates the account's balance in one transaction,
    /// setting `ch.balance_cents` to the balance after the charge.
    pub fn record_charge(&self, ch: &mut Charge) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?; // rolled back on drop unless committed

            // Add in SQL, not in Rust: concurrent charges must not overwrite each other.
            tx.execute(
                "INSERT INTO accounts(id, balance_cents) VALUES(?1, ?2) \
                 ON CONFLICT(id) DO UPDATE SET balance_cents = balance_cents + excluded.balance_cents",
                params![ch.account, ch.amount_cents],
            )
            .map_err(wrap("update balance"))?;
            ch.balance_cents = tx
                .query_row(
                    "SELECT balance_cents FROM accounts WHERE id = ?1",
                    params![ch.account],
                    |row| row.get(0),
                )
                .map_err(wrap("read balance"))?;
            tx.execute(
                &format!("INSERT INTO charges({CHARGE_COLUMNS}) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    ch.id,
                    ch.idempotency_key,
                    ch.account,
                    ch.amount_cents,
                    ch.currency,
                    ch.status,
                    ch.provider_charge_id,
                    ch.balance_cents,
                    ch.created_at,
                ],
            )
            .map_err(wrap("insert charge"))?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The account's balance and charge count, or `NotFound`.
    pub fn account(&self, id: &str) -> Result<Account, StoreError> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT a.balance_cents, (SELECT COUNT(*) FROM charges c WHERE c.account = a.id) \
                 FROM accounts a WHERE a.id = ?1",
                params![id],
                |row| {
                    Ok(Account {
                        id: id.to_string(),
                        balance_cents: row.get(0)?,
                        charges: row.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound)
        })
    }
}
