package gateway

import (
	"sync"

	"authgw/internal/rules"
)

// maxCachedPaths bounds the route cache; a full cache starts over.
const maxCachedPaths = 10000

// routeCache remembers which route decides a path, so the prefix scan runs
// once per path and rules generation.
type routeCache struct {
	mu      sync.Mutex
	entries map[string]cachedRoute
}

type cachedRoute struct {
	route *rules.Route
	gen   uint64
}

func newRouteCache() *routeCache {
	return &routeCache{entries: map[string]cachedRoute{}}
}

// lookup returns the route cached for path under generation gen.
func (c *routeCache) lookup(path string, gen uint64) (*rules.Route, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.gen != gen {
		return nil, false
	}
	return e.route, true
}

func (c *routeCache) store(path string, gen uint64, r *rules.Route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedPaths {
		c.entries = map[string]cachedRoute{}
	}
	c.entries[path] = cachedRoute{route: r, gen: gen}
}

func (c *routeCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
