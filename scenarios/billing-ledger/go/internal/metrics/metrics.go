// Package metrics holds the service counters and renders them in the
// Prometheus text format. It is hand-rolled (no client library): a handful of
// counters and gauges do not need one.
package metrics

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
)

type requestKey struct {
	route  string
	status int
}

// Metrics is safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64

	inFlight         atomic.Int64
	providerCalls    atomic.Uint64
	providerFailures atomic.Uint64
	charges          atomic.Uint64
}

// New returns zeroed metrics.
func New() *Metrics {
	return &Metrics{requests: make(map[requestKey]uint64)}
}

// ObserveRequest counts one finished HTTP request.
func (m *Metrics) ObserveRequest(route string, status int) {
	m.mu.Lock()
	m.requests[requestKey{route, status}]++
	m.mu.Unlock()
}

// AddInFlight moves the in-flight gauge by delta (+1 on entry, -1 on exit).
func (m *Metrics) AddInFlight(delta int64) {
	m.inFlight.Add(delta)
}

// ProviderAttempt counts one provider attempt and whether it failed.
func (m *Metrics) ProviderAttempt(failed bool) {
	m.providerCalls.Add(1)
	if failed {
		m.providerFailures.Add(1)
	}
}

// ProviderCalls returns how many provider attempts were made.
func (m *Metrics) ProviderCalls() uint64 { return m.providerCalls.Load() }

// ProviderFailures returns how many provider attempts failed.
func (m *Metrics) ProviderFailures() uint64 { return m.providerFailures.Load() }

// ChargeCreated counts one newly recorded charge (replays are not counted).
func (m *Metrics) ChargeCreated() {
	m.charges.Add(1)
}

// WriteText writes every family in the Prometheus text format, request
// series sorted by route then status so the output is deterministic.
func (m *Metrics) WriteText(w io.Writer) error {
	type series struct {
		requestKey
		count uint64
	}
	m.mu.Lock()
	rows := make([]series, 0, len(m.requests))
	for k, n := range m.requests {
		rows = append(rows, series{k, n})
	}
	m.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].route != rows[j].route {
			return rows[i].route < rows[j].route
		}
		return rows[i].status < rows[j].status
	})

	var err error
	printf := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	printf("# TYPE ledger_http_requests_total counter\n")
	for _, r := range rows {
		printf("ledger_http_requests_total{route=\"%s\",status=\"%d\"} %d\n", r.route, r.status, r.count)
	}
	printf("# TYPE ledger_http_in_flight gauge\n")
	printf("ledger_http_in_flight %d\n", m.inFlight.Load())
	printf("# TYPE ledger_provider_calls_total counter\n")
	printf("ledger_provider_calls_total %d\n", m.providerCalls.Load())
	printf("# TYPE ledger_provider_failures_total counter\n")
	printf("ledger_provider_failures_total %d\n", m.providerFailures.Load())
	printf("# TYPE ledger_charges_total counter\n")
	printf("ledger_charges_total %d\n", m.charges.Load())
	return err
}
