// Package logging builds the service logger: one JSON object per line.
package logging

import (
	"io"
	"log/slog"
)

// New returns a logger writing JSON lines to w (stderr in production).
// slog's JSONHandler already emits the keys in the order the README fixes:
// time (RFC 3339), level (INFO/WARN/ERROR), msg, then the fields.
func New(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}
