package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/internal/downstream"
	"intake/internal/intake"
	"intake/internal/metrics"
	"intake/internal/signature"
	"intake/internal/store"
	"intake/internal/worker"
)

const secret = "whsec_test"

// recorder is a fake downstream that accepts every event and keeps the bodies.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (rec *recorder) received() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.bodies...)
}

// newHandler wires the whole service, as main does, to a temp database, two
// workers and a fake downstream that accepts everything.
func newHandler(t *testing.T) (http.Handler, *recorder) {
	t.Helper()
	rec := &recorder{}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, string(b))
		rec.mu.Unlock()
	}))
	t.Cleanup(down.Close)

	st, err := store.Open(filepath.Join(t.TempDir(), "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	m := metrics.New()
	dc := downstream.New(downstream.Options{
		BaseURL: down.URL, Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond,
	}, log, m)
	pool := worker.New(100, dc, st, log, m)
	ctx, cancel := context.WithCancel(context.Background())
	pool.Start(ctx, 2)
	t.Cleanup(func() { cancel(); pool.Wait(); st.Close() })

	svc := intake.New(signature.NewVerifier(secret, 300*time.Second), st, pool, log, m)
	return New(svc, log, m, 1024), rec
}

// post sends a webhook signed with secret at timestamp now+offset.
func post(h http.Handler, body string, offset time.Duration) *httptest.ResponseRecorder {
	ts := time.Now().Add(offset).Unix()
	return postWithHeader(h, body, fmt.Sprintf("t=%d,v1=%s", ts, signature.Sign(secret, ts, []byte(body))))
}

func postWithHeader(h http.Handler, body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/webhooks", strings.NewReader(body))
	if sig != "" {
		req.Header.Set("Webhook-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// expect checks status and the exact body.
func expect(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if rec.Code != status || rec.Body.String() != body {
		t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body.String(), status, body)
	}
}

// waitDelivered polls the event until the worker has delivered it.
func waitDelivered(t *testing.T, h http.Handler, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rec := get(h, "/v1/events/"+id)
		var ev struct{ Status string }
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &ev) == nil && ev.Status == "delivered" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("event %s not delivered within 5s", id)
}

func TestWebhookIsAcceptedAndDelivered(t *testing.T) {
	h, down := newHandler(t)
	body := `{"id":"evt_1","type":"invoice.paid","data":{"amount":1500}}`
	rec := post(h, body, 0)
	expect(t, rec, http.StatusAccepted, `{"id":"evt_1","status":"accepted"}`)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	waitDelivered(t, h, "evt_1")

	rec = get(h, "/v1/events/evt_1")
	var ev map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["type"] != "invoice.paid" || ev["attempts"] != 1.0 || ev["received_at"] == "" {
		t.Errorf("GET event = %s", rec.Body.String())
	}
	if got := down.received(); len(got) != 1 || got[0] != body {
		t.Errorf("downstream received %q, want the raw body once", got)
	}
}

func TestWebhookRejections(t *testing.T) {
	const valid = `{"id":"evt_1","type":"invoice.paid"}`
	ts := time.Now().Unix()
	tests := []struct {
		name   string
		body   string
		header string
		status int
		msg    string
	}{
		{"no signature", valid, "", 401, "invalid signature"},
		{"wrong secret", valid, fmt.Sprintf("t=%d,v1=%s", ts, signature.Sign("other", ts, []byte(valid))), 401, "invalid signature"},
		{"stale", valid, fmt.Sprintf("t=%d,v1=%s", ts-600, signature.Sign(secret, ts-600, []byte(valid))), 401, "timestamp outside tolerance"},
		{"too large", `{"id":"evt_1","type":"` + strings.Repeat("x", 1024) + `"}`, "", 413, "body too large"},
		{"not json", `not json`, "", 400, "invalid event"},
		{"missing type", `{"id":"evt_1"}`, "", 400, "invalid event"},
		{"bad id", `{"id":"evt 1","type":"invoice.paid"}`, "", 400, "invalid event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, down := newHandler(t)
			header := tt.header
			if header == "" && tt.status != 401 {
				header = fmt.Sprintf("t=%d,v1=%s", ts, signature.Sign(secret, ts, []byte(tt.body)))
			}
			expect(t, postWithHeader(h, tt.body, header), tt.status, `{"error":"`+tt.msg+`"}`)
			expect(t, get(h, "/v1/events/evt_1"), 404, `{"error":"event not found"}`)
			if got := down.received(); len(got) != 0 {
				t.Errorf("downstream received %q", got)
			}
		})
	}
}

func TestDuplicateWebhookIsNotForwardedTwice(t *testing.T) {
	h, down := newHandler(t)
	body := `{"id":"evt_dup","type":"invoice.paid"}`
	expect(t, post(h, body, 0), http.StatusAccepted, `{"id":"evt_dup","status":"accepted"}`)
	waitDelivered(t, h, "evt_dup")
	// A sender retry, signed again a little later.
	expect(t, post(h, body, time.Second), http.StatusOK, `{"id":"evt_dup","status":"duplicate"}`)
	time.Sleep(50 * time.Millisecond)
	if got := down.received(); len(got) != 1 {
		t.Errorf("downstream received %d deliveries, want 1", len(got))
	}
}

func TestRoutesAndMetrics(t *testing.T) {
	h, _ := newHandler(t)
	expect(t, get(h, "/healthz"), 200, `{"status":"ok"}`)
	expect(t, get(h, "/v1/events/evt_404"), 404, `{"error":"event not found"}`)
	expect(t, get(h, "/nope"), 404, `{"error":"not found"}`)
	expect(t, get(h, "/v1/webhooks"), 405, `{"error":"method not allowed"}`)
	post(h, `{"id":"evt_m","type":"invoice.paid"}`, 0)
	waitDelivered(t, h, "evt_m")

	rec := get(h, "/metrics")
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, line := range []string{
		`webhook_http_requests_total{route="/healthz",status="200"} 1`,
		`webhook_http_requests_total{route="/v1/webhooks",status="202"} 1`,
		`webhook_http_requests_total{route="/v1/webhooks",status="405"} 1`,
		`webhook_http_requests_total{route="other",status="404"} 1`,
		"webhook_http_in_flight 1",
		"webhook_events_accepted_total 1",
		"webhook_events_duplicate_total 0",
		"webhook_events_rejected_total 0",
		"webhook_queue_depth 0",
		"webhook_downstream_attempts_total 1",
		"webhook_downstream_failures_total 0",
		"webhook_events_delivered_total 1",
		"webhook_events_failed_total 0",
	} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, rec.Body.String())
		}
	}
}
