// Package metrics keeps the proxy's counters and prints them in the
// Prometheus text format.
package metrics

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// headBuckets are the upper bounds, in seconds, of the time-to-head
// histogram (Prometheus' default buckets).
var headBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics is safe for concurrent use. Per-upstream series are labelled by
// the upstream's position in UPSTREAM_URLS, which is stable across restarts
// and machines (a URL with a random port would not be).
type Metrics struct {
	mu       sync.Mutex
	requests map[int]int64 // status → count
	failures map[int]int64 // upstream index → count
	// Time from a request's arrival to its response head: what a client
	// waits for its first byte.
	headCounts []int64 // per bucket of headBuckets, not cumulative
	headSum    time.Duration
	headCount  int64
}

// New returns zeroed metrics.
func New() *Metrics {
	return &Metrics{
		requests:   map[int]int64{},
		failures:   map[int]int64{},
		headCounts: make([]int64, len(headBuckets)),
	}
}

// Request counts one client request by its status, when its response head
// is sent after head.
func (m *Metrics) Request(status int, head time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[status]++
	for i, le := range headBuckets {
		if head.Seconds() <= le {
			m.headCounts[i]++
			break
		}
	}
	m.headSum += head
	m.headCount++
}

// UpstreamFailure counts one failed call to an upstream (refused, reset,
// timed out; an answer of any status is not a failure).
func (m *Metrics) UpstreamFailure(upstream int) {
	m.mu.Lock()
	m.failures[upstream]++
	m.mu.Unlock()
}

// UpstreamState is what the upstream pool reports for one upstream.
type UpstreamState struct {
	Healthy  bool
	InFlight int64
}

// Text renders every family; upstreams comes from the pool at render time.
func (m *Metrics) Text(upstreams []UpstreamState) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# TYPE proxy_requests_total counter\n")
	for _, status := range sortedKeys(m.requests) {
		fmt.Fprintf(&b, "proxy_requests_total{status=\"%d\"} %d\n", status, m.requests[status])
	}
	b.WriteString("# TYPE proxy_response_head_seconds histogram\n")
	var cumulative int64
	for i, le := range headBuckets {
		cumulative += m.headCounts[i]
		fmt.Fprintf(&b, "proxy_response_head_seconds_bucket{le=\"%g\"} %d\n", le, cumulative)
	}
	fmt.Fprintf(&b, "proxy_response_head_seconds_bucket{le=\"+Inf\"} %d\n", m.headCount)
	fmt.Fprintf(&b, "proxy_response_head_seconds_sum %.6f\n", m.headSum.Seconds())
	fmt.Fprintf(&b, "proxy_response_head_seconds_count %d\n", m.headCount)
	b.WriteString("# TYPE proxy_upstream_healthy gauge\n")
	for i, u := range upstreams {
		healthy := 0
		if u.Healthy {
			healthy = 1
		}
		fmt.Fprintf(&b, "proxy_upstream_healthy{upstream=\"%d\"} %d\n", i, healthy)
	}
	b.WriteString("# TYPE proxy_upstream_in_flight gauge\n")
	for i, u := range upstreams {
		fmt.Fprintf(&b, "proxy_upstream_in_flight{upstream=\"%d\"} %d\n", i, u.InFlight)
	}
	b.WriteString("# TYPE proxy_upstream_failures_total counter\n")
	for i := range upstreams {
		fmt.Fprintf(&b, "proxy_upstream_failures_total{upstream=\"%d\"} %d\n", i, m.failures[i])
	}
	return b.String()
}

func sortedKeys(m map[int]int64) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
