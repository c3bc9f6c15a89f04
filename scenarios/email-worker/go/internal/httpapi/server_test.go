package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"emailworker/internal/metrics"
	"emailworker/internal/queue"
)

// newHandler wires the HTTP layer, as main does, to a temp queue. No worker
// runs: enqueued emails stay queued.
func newHandler(t *testing.T) http.Handler {
	t.Helper()
	q, err := queue.Open(filepath.Join(t.TempDir(), "emails.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return New(q, slog.New(slog.DiscardHandler), metrics.New())
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
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

func TestEnqueueValidation(t *testing.T) {
	long := strings.Repeat("a", 250) + "@example.com"
	tests := []struct {
		name, body, wantMsg string
	}{
		{"not json", `not json`, "invalid JSON body"},
		{"not an object", `[1,2]`, "invalid JSON body"},
		{"missing field", `{"to":"a@example.com","subject":"hi"}`, "invalid JSON body"},
		{"null field", `{"to":null,"subject":"hi","body":""}`, "invalid JSON body"},
		{"number field", `{"to":"a@example.com","subject":1,"body":""}`, "invalid JSON body"},
		{"no at sign", `{"to":"example.com","subject":"hi","body":""}`, "invalid to"},
		{"empty local part", `{"to":"@example.com","subject":"hi","body":""}`, "invalid to"},
		{"two at signs", `{"to":"a@b@example.com","subject":"hi","body":""}`, "invalid to"},
		{"space in address", `{"to":"a b@example.com","subject":"hi","body":""}`, "invalid to"},
		{"address too long", `{"to":"` + long + `","subject":"hi","body":""}`, "invalid to"},
		{"empty subject", `{"to":"a@example.com","subject":"","body":""}`, "invalid subject"},
		{"subject too long", `{"to":"a@example.com","subject":"` + strings.Repeat("é", 201) + `","body":""}`, "invalid subject"},
		{"body too long", `{"to":"a@example.com","subject":"hi","body":"` + strings.Repeat("x", 64<<10+1) + `"}`, "invalid body"},
	}
	h := newHandler(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, do(h, "POST", "/v1/emails", tt.body), 400, `{"error":"`+tt.wantMsg+`"}`)
		})
	}
}

func TestEnqueueAndGet(t *testing.T) {
	h := newHandler(t)
	rec := do(h, "POST", "/v1/emails", `{"to":"a@example.com","subject":"Hi <you>","body":"hello","extra":1}`)
	if rec.Code != 202 {
		t.Fatalf("got %d %s, want 202", rec.Code, rec.Body.String())
	}
	var e struct {
		ID        string `json:"id"`
		CreatedAt string `json:"created_at"`
	}
	json.Unmarshal(rec.Body.Bytes(), &e)
	if !regexp.MustCompile(`^em_[0-9a-f]{16}$`).MatchString(e.ID) {
		t.Errorf("id = %q, want em_ and 16 hex digits", e.ID)
	}
	want := `{"id":"` + e.ID + `","to":"a@example.com","subject":"Hi <you>","status":"queued","last_error":"",` +
		`"created_at":"` + e.CreatedAt + `"}`
	expect(t, rec, 202, want)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(e.CreatedAt) {
		t.Errorf("created_at = %q, want RFC 3339 UTC seconds", e.CreatedAt)
	}
	expect(t, do(h, "GET", "/v1/emails/"+e.ID, ""), 200, want)
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	h := newHandler(t)
	expect(t, do(h, "GET", "/v1/emails/em_0000000000000000", ""), 404, `{"error":"email not found"}`)
	expect(t, do(h, "GET", "/nope", ""), 404, `{"error":"not found"}`)
	expect(t, do(h, "DELETE", "/v1/emails/em_0000000000000000", ""), 405, `{"error":"method not allowed"}`)
	expect(t, do(h, "GET", "/v1/emails", ""), 405, `{"error":"method not allowed"}`)
}

func TestHealthz(t *testing.T) {
	expect(t, do(newHandler(t), "GET", "/healthz", ""), 200, `{"status":"ok"}`)
}

func TestMetricsText(t *testing.T) {
	h := newHandler(t)
	do(h, "POST", "/v1/emails", `{"to":"a@example.com","subject":"hi","body":""}`)
	do(h, "POST", "/v1/emails", `{}`)
	do(h, "GET", "/nope", "")
	rec := do(h, "GET", "/metrics", "")
	want := `# TYPE email_http_requests_total counter
email_http_requests_total{route="/v1/emails",status="202"} 1
email_http_requests_total{route="/v1/emails",status="400"} 1
email_http_requests_total{route="other",status="404"} 1
# TYPE email_http_in_flight gauge
email_http_in_flight 1
# TYPE email_enqueued_total counter
email_enqueued_total 1
# TYPE email_sent_total counter
email_sent_total 0
# TYPE email_failed_total counter
email_failed_total 0
# TYPE email_released_total counter
email_released_total 0
# TYPE email_send_attempts_total counter
email_send_attempts_total 0
# TYPE email_send_failures_total counter
email_send_failures_total 0
# TYPE email_sending gauge
email_sending 0
# TYPE email_buffered gauge
email_buffered 0
`
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d\n%s\nwant\n%s", rec.Code, rec.Body.String(), want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4" {
		t.Errorf("Content-Type = %q", ct)
	}
}
