package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ingester/internal/archive"
	"ingester/internal/batch"
	"ingester/internal/ingest"
	"ingester/internal/metrics"
	"ingester/internal/quota"
	"ingester/internal/store"
)

// newHandler wires the whole service, as main does, to a temp database and
// a fake archive that takes everything; batches of 2 lines, quota of 5.
func newHandler(t *testing.T) (http.Handler, *ingest.Service, *atomic.Int64) {
	t.Helper()
	var archived atomic.Int64
	ar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		archived.Add(int64(strings.Count(string(b), "\n")))
	}))
	t.Cleanup(ar.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	b := batch.New(2, 100, time.Hour, m.SetQueueDepth)
	log := slog.New(slog.DiscardHandler)
	svc := ingest.New(64, quota.New(5, time.Minute, 10), b, st, archive.New(ar.URL, 5*time.Second), log, m)
	done := make(chan struct{})
	go func() { b.Run(context.Background(), svc.Flush); close(done) }()
	t.Cleanup(func() { b.Close(); <-done; st.Close() })
	return New(svc, log, m, 512), svc, &archived
}

func send(h http.Handler, method, path, tenant, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tenant != "" {
		req.Header.Set("X-Tenant", tenant)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestIngestFlushAndQuery(t *testing.T) {
	h, _, archived := newHandler(t)
	rec := send(h, "POST", "/v1/logs", "acme", "{\"level\":\"error\",\"msg\":\"payment declined\"}\nnot json\n")
	if rec.Code != 202 || rec.Body.String() != `{"accepted":1,"rejected":1}` {
		t.Fatalf("ndjson: %d %s", rec.Code, rec.Body)
	}
	rec = send(h, "POST", "/v1/lines", "acme", "info payment retried\n")
	if rec.Code != 202 || rec.Body.String() != `{"accepted":1,"rejected":0}` {
		t.Fatalf("lines: %d %s", rec.Code, rec.Body)
	}
	var ans struct {
		Lines []store.Line `json:"lines"`
		Count int          `json:"count"`
	}
	for deadline := time.Now().Add(5 * time.Second); ans.Count < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rec = send(h, "GET", "/v1/query?tenant=acme&q=payment&limit=10", "", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || rec.Code != 200 {
			t.Fatalf("query: %d %s", rec.Code, rec.Body)
		}
	}
	if ans.Count != 2 || ans.Lines[0].Msg != "payment retried" || ans.Lines[1].Level != "error" {
		t.Fatalf("query answer %+v", ans)
	}
	for deadline := time.Now().Add(5 * time.Second); archived.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := archived.Load(); n != 2 {
		t.Fatalf("archive got %d lines, want 2", n)
	}
	if m := send(h, "GET", "/metrics", "", ""); !strings.Contains(m.Body.String(), "ingest_lines_accepted_total 2\n") ||
		!strings.Contains(m.Body.String(), "ingest_lines_rejected_total 1\n") {
		t.Fatalf("metrics:\n%s", m.Body)
	}
}

func TestRefusals(t *testing.T) {
	h, _, _ := newHandler(t)
	if rec := send(h, "POST", "/v1/logs", "", `{"msg":"x"}`); rec.Code != 400 {
		t.Fatalf("no tenant: %d", rec.Code)
	}
	if rec := send(h, "POST", "/v1/lines", "acme", strings.Repeat("info x\n", 100)); rec.Code != 413 {
		t.Fatalf("large body: %d", rec.Code)
	}
	if rec := send(h, "POST", "/v1/lines", "acme", "info a\ninfo b\ninfo c\ninfo d\n"); rec.Code != 202 {
		t.Fatalf("within quota: %d %s", rec.Code, rec.Body)
	}
	rec := send(h, "POST", "/v1/lines", "acme", "info e\ninfo f\n")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "60" || rec.Body.String() != `{"error":"quota exceeded"}` {
		t.Fatalf("over quota: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := send(h, "GET", "/v1/query?tenant=acme&limit=0", "", ""); rec.Code != 400 {
		t.Fatalf("limit 0: %d", rec.Code)
	}
	if rec := send(h, "DELETE", "/v1/logs", "acme", ""); rec.Code != 405 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
}
