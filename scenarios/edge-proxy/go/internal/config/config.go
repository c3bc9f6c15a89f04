// Package config reads the proxy configuration from the environment.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole proxy configuration; see the README for meanings.
type Config struct {
	ListenAddr       string
	UpstreamURLs     []string
	UpstreamTimeout  time.Duration
	BodyIdleTimeout  time.Duration
	UpstreamMaxConns int
	UpstreamMaxIdle  int
	HealthInterval   time.Duration
	HealthTimeout    time.Duration
	ShutdownTimeout  time.Duration
}

// Load builds a Config from getenv (os.Getenv in production). Taking the
// lookup function instead of calling os.Getenv keeps tests free of
// process-wide environment changes. An empty variable counts as unset.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{ListenAddr: orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080")}

	urls, err := upstreamURLs(getenv("UPSTREAM_URLS"))
	if err != nil {
		return Config{}, err
	}
	cfg.UpstreamURLs = urls

	// Each numeric variable: name, default, minimum accepted value.
	nums := []struct {
		name     string
		def, min int64
	}{
		{"UPSTREAM_TIMEOUT_MS", 5000, 1},
		{"BODY_IDLE_TIMEOUT_MS", 10000, 1},
		{"UPSTREAM_MAX_CONNS", 64, 1},
		{"UPSTREAM_MAX_IDLE", 16, 1},
		{"HEALTH_INTERVAL_MS", 1000, 1},
		{"HEALTH_TIMEOUT_MS", 500, 1},
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
	cfg.UpstreamTimeout = millis(vals[0])
	cfg.BodyIdleTimeout = millis(vals[1])
	cfg.UpstreamMaxConns = int(vals[2])
	cfg.UpstreamMaxIdle = int(vals[3])
	cfg.HealthInterval = millis(vals[4])
	cfg.HealthTimeout = millis(vals[5])
	cfg.ShutdownTimeout = millis(vals[6])
	return cfg, nil
}

// upstreamURLs splits the comma-separated list, trims spaces and a trailing
// slash, and accepts only absolute http URLs without a path, so the proxy can
// append the request path blindly.
func upstreamURLs(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("UPSTREAM_URLS is required")
	}
	var urls []string
	for _, part := range strings.Split(raw, ",") {
		s := strings.TrimSuffix(strings.TrimSpace(part), "/")
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "http" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("UPSTREAM_URLS: not an http://host:port URL: %q", part)
		}
		urls = append(urls, s)
	}
	return urls, nil
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

func millis(ms int64) time.Duration {
	return time.Duration(ms) * time.Millisecond
}
