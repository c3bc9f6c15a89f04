// Package store keeps received events and their delivery state in SQLite.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	_ "modernc.org/sqlite" // pure-Go driver: builds with CGO_ENABLED=0
)

// ErrNotFound is returned when an event does not exist.
var ErrNotFound = errors.New("not found")

// Delivery states of an event.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Event is one received event. The JSON form is the GET response body.
type Event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Payload is the raw body as received, forwarded downstream unchanged.
	Payload  []byte `json:"-"`
	Status   string `json:"status"`
	Attempts int64  `json:"attempts"`
	// ReceivedAt is RFC 3339 UTC with seconds precision, stored as text.
	ReceivedAt string `json:"received_at"`
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  payload BLOB NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  received_at TEXT NOT NULL
);`

const eventColumns = `id, type, payload, status, attempts, received_at`

// scanEvent reads one row of eventColumns.
func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var ev Event
	err := row.Scan(&ev.ID, &ev.Type, &ev.Payload, &ev.Status, &ev.Attempts, &ev.ReceivedAt)
	return ev, err
}

// Store is the SQLite-backed event store.
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
	// anyway.
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

// Insert stores ev as pending unless an event with its id exists, and
// reports whether it was inserted.
func (s *Store) Insert(ctx context.Context, ev Event) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO events(`+eventColumns+`) VALUES(?, ?, ?, ?, 0, ?)
		 ON CONFLICT(id) DO NOTHING`,
		ev.ID, ev.Type, ev.Payload, StatusPending, ev.ReceivedAt)
	if err != nil {
		return false, fmt.Errorf("insert event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert event: %w", err)
	}
	return n == 1, nil
}

// Get returns the event with this id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Event, error) {
	ev, err := scanEvent(s.db.QueryRowContext(ctx,
		`SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	return ev, err
}

// Finish records the outcome of an event's delivery.
func (s *Store) Finish(ctx context.Context, id, status string, attempts int) error {
	if _, err := s.db.ExecContext(ctx,
		`UPDATE events SET status = ?, attempts = ? WHERE id = ?`,
		status, attempts, id); err != nil {
		return fmt.Errorf("finish event: %w", err)
	}
	return nil
}

// Pending returns the events not yet delivered or given up on, oldest first:
// the work a previous process left behind.
func (s *Store) Pending(ctx context.Context) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+eventColumns+` FROM events WHERE status = ? ORDER BY seq`, StatusPending)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
