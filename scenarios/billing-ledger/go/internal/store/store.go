// Package store keeps the ledger (charges and account balances) in SQLite.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	_ "modernc.org/sqlite" // pure-Go driver: builds with CGO_ENABLED=0
)

// ErrNotFound is returned when a charge or an account does not exist.
var ErrNotFound = errors.New("not found")

// Charge is one recorded charge. The JSON form is the HTTP response body.
type Charge struct {
	ID               string `json:"id"`
	IdempotencyKey   string `json:"-"`
	Account          string `json:"account"`
	AmountCents      int64  `json:"amount_cents"`
	Currency         string `json:"currency"`
	Status           string `json:"status"`
	ProviderChargeID string `json:"provider_charge_id"`
	// BalanceCents is the account balance right after this charge.
	BalanceCents int64 `json:"balance_cents"`
	// CreatedAt is RFC 3339 UTC with seconds precision, stored as text.
	CreatedAt string `json:"created_at"`
}

// Account is an account's balance and how many charges it has.
type Account struct {
	ID           string `json:"account"`
	BalanceCents int64  `json:"balance_cents"`
	Charges      int64  `json:"charges"`
}

const schema = `
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
);`

const chargeColumns = `id, idempotency_key, account, amount_cents, currency,
	status, provider_charge_id, balance_cents, created_at`

// Store is the SQLite-backed ledger.
type Store struct {
	db *sql.DB
}

// Open opens (creating if missing) the database at path and applies the schema.
func Open(path string) (*Store, error) {
	// Pragmas go in the DSN so the driver applies them to every connection
	// it opens, including a replacement for a connection that went bad.
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection shared by the whole service: SQLite allows one writer
	// anyway, and one connection serializes every statement.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("apply schema: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// Balance returns the account's balance, 0 for an unknown account.
func (s *Store) Balance(ctx context.Context, account string) (int64, error) {
	var bal int64
	err := s.db.QueryRowContext(ctx,
		`SELECT balance_cents FROM accounts WHERE id = ?`, account).Scan(&bal)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return bal, err
}

// GetCharge returns the charge with this id, or ErrNotFound.
func (s *Store) GetCharge(ctx context.Context, id string) (Charge, error) {
	return s.chargeWhere(ctx, "id", id)
}

// ChargeByKey returns the charge recorded with this idempotency key, or ErrNotFound.
func (s *Store) ChargeByKey(ctx context.Context, key string) (Charge, error) {
	return s.chargeWhere(ctx, "idempotency_key", key)
}

// chargeWhere looks a charge up by one column; column is never user input.
func (s *Store) chargeWhere(ctx context.Context, column, value string) (Charge, error) {
	var ch Charge
	err := s.db.QueryRowContext(ctx,
		`SELECT `+chargeColumns+` FROM charges WHERE `+column+` = ?`, value).Scan(
		&ch.ID, &ch.IdempotencyKey, &ch.Account, &ch.AmountCents, &ch.Currency,
		&ch.Status, &ch.ProviderChargeID, &ch.BalanceCents, &ch.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Charge{}, ErrNotFound
	}
	return ch, err
}

// RecordCharge stores ch and updates the account's balance in one
// transaction, setting ch.BalanceCents to the balance after the charge.
func (s *Store) RecordCharge(ctx context.Context, ch *Charge) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // no-op after Commit

	// Add in SQL, not in Go: concurrent charges must not overwrite each other.
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO accounts(id, balance_cents) VALUES(?, ?)
		 ON CONFLICT(id) DO UPDATE SET balance_cents = balance_cents + excluded.balance_cents`,
		ch.Account, ch.AmountCents); err != nil {
		return fmt.Errorf("update balance: %w", err)
	}
	if err := tx.QueryRowContext(ctx,
		`SELECT balance_cents FROM accounts WHERE id = ?`, ch.Account).Scan(&ch.BalanceCents); err != nil {
		return fmt.Errorf("read balance: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO charges(`+chargeColumns+`) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ch.ID, ch.IdempotencyKey, ch.Account, ch.AmountCents, ch.Currency,
		ch.Status, ch.ProviderChargeID, ch.BalanceCents, ch.CreatedAt); err != nil {
		return fmt.Errorf("insert charge: %w", err)
	}
	return tx.Commit()
}

// Account returns the account's balance and charge count, or ErrNotFound.
func (s *Store) Account(ctx context.Context, id string) (Account, error) {
	acct := Account{ID: id}
	err := s.db.QueryRowContext(ctx,
		`SELECT a.balance_cents, (SELECT COUNT(*) FROM charges c WHERE c.account = a.id)
		 FROM accounts a WHERE a.id = ?`, id).Scan(&acct.BalanceCents, &acct.Charges)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return acct, err
}
