package config

import (
	"strings"
	"testing"
	"time"
)

// env returns a getenv over a fixed map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"PROVIDER_URL": "http://127.0.0.1:9999"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:          "127.0.0.1:8080",
		DBPath:              "ledger.db",
		ProviderURL:         "http://127.0.0.1:9999",
		ProviderTimeout:     2 * time.Second,
		ProviderMaxAttempts: 3,
		ProviderBackoff:     100 * time.Millisecond,
		MaxBalanceCents:     100000000,
		ShutdownTimeout:     5 * time.Second,
	}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"LISTEN_ADDR":           "127.0.0.1:0",
		"DB_PATH":               "/tmp/x.db",
		"PROVIDER_URL":          "http://provider.test/",
		"PROVIDER_TIMEOUT_MS":   "250",
		"PROVIDER_MAX_ATTEMPTS": "5",
		"PROVIDER_BACKOFF_MS":   "0",
		"MAX_BALANCE_CENTS":     "1000",
		"SHUTDOWN_TIMEOUT_MS":   "10",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:          "127.0.0.1:0",
		DBPath:              "/tmp/x.db",
		ProviderURL:         "http://provider.test", // trailing slash dropped
		ProviderTimeout:     250 * time.Millisecond,
		ProviderMaxAttempts: 5,
		ProviderBackoff:     0,
		MaxBalanceCents:     1000,
		ShutdownTimeout:     10 * time.Millisecond,
	}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

// withURL is a valid environment plus one variable under test.
func withURL(k, v string) map[string]string {
	return map[string]string{"PROVIDER_URL": "http://127.0.0.1:9999", k: v}
}

func TestLoadRejectsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // substring naming the culprit
	}{
		{"missing provider url", map[string]string{}, "PROVIDER_URL"},
		{"timeout not a number", withURL("PROVIDER_TIMEOUT_MS", "2s"), "PROVIDER_TIMEOUT_MS"},
		{"attempts not a number", withURL("PROVIDER_MAX_ATTEMPTS", "three"), "PROVIDER_MAX_ATTEMPTS"},
		{"zero attempts", withURL("PROVIDER_MAX_ATTEMPTS", "0"), "PROVIDER_MAX_ATTEMPTS"},
		{"zero timeout", withURL("PROVIDER_TIMEOUT_MS", "0"), "PROVIDER_TIMEOUT_MS"},
		{"negative backoff", withURL("PROVIDER_BACKOFF_MS", "-1"), "PROVIDER_BACKOFF_MS"},
		{"balance not a number", withURL("MAX_BALANCE_CENTS", "1e6"), "MAX_BALANCE_CENTS"},
		{"shutdown not a number", withURL("SHUTDOWN_TIMEOUT_MS", "5000ms"), "SHUTDOWN_TIMEOUT_MS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one mentioning %s", err, tt.wantErr)
			}
		})
	}
}
