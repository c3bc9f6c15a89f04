package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestInsertBatchAndQuery(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	err = st.InsertBatch(ctx, []Line{
		{"acme", "2026-12-01T10:00:00.000Z", "info", "user login"},
		{"other", "2026-12-01T10:00:00.001Z", "error", "user login failed"},
		{"acme", "2026-12-01T10:00:00.002Z", "error", "payment declined"},
		{"acme", "2026-12-01T10:00:00.003Z", "warn", "user logout"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Query(ctx, "acme", "user", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Msg != "user logout" || got[1].Msg != "user login" {
		t.Fatalf("got %+v", got)
	}
	got, err = st.Query(ctx, "acme", "", 1)
	if err != nil || len(got) != 1 || got[0].Msg != "user logout" {
		t.Fatalf("limit 1: got %+v, %v", got, err)
	}
}
