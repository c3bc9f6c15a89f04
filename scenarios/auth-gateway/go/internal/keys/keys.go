// Package keys caches the signing keys of the key service: fetched at
// startup, refreshed in the background and when a token names a key the
// cache does not hold (at most once per minimum interval). A failed fetch
// keeps the keys already held.
package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Key is one entry of the key service's list.
type Key struct {
	Kid      string `json:"kid"`
	Secret   string `json:"secret"`
	NotAfter int64  `json:"not_after,omitempty"` // Unix seconds; 0: no end
}

// Stats feeds the metrics.
type Stats interface {
	KeyRefresh(result string)
}

// Cache is safe for concurrent use.
type Cache struct {
	url         string
	client      *http.Client
	minInterval time.Duration
	log         *slog.Logger
	stats       Stats

	mu   sync.RWMutex
	keys map[string]Key

	refreshMu sync.Mutex // one fetch at a time
	// When a token's unknown kid last caused a fetch; guarded by refreshMu.
	lastOnDemand time.Time
}

// New returns an empty cache for the key service at baseURL.
func New(baseURL string, timeout, minInterval time.Duration, log *slog.Logger, stats Stats) *Cache {
	return &Cache{
		url:         baseURL + "/keys",
		client:      &http.Client{Timeout: timeout},
		minInterval: minInterval,
		log:         log,
		stats:       stats,
		keys:        map[string]Key{},
	}
}

// Len is the number of keys held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}

func (c *Cache) get(kid string) (Key, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[kid]
	return k, ok
}

// Lookup returns the key kid, fetching the list again first when the cache
// does not hold it and the last fetch an unknown kid caused is older than
// the minimum interval.
func (c *Cache) Lookup(ctx context.Context, kid string) (Key, bool) {
	if k, ok := c.get(kid); ok {
		return k, true
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	// Another request may have fetched while this one waited.
	if k, ok := c.get(kid); ok {
		return k, true
	}
	if time.Since(c.lastOnDemand) < c.minInterval {
		return Key{}, false
	}
	c.lastOnDemand = time.Now()
	_ = c.refreshLocked(ctx, "unknown_kid")
	return c.get(kid)
}

// Refresh fetches the list now.
func (c *Cache) Refresh(ctx context.Context, reason string) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	return c.refreshLocked(ctx, reason)
}

func (c *Cache) refreshLocked(ctx context.Context, reason string) error {
	list, err := c.fetch(ctx)
	if err != nil {
		c.stats.KeyRefresh("error")
		c.log.Warn("key refresh failed, keeping cached keys", "reason", reason, "error", err.Error(), "keys", c.Len())
		return err
	}
	next := make(map[string]Key, len(list))
	for _, k := range list {
		next[k.Kid] = k
	}
	c.mu.Lock()
	c.keys = next
	c.mu.Unlock()
	c.stats.KeyRefresh("ok")
	c.log.Info("keys refreshed", "reason", reason, "keys", len(next))
	return nil
}

func (c *Cache) fetch(ctx context.Context) ([]Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("key service answered %d", resp.StatusCode)
	}
	return ParseList(body)
}

// ParseList decodes and validates the key service's answer. An empty list
// is refused: no key service means to revoke every key at once.
func ParseList(body []byte) ([]Key, error) {
	var list []Key
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("key list: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("key list is empty")
	}
	for _, k := range list {
		if k.Kid == "" || k.Secret == "" {
			return nil, errors.New("key list: an entry lacks kid or secret")
		}
	}
	return list, nil
}

// Run refreshes every interval until ctx ends.
func (c *Cache) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = c.Refresh(ctx, "interval")
		}
	}
}
