package downstream

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"intake/internal/metrics"
	"intake/internal/store"
)

// fakeDownstream answers the n-th call (1-based) with statuses[n-1], and 200
// once the list is used up; it counts the calls.
func fakeDownstream(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if r.URL.Path != "/events" || r.Header.Get("Event-Id") != "evt_1" {
			t.Errorf("got %s %s Event-Id=%q", r.Method, r.URL.Path, r.Header.Get("Event-Id"))
		}
		if n <= len(statuses) {
			w.WriteHeader(statuses[n-1])
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func newClient(url string, maxAttempts int) *Client {
	return New(Options{BaseURL: url, Timeout: 2 * time.Second, MaxAttempts: maxAttempts, Backoff: time.Millisecond},
		slog.New(slog.DiscardHandler), metrics.New())
}

var ev = store.Event{ID: "evt_1", Type: "invoice.paid", Payload: []byte(`{"id":"evt_1"}`)}

func TestDeliverRetriesServerErrors(t *testing.T) {
	srv, calls := fakeDownstream(t, 503, 500)
	attempts, err := newClient(srv.URL, 5).Deliver(context.Background(), ev)
	if err != nil || attempts != 3 || calls.Load() != 3 {
		t.Errorf("got %d attempts, %v, %d calls; want 3, nil, 3", attempts, err, calls.Load())
	}
}

func TestDeliverDoesNotRetryClientErrors(t *testing.T) {
	srv, calls := fakeDownstream(t, 422)
	attempts, err := newClient(srv.URL, 5).Deliver(context.Background(), ev)
	if err == nil || Retryable(err) || attempts != 1 || calls.Load() != 1 {
		t.Errorf("got %d attempts, %v, %d calls; want 1, a permanent error, 1", attempts, err, calls.Load())
	}
}

func TestDeliverGivesUpAfterMaxAttempts(t *testing.T) {
	srv, calls := fakeDownstream(t, 503, 503, 503, 503)
	attempts, err := newClient(srv.URL, 3).Deliver(context.Background(), ev)
	if err == nil || attempts != 3 || calls.Load() != 3 {
		t.Errorf("got %d attempts, %v, %d calls; want 3, an error, 3", attempts, err, calls.Load())
	}
}

func TestBackoffStaysWithinEqualJitterBounds(t *testing.T) {
	c := New(Options{BaseURL: "http://127.0.0.1:1", Timeout: time.Second, MaxAttempts: 5, Backoff: 100 * time.Millisecond},
		slog.New(slog.DiscardHandler), metrics.New())
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond} {
		for range 100 {
			if d := c.BackoffAfter(n); d < ceiling/2 || d > ceiling {
				t.Fatalf("BackoffAfter(%d) = %v, want within [%v, %v]", n, d, ceiling/2, ceiling)
			}
		}
	}
}
