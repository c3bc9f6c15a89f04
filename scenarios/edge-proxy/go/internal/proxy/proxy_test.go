package proxy

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"edgeproxy/internal/metrics"
	"edgeproxy/internal/upstream"
)

// newProxy builds a proxy in front of the given upstream URLs, already
// health-checked.
func newProxy(t *testing.T, upstreamTimeout time.Duration, urls ...string) *Proxy {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := upstream.New(urls, upstream.Options{MaxConns: 8, HealthTimeout: time.Second}, log)
	pool.CheckAll(context.Background())
	px := New(pool, Options{UpstreamTimeout: upstreamTimeout, BodyIdleTimeout: time.Second, MaxIdle: 4}, log, metrics.New())
	t.Cleanup(px.Close)
	return px
}

// newUpstream serves /healthz with 200 and everything else with h.
func newUpstream(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// send runs one request through the proxy from client 192.0.2.1.
func send(px *Proxy, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:40000"
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	px.ServeHTTP(w, r)
	return w
}

func TestForwardsRequestAndAnswer(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+string(b))
	})
	px := newProxy(t, time.Second, up.URL)

	w := send(px, "POST", "/v1/items?sort=asc", "hello", nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d, want 201", w.Code)
	}
	if got := w.Body.String(); got != "POST /v1/items?sort=asc hello" {
		t.Fatalf("body %q", got)
	}
	if got := w.Header().Get("X-Upstream"); got != "yes" {
		t.Fatalf("X-Upstream %q, want yes", got)
	}
}

func TestStripsHopByHopHeaders(t *testing.T) {
	var seen http.Header
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-End-To-End", "1")
	})
	px := newProxy(t, time.Second, up.URL)

	w := send(px, "GET", "/", "", http.Header{
		"Connection":          {"X-Client-Hop"},
		"X-Client-Hop":        {"1"},
		"Keep-Alive":          {"timeout=5"},
		"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
		"Te":                  {"trailers"},
		"Upgrade":             {"websocket"},
		"X-Forwarded-For":     {"203.0.113.7"},
		"X-Request-Id":        {"abc"},
	})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	for _, h := range []string{"Connection", "X-Client-Hop", "Keep-Alive", "Proxy-Authorization", "Te", "Upgrade"} {
		if v := seen.Get(h); v != "" {
			t.Errorf("upstream received %s: %q", h, v)
		}
	}
	if got := seen.Get("X-Request-Id"); got != "abc" {
		t.Errorf("upstream X-Request-Id %q, want abc", got)
	}
	if got := seen.Get("X-Forwarded-For"); got != "203.0.113.7, 192.0.2.1" {
		t.Errorf("upstream X-Forwarded-For %q", got)
	}
	for _, h := range []string{"Connection", "X-Upstream-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v := w.Header().Get(h); v != "" {
			t.Errorf("client received %s: %q", h, v)
		}
	}
	if got := w.Header().Get("X-End-To-End"); got != "1" {
		t.Errorf("client X-End-To-End %q, want 1", got)
	}
}

func TestUpstreamTimeoutAnswers504(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
	})
	px := newProxy(t, 50*time.Millisecond, up.URL)

	start := time.Now()
	w := send(px, "GET", "/slow", "", nil)
	assertError(t, w, http.StatusGatewayTimeout, "upstream timeout")
	if elapsed := time.Since(start); elapsed > 400*time.Millisecond {
		t.Fatalf("answered after %v, want about 50ms", elapsed)
	}
}

func TestRefusedUpstreamAnswers502(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	px := newProxy(t, time.Second, up.URL)
	up.Close() // healthy at the last probe, gone now

	w := send(px, "GET", "/", "", nil)
	assertError(t, w, http.StatusBadGateway, "upstream unavailable")
}

func TestNoHealthyUpstreamAnswers503(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(up.Close)
	px := newProxy(t, time.Second, up.URL)

	w := send(px, "GET", "/", "", nil)
	assertError(t, w, http.StatusServiceUnavailable, "no healthy upstream")
}

func TestAdminRoutes(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	px := newProxy(t, time.Second, up.URL)
	send(px, "GET", "/counted", "", nil)

	if w := send(px, "GET", "/_proxy/healthz", "", nil); w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %q", w.Code, w.Body.String())
	}
	w := send(px, "GET", "/_proxy/metrics", "", nil)
	for _, line := range []string{
		`proxy_requests_total{status="200"} 2`,
		`proxy_upstream_healthy{upstream="0"} 1`,
		`proxy_upstream_in_flight{upstream="0"} 0`,
		`proxy_upstream_failures_total{upstream="0"} 0`,
	} {
		if !strings.Contains(w.Body.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, w.Body.String())
		}
	}
	assertError(t, send(px, "GET", "/_proxy/nope", "", nil), http.StatusNotFound, "not found")
}

func assertError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	var body struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != status || body.Error != msg {
		t.Fatalf("got %d %q, want %d {\"error\":%q}", w.Code, w.Body.String(), status, msg)
	}
}
