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
	ListenAddr            string
	DBPath                string
	WebhookSecret         string
	SignatureTolerance    time.Duration
	MaxBodyBytes          int64
	DownstreamURL         string
	DownstreamTimeout     time.Duration
	DownstreamMaxAttempts int
	DownstreamBackoff     time.Duration
	Workers               int
	QueueSize             int
	ShutdownTimeout       time.Duration
}

// Load builds a Config from getenv (os.Getenv in production). Taking the
// lookup function instead of calling os.Getenv keeps tests free of
// process-wide environment changes. An empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		ListenAddr:    orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		DBPath:        orDefault(getenv("DB_PATH"), "webhooks.db"),
		WebhookSecret: getenv("WEBHOOK_SECRET"),
		// Dropping a trailing slash lets us append "/events" blindly.
		DownstreamURL: strings.TrimSuffix(getenv("DOWNSTREAM_URL"), "/"),
	}
	if cfg.WebhookSecret == "" {
		return Config{}, errors.New("WEBHOOK_SECRET is required")
	}
	if cfg.DownstreamURL == "" {
		return Config{}, errors.New("DOWNSTREAM_URL is required")
	}

	// Each numeric variable: name, default, minimum accepted value.
	nums := []struct {
		name     string
		def, min int64
	}{
		{"SIGNATURE_TOLERANCE_S", 300, 0},
		{"MAX_BODY_BYTES", 65536, 1},
		{"DOWNSTREAM_TIMEOUT_MS", 2000, 1},
		{"DOWNSTREAM_MAX_ATTEMPTS", 5, 1},
		{"DOWNSTREAM_BACKOFF_MS", 200, 0},
		{"WORKERS", 4, 1},
		{"QUEUE_SIZE", 1000, 1},
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
	cfg.SignatureTolerance = time.Duration(vals[0]) * time.Second
	cfg.MaxBodyBytes = vals[1]
	cfg.DownstreamTimeout = time.Duration(vals[2]) * time.Millisecond
	cfg.DownstreamMaxAttempts = int(vals[3])
	cfg.DownstreamBackoff = time.Duration(vals[4]) * time.Millisecond
	cfg.Workers = int(vals[5])
	cfg.QueueSize = int(vals[6])
	cfg.ShutdownTimeout = time.Duration(vals[7]) * time.Millisecond
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// intVar parses a base-10 integer variable, applying def when unset and
// rejecting values below min (zero workers or zero attempts would make every
// event fail, which is a configuration mistake, not a policy).
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
