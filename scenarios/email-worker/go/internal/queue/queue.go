// Package queue is the durable email queue, a table in SQLite. A job is
// claimed with a lease; it is acknowledged (sent), failed, or released back
// to the queue. A job whose lease expired, because the process that claimed
// it died, can be claimed again.
package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // pure-Go driver: builds with CGO_ENABLED=0
)

// ErrNotFound is returned when an email does not exist.
var ErrNotFound = errors.New("not found")

// Statuses of an email.
const (
	StatusQueued  = "queued"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Email is one job. The JSON form is the HTTP status body (without the body).
type Email struct {
	ID      string `json:"id"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"-"`
	Status  string `json:"status"`
	// LastError is why the email failed; empty otherwise.
	LastError string `json:"last_error"`
	// CreatedAt is RFC 3339 UTC with seconds precision, stored as text.
	CreatedAt string `json:"created_at"`
}

const schema = `
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
CREATE INDEX IF NOT EXISTS emails_status ON emails(status, seq);`

const emailColumns = `id, to_addr, subject, body, status, last_error, created_at`

// Queue is the SQLite-backed queue.
type Queue struct {
	db *sql.DB
}

// Open opens (creating if missing) the database at path and applies the schema.
func Open(path string) (*Queue, error) {
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
	return &Queue{db: db}, nil
}

// Close closes the database.
func (q *Queue) Close() error {
	return q.db.Close()
}

// NewID returns a fresh email id: "em_" and 16 lowercase hex digits.
func NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return "em_" + hex.EncodeToString(b[:])
}

// Enqueue stores e as a queued job; e.ID and e.CreatedAt must be set.
func (q *Queue) Enqueue(ctx context.Context, e *Email) error {
	e.Status = StatusQueued
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO emails(id, to_addr, subject, body, status, created_at) VALUES(?, ?, ?, ?, ?, ?)`,
		e.ID, e.To, e.Subject, e.Body, e.Status, e.CreatedAt)
	return err
}

// Get returns the email with this id, or ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (Email, error) {
	var e Email
	err := q.db.QueryRowContext(ctx,
		`SELECT `+emailColumns+` FROM emails WHERE id = ?`, id).Scan(
		&e.ID, &e.To, &e.Subject, &e.Body, &e.Status, &e.LastError, &e.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Email{}, ErrNotFound
	}
	return e, err
}

// Claim leases up to limit claimable jobs, oldest first: queued ones and
// those whose lease expired (their worker died). They stay "sending" until
// acknowledged, failed or released, or until the lease runs out.
func (q *Queue) Claim(ctx context.Context, limit int, lease time.Duration) ([]Email, error) {
	now := time.Now().UnixMilli()
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // no-op after Commit

	rows, err := tx.QueryContext(ctx,
		`SELECT `+emailColumns+` FROM emails
		 WHERE status = ? OR (status = ? AND lease_until_ms <= ?)
		 ORDER BY seq LIMIT ?`,
		StatusQueued, StatusSending, now, limit)
	if err != nil {
		return nil, fmt.Errorf("select claimable: %w", err)
	}
	var jobs []Email
	for rows.Next() {
		var e Email
		if err := rows.Scan(&e.ID, &e.To, &e.Subject, &e.Body, &e.Status, &e.LastError, &e.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		e.Status = StatusSending
		jobs = append(jobs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, e := range jobs {
		if _, err := tx.ExecContext(ctx,
			`UPDATE emails SET status = ?, lease_until_ms = ? WHERE id = ?`,
			StatusSending, now+lease.Milliseconds(), e.ID); err != nil {
			return nil, fmt.Errorf("lease: %w", err)
		}
	}
	return jobs, tx.Commit()
}

// Ack marks a claimed job as sent: it will never be claimed again.
func (q *Queue) Ack(ctx context.Context, id string) error {
	return q.finish(ctx, id, StatusSent, "")
}

// Fail marks a claimed job as failed for good, with the reason.
func (q *Queue) Fail(ctx context.Context, id, reason string) error {
	return q.finish(ctx, id, StatusFailed, reason)
}

// Release hands a claimed job back to the queue, claimable at once. A job
// that is not "sending" any more was settled already and keeps its status:
// a late Release must not put a sent email back in the queue.
func (q *Queue) Release(ctx context.Context, id string) error {
	_, err := q.db.ExecContext(ctx,
		`UPDATE emails SET status = ?, lease_until_ms = 0 WHERE id = ? AND status = ?`,
		StatusQueued, id, StatusSending)
	return err
}

// finish moves a job out of "sending" and drops its lease. A job that is not
// "sending" any more was settled already, by a worker that claimed it after
// this one's lease ran out, and keeps its status: a late Fail must not turn a
// sent email into a failed one.
func (q *Queue) finish(ctx context.Context, id, status, reason string) error {
	_, err := q.db.ExecContext(ctx,
		`UPDATE emails SET status = ?, last_error = ?, lease_until_ms = 0
		 WHERE id = ? AND status = ?`,
		status, reason, id, StatusSending)
	return err
}
