package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func open(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func event(id string) Event {
	return Event{
		ID: id, Type: "invoice.paid", Payload: []byte(`{"id":"` + id + `"}`),
		Status: StatusPending, ReceivedAt: "2026-11-27T10:00:00Z",
	}
}

func TestInsertIsIdempotentByEventID(t *testing.T) {
	st, ctx := open(t), context.Background()
	for i, want := range []bool{true, false} {
		inserted, err := st.Insert(ctx, event("evt_1"))
		if err != nil || inserted != want {
			t.Fatalf("insert %d: got %v, %v; want %v", i+1, inserted, err, want)
		}
	}
	got, err := st.Get(ctx, "evt_1")
	if err != nil || got.Status != StatusPending || got.Attempts != 0 || string(got.Payload) != `{"id":"evt_1"}` {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := st.Get(ctx, "evt_404"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func TestFinishRecordsOutcome(t *testing.T) {
	st, ctx := open(t), context.Background()
	if _, err := st.Insert(ctx, event("evt_1")); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, "evt_1", StatusFailed, 5); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "evt_1")
	if err != nil || got.Status != StatusFailed || got.Attempts != 5 {
		t.Errorf("Get = %+v, %v; want failed after 5 attempts", got, err)
	}
}

func TestPendingListsUnfinishedEventsOldestFirst(t *testing.T) {
	st, ctx := open(t), context.Background()
	for _, id := range []string{"evt_b", "evt_a", "evt_c"} {
		if _, err := st.Insert(ctx, event(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Finish(ctx, "evt_a", StatusDelivered, 1); err != nil {
		t.Fatal(err)
	}
	got, err := st.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.ID)
	}
	if len(ids) != 2 || ids[0] != "evt_b" || ids[1] != "evt_c" {
		t.Errorf("Pending = %v, want [evt_b evt_c]", ids)
	}
}
