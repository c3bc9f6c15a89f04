package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ledger/internal/ledger"
	"ledger/internal/metrics"
	"ledger/internal/provider"
	"ledger/internal/store"
)

// newHandler wires the whole service, as main does, to a temp database and a
// fake provider that always succeeds.
func newHandler(t *testing.T) http.Handler {
	t.Helper()
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"pch_1","status":"succeeded"}`))
	}))
	t.Cleanup(prov.Close)

	st, err := store.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	log := slog.New(slog.DiscardHandler)
	m := metrics.New()
	pc := provider.New(provider.Options{
		BaseURL: prov.URL, Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond,
	}, log, m)
	return New(ledger.New(st, pc, log, m, 100000000), log, m)
}

// do sends one request; key is the Idempotency-Key header, omitted when empty.
func do(h http.Handler, method, path, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// expect checks status, JSON content type and the exact body.
func expect(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if rec.Code != status || rec.Body.String() != body {
		t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body.String(), status, body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

const validBody = `{"account":"acct_1","amount_cents":1500,"currency":"usd"}`

func TestCreateChargeValidation(t *testing.T) {
	tests := []struct {
		name, key, body, wantMsg string
	}{
		{"missing key", "", validBody, "missing or invalid Idempotency-Key header"},
		{"key too long", strings.Repeat("k", 129), validBody, "missing or invalid Idempotency-Key header"},
		{"key not printable", "key\xe9", validBody, "missing or invalid Idempotency-Key header"},
		{"key checked before body", "", `not json`, "missing or invalid Idempotency-Key header"},
		{"not json", "k1", `not json`, "invalid JSON body"},
		{"not an object", "k1", `[1,2]`, "invalid JSON body"},
		{"missing field", "k1", `{"account":"acct_1","amount_cents":1500}`, "invalid JSON body"},
		{"null field", "k1", `{"account":null,"amount_cents":1500,"currency":"usd"}`, "invalid JSON body"},
		{"amount is a string", "k1", `{"account":"acct_1","amount_cents":"1500","currency":"usd"}`, "invalid JSON body"},
		{"amount is fractional", "k1", `{"account":"acct_1","amount_cents":15.5,"currency":"usd"}`, "invalid JSON body"},
		{"empty account", "k1", `{"account":"","amount_cents":1500,"currency":"usd"}`, "invalid account"},
		{"account with space", "k1", `{"account":"acct 1","amount_cents":1500,"currency":"usd"}`, "invalid account"},
		{"account too long", "k1", `{"account":"` + strings.Repeat("a", 65) + `","amount_cents":1500,"currency":"usd"}`, "invalid account"},
		{"account checked before amount", "k1", `{"account":"a/b","amount_cents":0,"currency":"usd"}`, "invalid account"},
		{"zero amount", "k1", `{"account":"acct_1","amount_cents":0,"currency":"usd"}`, "invalid amount_cents"},
		{"amount too large", "k1", `{"account":"acct_1","amount_cents":100000001,"currency":"usd"}`, "invalid amount_cents"},
		{"uppercase currency", "k1", `{"account":"acct_1","amount_cents":1500,"currency":"USD"}`, "invalid currency"},
		{"short currency", "k1", `{"account":"acct_1","amount_cents":1500,"currency":"us"}`, "invalid currency"},
	}
	h := newHandler(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(h, http.MethodPost, "/v1/charges", tt.key, tt.body)
			expect(t, rec, http.StatusBadRequest, `{"error":"`+tt.wantMsg+`"}`)
		})
	}
}

func TestCreateChargeReplayAndGet(t *testing.T) {
	h := newHandler(t)
	created := do(h, http.MethodPost, "/v1/charges", "k1", validBody)
	if created.Code != http.StatusCreated {
		t.Fatalf("POST: got %d %s, want 201", created.Code, created.Body)
	}
	var ch map[string]any
	if err := json.Unmarshal(created.Body.Bytes(), &ch); err != nil {
		t.Fatal(err)
	}
	id, _ := ch["id"].(string)
	if !regexp.MustCompile(`^ch_[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("id = %q, want ch_ + 16 hex digits", id)
	}
	if ts, _ := ch["created_at"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(ts) {
		t.Errorf("created_at = %q, want RFC 3339 UTC with seconds", ts)
	}
	for field, want := range map[string]any{
		"account": "acct_1", "amount_cents": 1500.0, "currency": "usd",
		"status": "succeeded", "provider_charge_id": "pch_1", "balance_cents": 1500.0,
	} {
		if ch[field] != want {
			t.Errorf("%s = %v, want %v", field, ch[field], want)
		}
	}
	if created.Header().Get("Idempotent-Replayed") != "" {
		t.Error("first answer carries Idempotent-Replayed")
	}

	replay := do(h, http.MethodPost, "/v1/charges", "k1", validBody)
	expect(t, replay, http.StatusCreated, created.Body.String())
	if replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Error("replay lacks Idempotent-Replayed: true")
	}
	conflict := do(h, http.MethodPost, "/v1/charges", "k1", `{"account":"acct_1","amount_cents":1,"currency":"usd"}`)
	expect(t, conflict, http.StatusConflict, `{"error":"idempotency key reused with a different request"}`)

	expect(t, do(h, http.MethodGet, "/v1/charges/"+id, "", ""), http.StatusOK, created.Body.String())
	expect(t, do(h, http.MethodGet, "/v1/accounts/acct_1", "", ""), http.StatusOK,
		`{"account":"acct_1","balance_cents":1500,"charges":1}`)
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1/charges/ch_0000000000000000", 404, `{"error":"charge not found"}`},
		{"GET", "/v1/accounts/acct_none", 404, `{"error":"account not found"}`},
		{"GET", "/nope", 404, `{"error":"not found"}`},
		{"GET", "/v1/charges/ch_1/extra", 404, `{"error":"not found"}`},
		{"GET", "/v1/charges", 405, `{"error":"method not allowed"}`},
		{"DELETE", "/v1/charges/ch_1", 405, `{"error":"method not allowed"}`},
		{"POST", "/v1/accounts/acct_1", 405, `{"error":"method not allowed"}`},
		{"POST", "/healthz", 405, `{"error":"method not allowed"}`},
		{"PUT", "/metrics", 405, `{"error":"method not allowed"}`},
	}
	h := newHandler(t)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			expect(t, do(h, tt.method, tt.path, "", ""), tt.status, tt.body)
		})
	}
}

