// Package quota limits how many lines each tenant may send per window.
package quota

import (
	"sync"
	"time"
)

// window is one tenant's current fixed window.
type window struct {
	start time.Time
	used  int
}

// Limiter gives each tenant `limit` lines per fixed window, the window
// starting at the tenant's first line after the previous one ended. It
// tracks at most maxTenants tenants at once; Sweep forgets the ones whose
// window has ended. Safe for concurrent use.
type Limiter struct {
	mu         sync.Mutex
	limit      int
	window     time.Duration
	maxTenants int
	tenants    map[string]*window
}

// New returns a limiter.
func New(limit int, win time.Duration, maxTenants int) *Limiter {
	return &Limiter{limit: limit, window: win, maxTenants: maxTenants, tenants: make(map[string]*window)}
}

// Allow takes n lines from tenant's quota at now. When it refuses, it says
// how long until the caller may try again.
func (l *Limiter) Allow(tenant string, n int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.tenants[tenant]
	if ok && now.Sub(w.start) >= l.window {
		w.start, w.used = now, 0
	}
	if !ok {
		if len(l.tenants) >= l.maxTenants {
			// Full: the tenant is told to come back after one window,
			// by which time the ones tracked now can be swept.
			return false, l.window
		}
		w = &window{start: now}
		l.tenants[tenant] = w
	}
	if w.used+n > l.limit {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.used += n
	return true, 0
}

// Refund gives back n lines taken by Allow for lines that were not kept.
func (l *Limiter) Refund(tenant string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.tenants[tenant]; ok {
		w.used = max(w.used-n, 0)
	}
}

// Sweep forgets the tenants whose window ended by now and returns how many
// are still tracked.
func (l *Limiter) Sweep(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for t, w := range l.tenants {
		if now.Sub(w.start) >= l.window {
			delete(l.tenants, t)
		}
	}
	return len(l.tenants)
}
