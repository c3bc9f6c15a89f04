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

	inFlight     atomic.Int64
	enqueued     atomic.Uint64
	sent         atomic.Uint64
	failed       atomic.Uint64
	released     atomic.Uint64
	attempts     atomic.Uint64
	attemptFails atomic.Uint64
	sending      atomic.Int64
	buffered     atomic.Int64
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

// AddInFlight moves the HTTP in-flight gauge by delta.
func (m *Metrics) AddInFlight(delta int64) { m.inFlight.Add(delta) }

// Enqueued counts one accepted email.
func (m *Metrics) Enqueued() { m.enqueued.Add(1) }

// Sent counts one email acknowledged as sent.
func (m *Metrics) Sent() { m.sent.Add(1) }

// Failed counts one email given up on.
func (m *Metrics) Failed() { m.failed.Add(1) }

// Released counts one claimed email handed back to the queue.
func (m *Metrics) Released() { m.released.Add(1) }

// SendAttempt counts one provider attempt and whether it failed.
func (m *Metrics) SendAttempt(failed bool) {
	m.attempts.Add(1)
	if failed {
		m.attemptFails.Add(1)
	}
}

// SendAttempts returns how many provider attempts were made.
func (m *Metrics) SendAttempts() uint64 { return m.attempts.Load() }

// AddSending moves the gauge of sends in progress by delta.
func (m *Metrics) AddSending(delta int64) { m.sending.Add(delta) }

// AddBuffered moves the gauge of claimed emails waiting for a worker by delta.
func (m *Metrics) AddBuffered(delta int64) { m.buffered.Add(delta) }

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
	printf("# TYPE email_http_requests_total counter\n")
	for _, r := range rows {
		printf("email_http_requests_total{route=\"%s\",status=\"%d\"} %d\n", r.route, r.status, r.count)
	}
	printf("# TYPE email_http_in_flight gauge\n")
	printf("email_http_in_flight %d\n", m.inFlight.Load())
	printf("# TYPE email_enqueued_total counter\n")
	printf("email_enqueued_total %d\n", m.enqueued.Load())
	printf("# TYPE email_sent_total counter\n")
	printf("email_sent_total %d\n", m.sent.Load())
	printf("# TYPE email_failed_total counter\n")
	printf("email_failed_total %d\n", m.failed.Load())
	printf("# TYPE email_released_total counter\n")
	printf("email_released_total %d\n", m.released.Load())
	printf("# TYPE email_send_attempts_total counter\n")
	printf("email_send_attempts_total %d\n", m.attempts.Load())
	printf("# TYPE email_send_failures_total counter\n")
	printf("email_send_failures_total %d\n", m.attemptFails.Load())
	printf("# TYPE email_sending gauge\n")
	printf("email_sending %d\n", m.sending.Load())
	printf("# TYPE email_buffered gauge\n")
	printf("email_buffered %d\n", m.buffered.Load())
	return err
}
