package provider

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"emailworker/internal/metrics"
)

// fakeProvider answers attempt n (1-based) with statuses[n-1], or the last
// status once the list runs out. It counts calls.
func fakeProvider(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		w.WriteHeader(statuses[min(n, len(statuses))-1])
		w.Write([]byte(`{"id":"msg_1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// newClient returns a client with a generous timeout, a 1 ms backoff so
// retries cost no real time, and no rate limit.
func newClient(url string, m *metrics.Metrics) *Client {
	return New(Options{BaseURL: url, Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond},
		slog.New(slog.DiscardHandler), m)
}

var sampleMessage = Message{MessageID: "em_0123456789abcdef", To: "a@example.com", Subject: "hi", Body: "hello"}

func TestSendSuccess(t *testing.T) {
	var got Message
	var key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
			t.Errorf("got %s %s, want POST /v1/messages", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		key = r.Header.Get("Idempotency-Key")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.Write([]byte(`{"id":"msg_42"}`))
	}))
	defer srv.Close()

	m := metrics.New()
	attempts, err := newClient(srv.URL, m).Send(context.Background(), sampleMessage)
	if err != nil || attempts != 1 {
		t.Fatalf("got %d, %v; want 1 attempt, no error", attempts, err)
	}
	if got != sampleMessage || key != sampleMessage.MessageID {
		t.Errorf("provider got %+v with key %q", got, key)
	}
	if m.SendAttempts() != 1 {
		t.Errorf("attempts metric = %d, want 1", m.SendAttempts())
	}
}

func TestSendRetries503ThenSucceeds(t *testing.T) {
	srv, calls := fakeProvider(t, 503, 503, 200)
	attempts, err := newClient(srv.URL, metrics.New()).Send(context.Background(), sampleMessage)
	if err != nil || attempts != 3 || calls.Load() != 3 {
		t.Errorf("got %d attempts, %v, %d calls; want 3, nil, 3", attempts, err, calls.Load())
	}
}

func TestSendDoesNotRetry400(t *testing.T) {
	srv, calls := fakeProvider(t, 400)
	attempts, err := newClient(srv.URL, metrics.New()).Send(context.Background(), sampleMessage)
	if err == nil || err.Error() != "provider answered 400" || attempts != 1 || calls.Load() != 1 {
		t.Errorf("got %d attempts, %v, %d calls; want 1, provider answered 400, 1", attempts, err, calls.Load())
	}
}

func TestSendGivesUpAfterMaxAttempts(t *testing.T) {
	srv, calls := fakeProvider(t, 500)
	attempts, err := newClient(srv.URL, metrics.New()).Send(context.Background(), sampleMessage)
	if err == nil || err.Error() != "provider answered 500" || attempts != 3 || calls.Load() != 3 {
		t.Errorf("got %d attempts, %v, %d calls; want 3, provider answered 500, 3", attempts, err, calls.Load())
	}
}

func TestSendAttemptTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close: the handler must return

	c := New(Options{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, MaxAttempts: 2, Backoff: time.Millisecond},
		slog.New(slog.DiscardHandler), metrics.New())
	start := time.Now()
	attempts, err := c.Send(context.Background(), sampleMessage)
	if err == nil || attempts != 2 {
		t.Errorf("got %d attempts, %v; want 2 and an error", attempts, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v; the per-attempt timeout did not fire", d)
	}
}
