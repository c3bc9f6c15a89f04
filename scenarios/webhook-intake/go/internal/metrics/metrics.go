// Package metrics holds the service counters and renders them in the
// Prometheus text format. It is hand-rolled (no client library): ten series
// do not need one, and the output is exactly the README's.
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

	inFlight           atomic.Int64
	accepted           atomic.Uint64
	duplicates         atomic.Uint64
	rejected           atomic.Uint64
	queueDepth         atomic.Int64
	downstreamCalls    atomic.Uint64
	downstreamFailures atomic.Uint64
	delivered          atomic.Uint64
	failed             atomic.Uint64
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
func (m *Metrics) AddInFlight(delta int64) { m.inFlight.Add(delta) }

// EventAccepted counts one new event.
func (m *Metrics) EventAccepted() { m.accepted.Add(1) }

// EventDuplicate counts one delivery of an event id already seen.
func (m *Metrics) EventDuplicate() { m.duplicates.Add(1) }

// EventRejected counts one refused webhook (signature, size or shape).
func (m *Metrics) EventRejected() { m.rejected.Add(1) }

// AddQueueDepth moves the queue gauge by delta (+1 queued, -1 taken).
func (m *Metrics) AddQueueDepth(delta int64) { m.queueDepth.Add(delta) }

// DownstreamAttempt counts one downstream attempt and whether it failed.
func (m *Metrics) DownstreamAttempt(failed bool) {
	m.downstreamCalls.Add(1)
	if failed {
		m.downstreamFailures.Add(1)
	}
}

// DownstreamCalls returns how many downstream attempts were made.
func (m *Metrics) DownstreamCalls() uint64 { return m.downstreamCalls.Load() }

// EventDelivered counts one event the downstream took.
func (m *Metrics) EventDelivered() { m.delivered.Add(1) }

// EventFailed counts one event given up on.
func (m *Metrics) EventFailed() { m.failed.Add(1) }

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
	printf("# TYPE webhook_http_requests_total counter\n")
	for _, r := range rows {
		printf("webhook_http_requests_total{route=\"%s\",status=\"%d\"} %d\n", r.route, r.status, r.count)
	}
	printf("# TYPE webhook_http_in_flight gauge\n")
	printf("webhook_http_in_flight %d\n", m.inFlight.Load())
	printf("# TYPE webhook_events_accepted_total counter\n")
	printf("webhook_events_accepted_total %d\n", m.accepted.Load())
	printf("# TYPE webhook_events_duplicate_total counter\n")
	printf("webhook_events_duplicate_total %d\n", m.duplicates.Load())
	printf("# TYPE webhook_events_rejected_total counter\n")
	printf("webhook_events_rejected_total %d\n", m.rejected.Load())
	printf("# TYPE webhook_queue_depth gauge\n")
	printf("webhook_queue_depth %d\n", m.queueDepth.Load())
	printf("# TYPE webhook_downstream_attempts_total counter\n")
	printf("webhook_downstream_attempts_total %d\n", m.downstreamCalls.Load())
	printf("# TYPE webhook_downstream_failures_total counter\n")
	printf("webhook_downstream_failures_total %d\n", m.downstreamFailures.Load())
	printf("# TYPE webhook_events_delivered_total counter\n")
	printf("webhook_events_delivered_total %d\n", m.delivered.Load())
	printf("# TYPE webhook_events_failed_total counter\n")
	printf("webhook_events_failed_total %d\n", m.failed.Load())
	return err
}
