// Package config reads the gateway configuration from the environment.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Config is the whole gateway configuration; see the README for meanings.
type Config struct {
	ListenAddr      string
	BackendURL      string
	KeysURL         string
	RulesPath       string
	BackendTimeout  time.Duration
	KeysRefresh     time.Duration
	KeysMinRefresh  time.Duration
	KeysTimeout     time.Duration
	RulesPoll       time.Duration
	Leeway          time.Duration
	ShutdownTimeout time.Duration
}

// Load builds a Config from getenv; an empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		ListenAddr: getenv("LISTEN_ADDR"),
		BackendURL: getenv("BACKEND_URL"),
		KeysURL:    getenv("KEYS_URL"),
		RulesPath:  getenv("RULES_PATH"),
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:8080"
	}
	for name, v := range map[string]string{"BACKEND_URL": cfg.BackendURL, "KEYS_URL": cfg.KeysURL, "RULES_PATH": cfg.RulesPath} {
		if v == "" {
			return Config{}, errors.New(name + " is required")
		}
	}
	nums := []struct {
		name     string
		def, min int64
		unit     time.Duration
		dst      *time.Duration
	}{
		{"BACKEND_TIMEOUT_MS", 5000, 1, time.Millisecond, &cfg.BackendTimeout},
		{"KEYS_REFRESH_MS", 60000, 1, time.Millisecond, &cfg.KeysRefresh},
		{"KEYS_MIN_REFRESH_MS", 1000, 0, time.Millisecond, &cfg.KeysMinRefresh},
		{"KEYS_TIMEOUT_MS", 2000, 1, time.Millisecond, &cfg.KeysTimeout},
		{"RULES_POLL_MS", 1000, 1, time.Millisecond, &cfg.RulesPoll},
		{"LEEWAY_S", 30, 0, time.Second, &cfg.Leeway},
		{"SHUTDOWN_TIMEOUT_MS", 5000, 0, time.Millisecond, &cfg.ShutdownTimeout},
	}
	for _, n := range nums {
		v := n.def
		if raw := getenv(n.name); raw != "" {
			parsed, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return Config{}, fmt.Errorf("%s: not an integer: %q", n.name, raw)
			}
			if parsed < n.min {
				return Config{}, fmt.Errorf("%s: must be at least %d, got %d", n.name, n.min, parsed)
			}
			v = parsed
		}
		*n.dst = time.Duration(v) * n.unit
	}
	return cfg, nil
}
