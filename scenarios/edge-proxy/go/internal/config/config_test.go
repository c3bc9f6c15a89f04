package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a getenv over a fixed map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"UPSTREAM_URLS": "http://127.0.0.1:9001"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:       "127.0.0.1:8080",
		UpstreamURLs:     []string{"http://127.0.0.1:9001"},
		UpstreamTimeout:  5 * time.Second,
		BodyIdleTimeout:  10 * time.Second,
		UpstreamMaxConns: 64,
		UpstreamMaxIdle:  16,
		HealthInterval:   time.Second,
		HealthTimeout:    500 * time.Millisecond,
		ShutdownTimeout:  5 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"LISTEN_ADDR":          "127.0.0.1:0",
		"UPSTREAM_URLS":        " http://127.0.0.1:9001/ ,http://localhost:9002",
		"UPSTREAM_TIMEOUT_MS":  "300",
		"BODY_IDLE_TIMEOUT_MS": "400",
		"UPSTREAM_MAX_CONNS":   "3",
		"UPSTREAM_MAX_IDLE":    "2",
		"HEALTH_INTERVAL_MS":   "50",
		"HEALTH_TIMEOUT_MS":    "20",
		"SHUTDOWN_TIMEOUT_MS":  "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:       "127.0.0.1:0",
		UpstreamURLs:     []string{"http://127.0.0.1:9001", "http://localhost:9002"},
		UpstreamTimeout:  300 * time.Millisecond,
		BodyIdleTimeout:  400 * time.Millisecond,
		UpstreamMaxConns: 3,
		UpstreamMaxIdle:  2,
		HealthInterval:   50 * time.Millisecond,
		HealthTimeout:    20 * time.Millisecond,
		ShutdownTimeout:  0,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadRejectsInvalid(t *testing.T) {
	cases := []struct {
		name, key, value, wantErr string
	}{
		{"missing upstreams", "UPSTREAM_URLS", "", "UPSTREAM_URLS is required"},
		{"https upstream", "UPSTREAM_URLS", "https://127.0.0.1:9001", "UPSTREAM_URLS"},
		{"upstream with a path", "UPSTREAM_URLS", "http://127.0.0.1:9001/api", "UPSTREAM_URLS"},
		{"empty list item", "UPSTREAM_URLS", "http://127.0.0.1:9001,", "UPSTREAM_URLS"},
		{"not a number", "UPSTREAM_TIMEOUT_MS", "fast", "UPSTREAM_TIMEOUT_MS"},
		{"zero timeout", "UPSTREAM_TIMEOUT_MS", "0", "UPSTREAM_TIMEOUT_MS"},
		{"zero conns", "UPSTREAM_MAX_CONNS", "0", "UPSTREAM_MAX_CONNS"},
		{"negative shutdown", "SHUTDOWN_TIMEOUT_MS", "-1", "SHUTDOWN_TIMEOUT_MS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"UPSTREAM_URLS": "http://127.0.0.1:9001"}
			vars[tc.key] = tc.value
			_, err := Load(env(vars))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
