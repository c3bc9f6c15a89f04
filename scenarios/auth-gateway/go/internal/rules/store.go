package rules

import (
	"log/slog"
	"os"
	"sync"
	"time"
)

// Store holds the rules in force and a generation that moves on every
// swap, so that lookups cached against one set are not served from another.
type Store struct {
	path string
	log  *slog.Logger

	mu  sync.RWMutex
	set *Set
	gen uint64

	modTime time.Time
	size    int64
}

// Stats feeds the metrics.
type Stats interface {
	RulesReload(result string)
}

// NewStore loads path once; the service does not start without valid rules.
func NewStore(path string, log *slog.Logger) (*Store, error) {
	st := &Store{path: path, log: log}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	set, err := Load(path)
	if err != nil {
		return nil, err
	}
	st.set, st.gen, st.modTime, st.size = set, 1, info.ModTime(), info.Size()
	return st, nil
}

// Current returns the rules in force and their generation.
func (st *Store) Current() (*Set, uint64) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.set, st.gen
}

// swap puts set in force.
func (st *Store) swap(set *Set) {
	st.mu.Lock()
	st.set = set
	st.gen++
	st.mu.Unlock()
}

// Reload reads the file again; a file that does not compile keeps the rules
// in force.
func (st *Store) Reload(trigger string, stats Stats) {
	set, err := Load(st.path)
	if err != nil {
		stats.RulesReload("error")
		st.log.Error("rules reload failed, keeping the rules in force", "trigger", trigger, "error", err.Error())
		return
	}
	st.swap(set)
	stats.RulesReload("ok")
	st.log.Info("rules reloaded", "trigger", trigger, "routes", set.Len(), "fingerprint", set.Fingerprint())
}

// Poll reloads when the file's modification time or size changed since the
// last look.
func (st *Store) Poll(stats Stats) {
	info, err := os.Stat(st.path)
	if err != nil {
		return
	}
	if info.ModTime().Equal(st.modTime) && info.Size() == st.size {
		return
	}
	st.modTime, st.size = info.ModTime(), info.Size()
	st.Reload("file_changed", stats)
}
