// Package batch groups accepted lines into batches, sealed by size or by
// age, and hands them one at a time to a flush function.
package batch

import (
	"context"
	"errors"
	"sync"
	"time"

	"ingester/internal/store"
)

// ErrOverloaded is returned when taking the lines would put more than the
// configured number of lines in waiting.
var ErrOverloaded = errors.New("too many lines waiting to be written")

// ErrClosed is returned once Close has been called.
var ErrClosed = errors.New("batcher closed")

// Batcher is safe for concurrent use.
type Batcher struct {
	mu        sync.Mutex
	size      int
	maxQueued int
	maxAge    time.Duration
	current   []store.Line
	opened    time.Time // when current got its first line
	sealed    [][]store.Line
	queued    int // lines taken and not yet flushed
	closed    bool
	wake      chan struct{}
	depth     func(int)
}

// New returns a batcher sealing batches at size lines or maxAge, holding at
// most maxQueued lines that are not flushed yet; depth is told the number
// of waiting lines whenever it changes.
func New(size, maxQueued int, maxAge time.Duration, depth func(int)) *Batcher {
	return &Batcher{size: size, maxQueued: maxQueued, maxAge: maxAge, wake: make(chan struct{}, 1), depth: depth}
}

// Add takes lines into the current batch, all or none.
func (b *Batcher) Add(lines []store.Line, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.queued+len(lines) > b.maxQueued {
		return ErrOverloaded
	}
	if len(b.current) == 0 {
		b.opened = now
	}
	b.current = append(b.current, lines...)
	b.queued += len(lines)
	b.depth(b.queued)
	if len(b.current) >= b.size {
		b.seal()
	}
	return nil
}

// seal moves the current batch to the flush queue. b.mu is held.
func (b *Batcher) seal() {
	if len(b.current) == 0 {
		return
	}
	b.sealed = append(b.sealed, b.current)
	b.current = nil
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// FlushAged seals the current batch if it is at least maxAge old at now
// and returns how many lines it sealed.
func (b *Batcher) FlushAged(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.current)
	if n == 0 || now.Sub(b.opened) < b.maxAge {
		return 0
	}
	b.seal()
	return n
}

// Close seals the current batch and refuses further lines; Run then
// flushes what is left and returns.
func (b *Batcher) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.seal()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest sealed batch; done is false when there is none.
func (b *Batcher) next() (batch []store.Line, closed, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sealed) == 0 {
		return nil, b.closed, false
	}
	batch = b.sealed[0]
	b.sealed = b.sealed[1:]
	return batch, b.closed, true
}

// flushed gives back the room of n lines that reached the store.
func (b *Batcher) flushed(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queued -= n
	b.depth(b.queued)
}

// Run hands sealed batches to flush, oldest first, one at a time, until
// Close has been called and everything sealed is flushed, or ctx ends.
func (b *Batcher) Run(ctx context.Context, flush func([]store.Line)) {
	for {
		batch, closed, ok := b.next()
		if ok {
			flush(batch)
			b.flushed(len(batch))
			continue
		}
		if closed {
			return
		}
		select {
		case <-b.wake:
		case <-ctx.Done():
			return
		}
	}
}
