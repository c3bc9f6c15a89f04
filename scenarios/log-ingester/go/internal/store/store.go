// Package store keeps flushed log lines in SQLite and answers queries.
package store

import (
	"context"
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite" // pure-Go driver: builds with CGO_ENABLED=0
)

// Line is one stored log line. The JSON form is the archive's and the
// query answer's.
type Line struct {
	Tenant string `json:"tenant"`
	// TS is when the ingester received the line, RFC 3339 UTC, milliseconds.
	TS    string `json:"ts"`
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

const schema = `
CREATE TABLE IF NOT EXISTS lines (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  ts TEXT NOT NULL,
  level TEXT NOT NULL,
  msg TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lines_tenant_seq ON lines(tenant, seq);`

// Store is the SQLite-backed line store.
type Store struct {
	db *sql.DB
}

// Open opens (creating if missing) the database at path and applies the schema.
func Open(path string) (*Store, error) {
	// Pragmas go in the DSN so the driver applies them to every connection.
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection shared by the whole service: SQLite allows one writer.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("apply schema: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// InsertBatch writes lines in one transaction: all or none.
func (s *Store) InsertBatch(ctx context.Context, lines []Line) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO lines(tenant, ts, level, msg) VALUES(?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	defer stmt.Close()
	for _, l := range lines {
		if _, err := stmt.ExecContext(ctx, l.Tenant, l.TS, l.Level, l.Msg); err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	return nil
}

// Query returns tenant's newest lines first, at most limit, keeping those
// whose message contains q (every line when q is empty).
func (s *Store) Query(ctx context.Context, tenant, q string, limit int) ([]Line, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT tenant, ts, level, msg FROM lines
		 WHERE tenant = ? AND (? = '' OR instr(msg, ?) > 0)
		 ORDER BY seq DESC LIMIT ?`, tenant, q, q, limit)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	out := []Line{}
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.Tenant, &l.TS, &l.Level, &l.Msg); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
