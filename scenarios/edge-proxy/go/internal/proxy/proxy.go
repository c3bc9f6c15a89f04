// Package proxy is the HTTP handler: the proxy's own routes under /_proxy/
// and the forwarding of everything else to an upstream, streaming both
// bodies.
package proxy

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

	"edgeproxy/internal/metrics"
	"edgeproxy/internal/upstream"
)

// AdminPrefix is the path prefix the proxy answers itself; nothing under it
// is forwarded.
const AdminPrefix = "/_proxy/"

// copyBufferSize is the size of one read when copying a body.
const copyBufferSize = 32 << 10

var (
	errUpstreamTimeout = errors.New("no response headers within the upstream timeout")
	errBodyIdle        = errors.New("upstream body idle for longer than the body idle timeout")
)

// Options configure a Proxy.
type Options struct {
	UpstreamTimeout time.Duration // from sending the request to the response headers
	BodyIdleTimeout time.Duration // longest wait for the next piece of the upstream body
	MaxIdle         int           // idle pooled connections kept per upstream
}

// Proxy forwards requests to the upstreams of a pool.
type Proxy struct {
	pool      *upstream.Pool
	opts      Options
	transport *http.Transport
	log       *slog.Logger
	metrics   *metrics.Metrics
}

// New builds a Proxy with one connection pool shared by every upstream.
func New(pool *upstream.Pool, opts Options, log *slog.Logger, m *metrics.Metrics) *Proxy {
	return &Proxy{
		pool: pool,
		opts: opts,
		transport: &http.Transport{
			Proxy:               nil, // never route upstream calls through HTTP_PROXY
			DialContext:         (&net.Dialer{Timeout: opts.UpstreamTimeout}).DialContext,
			MaxIdleConnsPerHost: opts.MaxIdle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true, // pass bodies through as the upstream encoded them
		},
		log:     log,
		metrics: m,
	}
}

// Close drops the idle pooled connections.
func (p *Proxy) Close() {
	p.transport.CloseIdleConnections()
}

// ServeHTTP answers the proxy's own routes and forwards everything else.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	hw := &headWriter{ResponseWriter: w, onHead: func(status int) { p.logRequest(r, start, status) }}
	if strings.HasPrefix(r.URL.Path, AdminPrefix) {
		p.admin(hw, r)
		return
	}
	p.forward(hw, r)
}

// logRequest logs and counts a request once its response head is sent.
func (p *Proxy) logRequest(r *http.Request, start time.Time, status int) {
	elapsed := time.Since(start)
	p.metrics.Request(status, elapsed)
	p.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
		"duration_ms", elapsed.Milliseconds())
}

func (p *Proxy) admin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case AdminPrefix + "healthz":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case AdminPrefix + "metrics":
		// Rendered before the head is written, so this request is not
		// counted in its own answer.
		text := p.metrics.Text(p.pool.States())
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, text)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// forward sends the request to an upstream and streams the answer back.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	u, ok := p.pool.Acquire()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "no healthy upstream")
		return
	}
	defer u.Release()

	// One cancellation for the whole exchange: the client going away, the
	// upstream timeout before the headers, or the body going idle after.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	resp, err := p.callUpstream(ctx, cancel, outgoingRequest(ctx, r, u))
	if err != nil {
		p.upstreamFailed(w, u, err, context.Cause(ctx))
		return
	}
	defer resp.Body.Close()

	RemoveHopByHop(resp.Header)
	for name, values := range resp.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	idle := time.AfterFunc(p.opts.BodyIdleTimeout, func() { cancel(errBodyIdle) })
	defer idle.Stop()
	if err := stream(w, &idleReader{r: resp.Body, timer: idle, idle: p.opts.BodyIdleTimeout}); err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errBodyIdle) {
			err = cause
		}
		p.log.Warn("response aborted", "upstream", u.Index, "error", err.Error())
		// The head is already sent: the only honest signal left is to cut
		// the connection so the client sees a truncated response.
		panic(http.ErrAbortHandler)
	}
}

// callUpstream sends out and waits for the response headers, at most the
// upstream timeout.
func (p *Proxy) callUpstream(ctx context.Context, cancel context.CancelCauseFunc, out *http.Request) (*http.Response, error) {
	timer := time.AfterFunc(p.opts.UpstreamTimeout, func() { cancel(errUpstreamTimeout) })
	defer timer.Stop()
	return p.transport.RoundTrip(out)
}

// upstreamFailed answers a request whose upstream call failed: 504 when the
// upstream timeout fired, 502 otherwise.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, u *upstream.Upstream, err, cause error) {
	p.metrics.UpstreamFailure(u.Index)
	if errors.Is(cause, errUpstreamTimeout) {
		p.log.Warn("upstream failed", "upstream", u.Index, "error", cause.Error())
		writeError(w, http.StatusGatewayTimeout, "upstream timeout")
		return
	}
	p.log.Warn("upstream failed", "upstream", u.Index, "error", err.Error())
	writeError(w, http.StatusBadGateway, "upstream unavailable")
}

// outgoingRequest is r addressed to u: same method, path, query and body,
// end-to-end headers only, the client added to X-Forwarded-For.
func outgoingRequest(ctx context.Context, r *http.Request, u *upstream.Upstream) *http.Request {
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme = "http"
	out.URL.Host = strings.TrimPrefix(u.URL, "http://")
	out.Host = "" // the upstream's host, from the URL
	out.Close = false
	RemoveHopByHop(out.Header)
	AppendForwardedFor(out.Header, r.RemoteAddr)
	return out
}

// stream copies body to w, flushing after every piece.
func stream(w http.ResponseWriter, body io.Reader) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, copyBufferSize)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// idleReader restarts the body idle timer after every read.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (b *idleReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.timer.Reset(b.idle)
	return n, err
}

// headWriter calls onHead once, when the response head is written.
type headWriter struct {
	http.ResponseWriter
	onHead func(status int)
	done   bool
}

func (h *headWriter) WriteHeader(status int) {
	if !h.done {
		h.done = true
		h.onHead(status)
	}
	h.ResponseWriter.WriteHeader(status)
}

func (h *headWriter) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection to flush it.
func (h *headWriter) Unwrap() http.ResponseWriter {
	return h.ResponseWriter
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
