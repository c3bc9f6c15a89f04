// Package upstream keeps the table of upstreams: which are healthy, how
// many requests each is serving, which one serves the next request, and the
// health checker that keeps the table current.
package upstream

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"edgeproxy/internal/metrics"
)

// Upstream is one backend from UPSTREAM_URLS.
type Upstream struct {
	Index int    // position in UPSTREAM_URLS: the label in metrics and logs
	URL   string // base URL, no trailing slash
	// inFlight counts requests holding one of this upstream's connection
	// slots, from Acquire until Release.
	inFlight atomic.Int64
}

// Release gives back the connection slot taken by Pool.Acquire.
func (u *Upstream) Release() {
	u.inFlight.Add(-1)
}

// Options configure a Pool.
type Options struct {
	MaxConns      int           // connection slots per upstream
	HealthTimeout time.Duration // HEALTH_TIMEOUT_MS
}

// Pool is the upstream table. An upstream is used only when its last
// probe succeeded and it has a free slot; the choice is round-robin.
type Pool struct {
	upstreams []*Upstream
	opts      Options
	client    *http.Client
	log       *slog.Logger

	mu      sync.Mutex // guards healthy and next
	healthy []bool
	next    int
}

// New builds the table; every upstream starts unhealthy until CheckAll
// has probed it.
func New(urls []string, opts Options, log *slog.Logger) *Pool {
	p := &Pool{
		opts: opts,
		// Probes get their own small pool so a busy proxy never makes a
		// probe wait for a connection.
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: opts.HealthTimeout}).DialContext,
			MaxIdleConnsPerHost: 1,
		}},
		log:     log,
		healthy: make([]bool, len(urls)),
	}
	for i, u := range urls {
		p.upstreams = append(p.upstreams, &Upstream{Index: i, URL: u})
	}
	return p
}

// Acquire picks the next healthy upstream with a free connection slot and
// takes the slot; the caller must Release it. ok is false when none
// qualifies.
func (p *Pool) Acquire() (u *Upstream, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.upstreams)
	for k := 0; k < n; k++ {
		i := (p.next + k) % n
		u := p.upstreams[i]
		if !p.healthy[i] || u.inFlight.Load() >= int64(p.opts.MaxConns) {
			continue
		}
		u.inFlight.Add(1)
		p.next = (i + 1) % n
		return u, true
	}
	return nil, false
}

// States reports every upstream for the metrics page.
func (p *Pool) States() []metrics.UpstreamState {
	p.mu.Lock()
	defer p.mu.Unlock()
	states := make([]metrics.UpstreamState, len(p.upstreams))
	for i, u := range p.upstreams {
		states[i] = metrics.UpstreamState{Healthy: p.healthy[i], InFlight: u.inFlight.Load()}
	}
	return states
}

// Run probes every upstream each interval until ctx ends.
func (p *Pool) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.CheckAll(ctx)
		}
	}
}

// CheckAll probes every upstream once, then records the results.
func (p *Pool) CheckAll(ctx context.Context) {
	results := make([]bool, len(p.upstreams))
	for i, u := range p.upstreams {
		results[i] = p.probe(ctx, u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, ok := range results {
		if p.healthy[i] != ok {
			p.log.Info("upstream health changed", "upstream", i, "url", p.upstreams[i].URL, "healthy", ok)
		}
		p.healthy[i] = ok
	}
}

// probe reports whether GET /healthz answers 2xx, body included.
func (p *Pool) probe(ctx context.Context, u *Upstream) bool {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HealthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)); err != nil {
		return false
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}
