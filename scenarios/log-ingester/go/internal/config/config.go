// Package config reads the service configuration from the environment.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the whole service configuration; see the README for meanings.
type Config struct {
	ListenAddr      string
	DBPath          string
	ArchiveURL      string
	ArchiveTimeout  time.Duration
	MaxBodyBytes    int64
	MaxLineBytes    int
	BatchSize       int
	FlushInterval   time.Duration
	MaxQueuedLines  int
	QuotaLines      int
	QuotaWindow     time.Duration
	QuotaMaxTenants int
	ShutdownTimeout time.Duration
}

// Load builds a Config from getenv (os.Getenv in production). Taking the
// lookup function keeps tests free of process-wide environment changes. An
// empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		ListenAddr: orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		DBPath:     orDefault(getenv("DB_PATH"), "logs.db"),
		// Dropping a trailing slash lets us append "/v1/batches" blindly.
		ArchiveURL: strings.TrimSuffix(getenv("ARCHIVE_URL"), "/"),
	}
	if cfg.ArchiveURL == "" {
		return Config{}, errors.New("ARCHIVE_URL is required")
	}

	// Each numeric variable: name, default, minimum accepted value.
	nums := []struct {
		name     string
		def, min int64
	}{
		{"ARCHIVE_TIMEOUT_MS", 2000, 1},
		{"MAX_BODY_BYTES", 1048576, 1},
		{"MAX_LINE_BYTES", 8192, 1},
		{"BATCH_SIZE", 500, 1},
		{"FLUSH_INTERVAL_MS", 1000, 1},
		{"MAX_QUEUED_LINES", 10000, 1},
		{"QUOTA_LINES", 10000, 1},
		{"QUOTA_WINDOW_MS", 60000, 1},
		{"QUOTA_MAX_TENANTS", 10000, 1},
		{"SHUTDOWN_TIMEOUT_MS", 5000, 0},
	}
	vals := make([]int64, len(nums))
	for i, n := range nums {
		v, err := intVar(getenv, n.name, n.def, n.min)
		if err != nil {
			return Config{}, err
		}
		vals[i] = v
	}
	cfg.ArchiveTimeout = time.Duration(vals[0]) * time.Millisecond
	cfg.MaxBodyBytes = vals[1]
	cfg.MaxLineBytes = int(vals[2])
	cfg.BatchSize = int(vals[3])
	cfg.FlushInterval = time.Duration(vals[4]) * time.Millisecond
	cfg.MaxQueuedLines = int(vals[5])
	cfg.QuotaLines = int(vals[6])
	cfg.QuotaWindow = time.Duration(vals[7]) * time.Millisecond
	cfg.QuotaMaxTenants = int(vals[8])
	cfg.ShutdownTimeout = time.Duration(vals[9]) * time.Millisecond
	if cfg.MaxQueuedLines < cfg.BatchSize {
		return Config{}, fmt.Errorf("MAX_QUEUED_LINES (%d) must be at least BATCH_SIZE (%d)", cfg.MaxQueuedLines, cfg.BatchSize)
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// intVar parses a base-10 integer variable, applying def when unset and
// rejecting values below min.
func intVar(getenv func(string) string, name string, def, min int64) (int64, error) {
	raw := getenv(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: not an integer: %q", name, raw)
	}
	if n < min {
		return 0, fmt.Errorf("%s: must be at least %d, got %d", name, min, n)
	}
	return n, nil
}
