package config

import (
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"ARCHIVE_URL": "http://127.0.0.1:9999/"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddr:      "127.0.0.1:8080",
		DBPath:          "logs.db",
		ArchiveURL:      "http://127.0.0.1:9999",
		ArchiveTimeout:  2 * time.Second,
		MaxBodyBytes:    1048576,
		MaxLineBytes:    8192,
		BatchSize:       500,
		FlushInterval:   time.Second,
		MaxQueuedLines:  10000,
		QuotaLines:      10000,
		QuotaWindow:     time.Minute,
		QuotaMaxTenants: 10000,
		ShutdownTimeout: 5 * time.Second,
	}
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	cases := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{}, "ARCHIVE_URL is required"},
		{map[string]string{"ARCHIVE_URL": "http://a", "BATCH_SIZE": "x"}, "BATCH_SIZE: not an integer"},
		{map[string]string{"ARCHIVE_URL": "http://a", "QUOTA_LINES": "0"}, "QUOTA_LINES: must be at least 1"},
		{map[string]string{"ARCHIVE_URL": "http://a", "BATCH_SIZE": "50", "MAX_QUEUED_LINES": "10"}, "MAX_QUEUED_LINES (10) must be at least BATCH_SIZE (50)"},
	}
	for _, c := range cases {
		_, err := Load(env(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.vars, err, c.want)
		}
	}
}
