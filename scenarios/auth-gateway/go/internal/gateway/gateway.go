// Package gateway is the HTTP handler: it authenticates the bearer token,
// applies the access rules and forwards allowed requests to the backend
// with the token's subject in X-Auth-Subject.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"authgw/internal/keys"
	"authgw/internal/metrics"
	"authgw/internal/rules"
	"authgw/internal/token"
)

// SubjectHeader carries the authenticated subject to the backend.
const SubjectHeader = "X-Auth-Subject"

// Options configures a Gateway.
type Options struct {
	BackendURL     string
	BackendTimeout time.Duration
	Leeway         time.Duration
}

// Gateway serves /healthz, /metrics and forwards everything else.
type Gateway struct {
	opts    Options
	keys    *keys.Cache
	rules   *rules.Store
	routes  *routeCache
	metrics *metrics.Metrics
	log     *slog.Logger
	client  *http.Client
	now     func() time.Time
}

// New builds a Gateway.
func New(opts Options, k *keys.Cache, r *rules.Store, m *metrics.Metrics, log *slog.Logger) *Gateway {
	return &Gateway{
		opts: opts, keys: k, rules: r, routes: newRouteCache(), metrics: m, log: log,
		client: &http.Client{
			// Redirects are the client's business, not the gateway's.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}
}

// hopByHop are the headers that describe one connection, not the request.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case "/metrics":
		set, _ := g.rules.Current()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, g.metrics.Text(metrics.Gauges{Keys: g.keys.Len(), Routes: set.Len(), RouteCacheEntries: g.routes.len()}))
		return
	}
	claims, err := g.authenticate(r)
	if err != nil {
		g.metrics.Request("unauthenticated")
		g.log.Info("request refused", "path", r.URL.Path, "status", 401, "reason", err.Error())
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	route := g.route(r.URL.Path)
	if err := rules.Allow(route, claims, g.now(), g.opts.Leeway); err != nil {
		status, outcome := http.StatusForbidden, "forbidden"
		if errors.Is(err, rules.ErrAuthTooOld) {
			status, outcome = http.StatusUnauthorized, "unauthenticated"
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		g.metrics.Request(outcome)
		g.log.Info("request refused", "path", r.URL.Path, "status", status, "subject", claims.Subject, "reason", err.Error())
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	g.forward(w, r, claims.Subject)
}

// authenticate verifies the bearer token of r.
func (g *Gateway) authenticate(r *http.Request) (token.Claims, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return token.Claims{}, errors.New("missing bearer token")
	}
	c, err := token.Parse(strings.TrimSpace(raw))
	if err != nil {
		return token.Claims{}, err
	}
	key, ok := g.keys.Lookup(r.Context(), c.Kid)
	if !ok {
		return token.Claims{}, token.ErrUnknownKey
	}
	if err := c.CheckSignature(key.Secret); err != nil {
		return token.Claims{}, err
	}
	now := g.now()
	if key.NotAfter > 0 && now.Unix() > key.NotAfter {
		return token.Claims{}, token.ErrUnknownKey
	}
	if err := c.CheckTime(now, g.opts.Leeway); err != nil {
		return token.Claims{}, err
	}
	return c, nil
}

// route finds the route deciding path, through the cache.
func (g *Gateway) route(path string) *rules.Route {
	set, gen := g.rules.Current()
	if r, ok := g.routes.lookup(path, gen); ok {
		g.metrics.RouteCacheHit()
		return r
	}
	r := set.Match(path)
	g.routes.store(path, gen, r)
	return r
}

// forward sends r to the backend and copies the answer back.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, subject string) {
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.BackendTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, g.opts.BackendURL+r.URL.RequestURI(), r.Body)
	if err != nil {
		g.backendFailed(w, r, err)
		return
	}
	out.ContentLength = r.ContentLength
	out.Header = r.Header.Clone()
	for _, h := range hopByHop {
		out.Header.Del(h)
	}
	out.Header.Del("Authorization")
	out.Header.Set(SubjectHeader, subject)
	resp, err := g.client.Do(out)
	if err != nil {
		g.backendFailed(w, r, err)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, h := range hopByHop {
		w.Header().Del(h)
	}
	w.WriteHeader(resp.StatusCode)
	g.metrics.Request("forwarded")
	_, _ = io.Copy(w, resp.Body)
}

func (g *Gateway) backendFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		g.metrics.Request("backend_timeout")
		g.log.Warn("backend timed out", "path", r.URL.Path, "timeout_ms", g.opts.BackendTimeout.Milliseconds())
		writeJSON(w, http.StatusGatewayTimeout, map[string]string{"error": "backend timed out"})
		return
	}
	g.metrics.Request("backend_error")
	g.log.Warn("backend failed", "path", r.URL.Path, "error", err.Error())
	writeJSON(w, http.StatusBadGateway, map[string]string{"error": "backend unavailable"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
