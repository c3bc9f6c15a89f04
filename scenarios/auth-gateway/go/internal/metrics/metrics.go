// Package metrics keeps the gateway's counters and prints them in the
// Prometheus text format.
package metrics

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Metrics is safe for concurrent use.
type Metrics struct {
	mu        sync.Mutex
	requests  map[string]int64 // outcome → count
	refreshes map[string]int64 // result → count
	reloads   map[string]int64 // result → count
	cacheHits int64
}

// New returns zeroed metrics.
func New() *Metrics {
	return &Metrics{requests: map[string]int64{}, refreshes: map[string]int64{}, reloads: map[string]int64{}}
}

// Request counts one request by outcome (forwarded, unauthenticated,
// forbidden, backend_error, backend_timeout).
func (m *Metrics) Request(outcome string) { m.inc(m.requests, outcome) }

// KeyRefresh counts one fetch of the key list (ok, error).
func (m *Metrics) KeyRefresh(result string) { m.inc(m.refreshes, result) }

// RulesReload counts one reload of the rules file (ok, error).
func (m *Metrics) RulesReload(result string) { m.inc(m.reloads, result) }

// RouteCacheHit counts one path answered from the route cache.
func (m *Metrics) RouteCacheHit() {
	m.mu.Lock()
	m.cacheHits++
	m.mu.Unlock()
}

func (m *Metrics) inc(family map[string]int64, label string) {
	m.mu.Lock()
	family[label]++
	m.mu.Unlock()
}

// Gauges are read from their owners at render time.
type Gauges struct {
	Keys, Routes, RouteCacheEntries int
}

// Text renders every family.
func (m *Metrics) Text(g Gauges) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	family := func(name, label string, values map[string]int64) {
		fmt.Fprintf(&b, "# TYPE %s counter\n", name)
		for _, k := range sortedKeys(values) {
			fmt.Fprintf(&b, "%s{%s=%q} %d\n", name, label, k, values[k])
		}
	}
	family("authgw_requests_total", "outcome", m.requests)
	family("authgw_key_refreshes_total", "result", m.refreshes)
	family("authgw_rules_reloads_total", "result", m.reloads)
	fmt.Fprintf(&b, "# TYPE authgw_route_cache_hits_total counter\nauthgw_route_cache_hits_total %d\n", m.cacheHits)
	fmt.Fprintf(&b, "# TYPE authgw_route_cache_entries gauge\nauthgw_route_cache_entries %d\n", g.RouteCacheEntries)
	fmt.Fprintf(&b, "# TYPE authgw_keys gauge\nauthgw_keys %d\n", g.Keys)
	fmt.Fprintf(&b, "# TYPE authgw_routes gauge\nauthgw_routes %d\n", g.Routes)
	return b.String()
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