func TestHealthz(t *testing.T) {
	expect(t, do(newHandler(t), http.MethodGet, "/healthz", "", ""), http.StatusOK, `{"status":"ok"}`)
}

func TestMetricsText(t *testing.T) {
	h := newHandler(t)
	do(h, http.MethodPost, "/v1/charges", "k1", validBody)
	do(h, http.MethodPost, "/v1/charges", "k1", validBody) // replay: no new charge, no provider call
	do(h, http.MethodGet, "/healthz", "", "")
	do(h, http.MethodPost, "/healthz", "", "")
	do(h, http.MethodGet, "/nope", "", "")

	rec := do(h, http.MethodGet, "/metrics", "", "")
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, _ := io.ReadAll(rec.Body)
	// The scrape itself is in flight, and is counted only once it has finished.
	want := `# TYPE ledger_http_requests_total counter
ledger_http_requests_total{route="/healthz",status="200"} 1
ledger_http_requests_total{route="/healthz",status="405"} 1
ledger_http_requests_total{route="/v1/charges",status="201"} 2
ledger_http_requests_total{route="other",status="404"} 1
# TYPE ledger_http_in_flight gauge
ledger_http_in_flight 1
# TYPE ledger_provider_calls_total counter
ledger_provider_calls_total 1
# TYPE ledger_provider_failures_total counter
ledger_provider_failures_total 0
# TYPE ledger_charges_total counter
ledger_charges_total 1
`
	if string(body) != want {
		t.Errorf("metrics text:\n%s\nwant:\n%s", body, want)
	}
}
