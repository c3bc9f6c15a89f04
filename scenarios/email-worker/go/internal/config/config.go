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
	ListenAddr        string
	DBPath            string
	ProviderURL       string
	SendTimeout       time.Duration
	SendMaxAttempts   int
	SendBackoff       time.Duration
	SendRatePerSec    int
	WorkerConcurrency int
	BufferSize        int
	Lease             time.Duration
	PollInterval      time.Duration
	ShutdownTimeout   time.Duration
}

// Load builds a Config from getenv (os.Getenv in production). Taking the
// lookup function instead of calling os.Getenv keeps tests free of
// process-wide environment changes. An empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		ListenAddr: orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		DBPath:     orDefault(getenv("DB_PATH"), "emails.db"),
		// Dropping a trailing slash lets us append "/v1/messages" blindly.
		ProviderURL: strings.TrimSuffix(getenv("MAIL_PROVIDER_URL"), "/"),
	}
	if cfg.ProviderURL == "" {
		return Config{}, errors.New("MAIL_PROVIDER_URL is required")
	}

	// Each numeric variable: name, default, minimum accepted value.
	nums := []struct {
		name     string
		def, min int64
	}{
		{"MAIL_TIMEOUT_MS", 2000, 1},
		{"MAIL_MAX_ATTEMPTS", 5, 1},
		{"MAIL_BACKOFF_MS", 100, 0},
		{"MAIL_RATE_PER_SEC", 50, 0},
		{"WORKER_CONCURRENCY", 4, 1},
		{"BUFFER_SIZE", 16, 1},
		{"LEASE_MS", 30000, 1},
		{"POLL_INTERVAL_MS", 100, 1},
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
	cfg.SendTimeout = millis(vals[0])
	cfg.SendMaxAttempts = int(vals[1])
	cfg.SendBackoff = millis(vals[2])
	cfg.SendRatePerSec = int(vals[3])
	cfg.WorkerConcurrency = int(vals[4])
	cfg.BufferSize = int(vals[5])
	cfg.Lease = millis(vals[6])
	cfg.PollInterval = millis(vals[7])
	cfg.ShutdownTimeout = millis(vals[8])
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// intVar parses a base-10 integer variable, applying def when unset and
// rejecting values below min (zero workers or a zero lease would stop all
// mail, which is a configuration mistake, not a policy).
func intVar(getenv func(string) string, name string, def, min int64) (int64, error) {
	raw := getenv(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: not an integer: %q", name, raw)
	}
	if n < min {
		return 0, fmt.Errorf("%s: must be at least %d, got %d", name, min, n)
	}
	return n, nil
}

func millis(ms int64) time.Duration {
	return time.Duration(ms) * time.Millisecond
}
