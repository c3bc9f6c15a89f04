package config

import (
	"strings"
	"testing"
	"time"
)

// env returns a getenv over a fixed map.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"MAIL_PROVIDER_URL": "http://127.0.0.1:9999/"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:        "127.0.0.1:8080",
		DBPath:            "emails.db",
		ProviderURL:       "http://127.0.0.1:9999",
		SendTimeout:       2 * time.Second,
		SendMaxAttempts:   5,
		SendBackoff:       100 * time.Millisecond,
		SendRatePerSec:    50,
		WorkerConcurrency: 4,
		BufferSize:        16,
		Lease:             30 * time.Second,
		PollInterval:      100 * time.Millisecond,
		ShutdownTimeout:   5 * time.Second,
	}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"LISTEN_ADDR":         "127.0.0.1:0",
		"DB_PATH":             "/tmp/q.db",
		"MAIL_PROVIDER_URL":   "http://mail",
		"MAIL_TIMEOUT_MS":     "300",
		"MAIL_MAX_ATTEMPTS":   "2",
		"MAIL_BACKOFF_MS":     "0",
		"MAIL_RATE_PER_SEC":   "0",
		"WORKER_CONCURRENCY":  "8",
		"BUFFER_SIZE":         "1",
		"LEASE_MS":            "1500",
		"POLL_INTERVAL_MS":    "20",
		"SHUTDOWN_TIMEOUT_MS": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:        "127.0.0.1:0",
		DBPath:            "/tmp/q.db",
		ProviderURL:       "http://mail",
		SendTimeout:       300 * time.Millisecond,
		SendMaxAttempts:   2,
		SendBackoff:       0,
		SendRatePerSec:    0,
		WorkerConcurrency: 8,
		BufferSize:        1,
		Lease:             1500 * time.Millisecond,
		PollInterval:      20 * time.Millisecond,
		ShutdownTimeout:   0,
	}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadRejectsInvalid(t *testing.T) {
	tests := []struct {
		name, variable, value, wantErr string
	}{
		{"missing provider", "MAIL_PROVIDER_URL", "", "MAIL_PROVIDER_URL is required"},
		{"not a number", "MAIL_TIMEOUT_MS", "2s", "MAIL_TIMEOUT_MS: not an integer"},
		{"zero timeout", "MAIL_TIMEOUT_MS", "0", "MAIL_TIMEOUT_MS: must be at least 1"},
		{"zero attempts", "MAIL_MAX_ATTEMPTS", "0", "MAIL_MAX_ATTEMPTS: must be at least 1"},
		{"negative backoff", "MAIL_BACKOFF_MS", "-1", "MAIL_BACKOFF_MS: must be at least 0"},
		{"zero workers", "WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY: must be at least 1"},
		{"zero buffer", "BUFFER_SIZE", "0", "BUFFER_SIZE: must be at least 1"},
		{"zero lease", "LEASE_MS", "0", "LEASE_MS: must be at least 1"},
		{"fractional poll", "POLL_INTERVAL_MS", "1.5", "POLL_INTERVAL_MS: not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"MAIL_PROVIDER_URL": "http://mail"}
			vars[tt.variable] = tt.value
			_, err := Load(env(vars))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error starting with %q", err, tt.wantErr)
			}
		})
	}
}
