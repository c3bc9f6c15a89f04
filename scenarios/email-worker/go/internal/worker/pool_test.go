package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"emailworker/internal/metrics"
	"emailworker/internal/provider"
	"emailworker/internal/queue"
)

// setup returns a queue holding n emails (em_0, em_1, ...) and a pool
// sending them to handler.
func setup(t *testing.T, n int, opts Options, handler http.HandlerFunc) (*queue.Queue, *Pool) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	q, err := queue.Open(filepath.Join(t.TempDir(), "emails.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	for i := range n {
		e := queue.Email{ID: fmt.Sprintf("em_%d", i), To: "a@example.com", Subject: "hi", Body: "hello",
			CreatedAt: "2026-11-27T10:00:00Z"}
		if err := q.Enqueue(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	m := metrics.New()
	c := provider.New(provider.Options{BaseURL: srv.URL, Timeout: 5 * time.Second, MaxAttempts: 3,
		Backoff: time.Millisecond}, log, m)
	return q, New(q, c, log, m, opts)
}

var testOptions = Options{Concurrency: 2, BufferSize: 2, Lease: time.Minute, PollInterval: 5 * time.Millisecond}

// waitStatus polls until email id has the status, for up to 5 s.
func waitStatus(t *testing.T, q *queue.Queue, id, status string) queue.Email {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := q.Get(context.Background(), id)
		if err == nil && e.Status == status {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %q, want %q", id, e.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolSendsAndAcksEveryEmail(t *testing.T) {
	var calls atomic.Int64
	q, pool := setup(t, 5, testOptions, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
	})
	stop, cancelStop := context.WithCancel(context.Background())
	pool.Start(stop, context.Background())
	for i := range 5 {
		waitStatus(t, q, fmt.Sprintf("em_%d", i), "sent")
	}
	cancelStop()
	pool.Wait()
	if calls.Load() != 5 {
		t.Errorf("provider calls = %d, want 5", calls.Load())
	}
}

func TestPoolMarksRejectedEmailFailed(t *testing.T) {
	q, pool := setup(t, 1, testOptions, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	})
	stop, cancelStop := context.WithCancel(context.Background())
	pool.Start(stop, context.Background())
	e := waitStatus(t, q, "em_0", "failed")
	cancelStop()
	pool.Wait()
	if e.LastError != "provider answered 400" {
		t.Errorf("last_error = %q, want provider answered 400", e.LastError)
	}
}

func TestPoolReleasesUnsentEmailsOnStop(t *testing.T) {
	arrived := make(chan struct{}, 10)
	unblock := make(chan struct{})
	opts := testOptions
	opts.Concurrency = 1
	q, pool := setup(t, 3, opts, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-unblock
	})
	stop, cancelStop := context.WithCancel(context.Background())
	pool.Start(stop, context.Background())
	<-arrived // em_0 is being sent; the others are buffered or queued
	cancelStop()
	close(unblock) // the send in progress finishes
	pool.Wait()

	for id, want := range map[string]string{"em_0": "sent", "em_1": "queued", "em_2": "queued"} {
		if e, _ := q.Get(context.Background(), id); e.Status != want {
			t.Errorf("%s: status %q, want %q", id, e.Status, want)
		}
	}
}
