package provider

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"ledger/internal/metrics"
)

// fakeProvider answers attempt n (1-based) with statuses[n-1], or the last
// status once the list runs out; a 200 carries {"id":"pch_1"}. It counts calls.
func fakeProvider(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		status := statuses[min(n, len(statuses))-1]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			w.Write([]byte(`{"id":"pch_1","status":"succeeded"}`))
		} else {
			w.Write([]byte(`{"error":"nope"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// newClient returns a client with a generous timeout (nothing here is slow)
// and a 1 ms backoff so retries cost no real time.
func newClient(url string, m *metrics.Metrics) *Client {
	return New(Options{BaseURL: url, Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond},
		slog.New(slog.DiscardHandler), m)
}

var sampleRequest = Request{Reference: "ch_0123456789abcdef", Account: "acct_1", AmountCents: 1500, Currency: "usd"}

func TestProviderChargeSuccess(t *testing.T) {
	var got Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/charges" {
			t.Errorf("got %s %s, want POST /v1/charges", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.Write([]byte(`{"id":"pch_42","status":"succeeded"}`))
	}))
	defer srv.Close()

	id, err := newClient(srv.URL, metrics.New()).Charge(context.Background(), "ledger-ch_0123456789abcdef", sampleRequest)
	if err != nil {
		t.Fatal(err)
	}
	if id != "pch_42" {
		t.Errorf("provider charge id = %q, want pch_42", id)
	}
	if got != sampleRequest {
		t.Errorf("provider got body %+v, want %+v", got, sampleRequest)
	}
}

func TestProviderRetries503ThenSucceeds(t *testing.T) {
	srv, calls := fakeProvider(t, 503, 200)
	m := metrics.New()
	id, err := newClient(srv.URL, m).Charge(context.Background(), "ledger-ch_1", sampleRequest)
	if err != nil {
		t.Fatal(err)
	}
	if id != "pch_1" || calls.Load() != 2 {
		t.Errorf("got id %q after %d calls, want pch_1 after 2", id, calls.Load())
	}
	if m.ProviderCalls() != 2 || m.ProviderFailures() != 1 {
		t.Errorf("metrics: %d calls, %d failures; want 2, 1", m.ProviderCalls(), m.ProviderFailures())
	}
}

func TestProviderDoesNotRetry400(t *testing.T) {
	srv, calls := fakeProvider(t, 400, 200)
	_, err := newClient(srv.URL, metrics.New()).Charge(context.Background(), "ledger-ch_1", sampleRequest)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("error = %v, want ErrUnavailable", err)
	}
	if calls.Load() != 1 {
		t.Errorf("provider called %d times, want 1", calls.Load())
	}
}

func TestProviderGivesUpAfterMaxAttempts(t *testing.T) {
	srv, calls := fakeProvider(t, 500)
	m := metrics.New()
	_, err := newClient(srv.URL, m).Charge(context.Background(), "ledger-ch_1", sampleRequest)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("error = %v, want ErrUnavailable", err)
	}
	if calls.Load() != 3 {
		t.Errorf("provider called %d times, want 3", calls.Load())
	}
	if m.ProviderCalls() != 3 || m.ProviderFailures() != 3 {
		t.Errorf("metrics: %d calls, %d failures; want 3, 3", m.ProviderCalls(), m.ProviderFailures())
	}
}
