package queue

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T) *Queue {
	t.Helper()
	q, err := Open(filepath.Join(t.TempDir(), "emails.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// enqueue stores n emails with ids em_0, em_1, ... in that order.
func enqueue(t *testing.T, q *Queue, n int) {
	t.Helper()
	for i := range n {
		e := Email{ID: fmt.Sprintf("em_%d", i), To: "a@example.com", Subject: "hi", Body: "hello",
			CreatedAt: "2026-11-27T10:00:00Z"}
		if err := q.Enqueue(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(jobs []Email) []string {
	out := []string{}
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func status(t *testing.T, q *Queue, id string) string {
	t.Helper()
	e, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Status
}

func TestEnqueueAndGet(t *testing.T) {
	q := open(t)
	enqueue(t, q, 1)
	got, err := q.Get(context.Background(), "em_0")
	want := Email{ID: "em_0", To: "a@example.com", Subject: "hi", Body: "hello", Status: "queued",
		CreatedAt: "2026-11-27T10:00:00Z"}
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	if _, err := q.Get(context.Background(), "em_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: got %v, want ErrNotFound", err)
	}
}

func TestClaimOldestFirstUpToLimit(t *testing.T) {
	q := open(t)
	enqueue(t, q, 3)
	jobs, err := q.Claim(context.Background(), 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(jobs)); got != "[em_0 em_1]" {
		t.Errorf("claimed %s, want [em_0 em_1]", got)
	}
	if s := status(t, q, "em_0"); s != "sending" {
		t.Errorf("status after claim = %s, want sending", s)
	}
	jobs, _ = q.Claim(context.Background(), 5, time.Minute)
	if got := fmt.Sprint(ids(jobs)); got != "[em_2]" {
		t.Errorf("second claim %s, want [em_2]", got)
	}
}

func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	q := open(t)
	enqueue(t, q, 1)
	if jobs, _ := q.Claim(context.Background(), 1, 300*time.Millisecond); len(jobs) != 1 {
		t.Fatalf("first claim got %d jobs", len(jobs))
	}
	if jobs, _ := q.Claim(context.Background(), 1, time.Minute); len(jobs) != 0 {
		t.Errorf("leased job claimed again before its lease expired")
	}
	time.Sleep(400 * time.Millisecond)
	if jobs, _ := q.Claim(context.Background(), 1, time.Minute); len(jobs) != 1 {
		t.Errorf("expired lease: got %d jobs, want 1", len(jobs))
	}
}

func TestAckFailAndRelease(t *testing.T) {
	q := open(t)
	ctx := context.Background()
	enqueue(t, q, 3)
	if _, err := q.Claim(ctx, 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "em_0"); err != nil {
		t.Fatal(err)
	}
	if err := q.Fail(ctx, "em_1", "provider answered 400"); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(ctx, "em_2"); err != nil {
		t.Fatal(err)
	}
	if s := status(t, q, "em_0"); s != "sent" {
		t.Errorf("acked: %s, want sent", s)
	}
	if e, _ := q.Get(ctx, "em_1"); e.Status != "failed" || e.LastError != "provider answered 400" {
		t.Errorf("failed: %+v", e)
	}
	jobs, _ := q.Claim(ctx, 3, time.Minute)
	if got := fmt.Sprint(ids(jobs)); got != "[em_2]" {
		t.Errorf("claim after release: %s, want [em_2]", got)
	}
}

func TestSettledEmailKeepsItsStatus(t *testing.T) {
	q := open(t)
	ctx := context.Background()
	enqueue(t, q, 2)
	if _, err := q.Claim(ctx, 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "em_0"); err != nil {
		t.Fatal(err)
	}
	if err := q.Fail(ctx, "em_1", "provider answered 400"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"em_0", "em_1"} {
		if err := q.Release(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if s := status(t, q, "em_0"); s != "sent" {
		t.Errorf("sent, then released: %s, want sent", s)
	}
	if s := status(t, q, "em_1"); s != "failed" {
		t.Errorf("failed, then released: %s, want failed", s)
	}
	if jobs, _ := q.Claim(ctx, 2, time.Minute); len(jobs) != 0 {
		t.Errorf("settled emails claimed again: %v", ids(jobs))
	}
}

func TestLateFinishKeepsAnotherWorkersResult(t *testing.T) {
	q := open(t)
	ctx := context.Background()
	enqueue(t, q, 1)
	// The first worker's lease runs out mid-send; a second worker claims the
	// email again and the provider rejects it for good.
	if _, err := q.Claim(ctx, 1, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if jobs, err := q.Claim(ctx, 1, time.Minute); err != nil || len(jobs) != 1 {
		t.Fatalf("claim after the lease ran out: %v, %v", ids(jobs), err)
	}
	if err := q.Fail(ctx, "em_0", "provider answered 400"); err != nil {
		t.Fatal(err)
	}
	// The first worker's send ends late: the email stays failed.
	if err := q.Ack(ctx, "em_0"); err != nil {
		t.Fatal(err)
	}
	if e, _ := q.Get(ctx, "em_0"); e.Status != "failed" || e.LastError != "provider answered 400" {
		t.Errorf("failed, then acked late: %+v, want failed", e)
	}
	if jobs, _ := q.Claim(ctx, 1, time.Minute); len(jobs) != 0 {
		t.Errorf("settled email claimed again: %v", ids(jobs))
	}
}
