package config

import (
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"WEBHOOK_SECRET": "s3cret",
		"DOWNSTREAM_URL": "http://127.0.0.1:9999/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:            "127.0.0.1:8080",
		DBPath:                "webhooks.db",
		WebhookSecret:         "s3cret",
		SignatureTolerance:    300 * time.Second,
		MaxBodyBytes:          65536,
		DownstreamURL:         "http://127.0.0.1:9999",
		DownstreamTimeout:     2 * time.Second,
		DownstreamMaxAttempts: 5,
		DownstreamBackoff:     200 * time.Millisecond,
		Workers:               4,
		QueueSize:             1000,
		ShutdownTimeout:       5 * time.Second,
	}
	if cfg != want {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"missing secret", map[string]string{"DOWNSTREAM_URL": "http://x"}},
		{"missing downstream", map[string]string{"WEBHOOK_SECRET": "s"}},
		{"not a number", map[string]string{"WEBHOOK_SECRET": "s", "DOWNSTREAM_URL": "http://x", "WORKERS": "four"}},
		{"zero attempts", map[string]string{"WEBHOOK_SECRET": "s", "DOWNSTREAM_URL": "http://x", "DOWNSTREAM_MAX_ATTEMPTS": "0"}},
		{"zero body limit", map[string]string{"WEBHOOK_SECRET": "s", "DOWNSTREAM_URL": "http://x", "MAX_BODY_BYTES": "0"}},
		{"negative tolerance", map[string]string{"WEBHOOK_SECRET": "s", "DOWNSTREAM_URL": "http://x", "SIGNATURE_TOLERANCE_S": "-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(env(tt.vars)); err == nil {
				t.Error("Load succeeded, want an error")
			}
		})
	}
}
