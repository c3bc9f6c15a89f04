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
	ListenAddr          string
	DBPath              string
	ProviderURL         string
	ProviderTimeout     time.Duration
	ProviderMaxAttempts int
	ProviderBackoff     time.Duration
	MaxBalanceCents     int64
	ShutdownTimeout     time.Duration
}

// Load builds a Config from getenv (os.Getenv in production). Taking the
// lookup function instead of calling os.Getenv keeps tests free of
// process-wide environment changes. An empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		ListenAddr: orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		DBPath:     orDefault(getenv("DB_PATH"), "ledger.db"),
		// Dropping a trailing slash lets us append "/v1/charges" blindly.
		ProviderURL: strings.TrimSuffix(getenv("PROVIDER_URL"), "/"),
	}
	if cfg.ProviderURL == "" {
		return Config{}, errors.New("PROVIDER_URL is required")
	}

	timeoutMS, err := intVar(getenv, "PROVIDER_TIMEOUT_MS", 2000, 1)
	if err != nil {
		return Config{}, err
	}
	attempts, err := intVar(getenv, "PROVIDER_MAX_ATTEMPTS", 3, 1)
	if err != nil {
		return Config{}, err
	}
	backoffMS, err := intVar(getenv, "PROVIDER_BACKOFF_MS", 100, 0)
	if err != nil {
		return Config{}, err
	}
	maxBalance, err := intVar(getenv, "MAX_BALANCE_CENTS", 100000000, 0)
	if err != nil {
		return Config{}, err
	}
	shutdownMS, err := intVar(getenv, "SHUTDOWN_TIMEOUT_MS", 5000, 0)
	if err != nil {
		return Config{}, err
	}

	cfg.ProviderTimeout = time.Duration(timeoutMS) * time.Millisecond
	cfg.ProviderMaxAttempts = int(attempts)
	cfg.ProviderBackoff = time.Duration(backoffMS) * time.Millisecond
	cfg.MaxBalanceCents = maxBalance
	cfg.ShutdownTimeout = time.Duration(shutdownMS) * time.Millisecond
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// intVar parses a base-10 integer variable, applying def when unset and
// rejecting values below min (a zero timeout or zero attempts would make
// every charge fail, which is a configuration mistake, not a policy).
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
