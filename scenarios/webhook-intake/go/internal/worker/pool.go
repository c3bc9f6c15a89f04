// Package worker is the in-process worker pool that delivers accepted
// events downstream.
package worker

import (
	"context"
	"log/slog"
	"sync"

	"intake/internal/downstream"
	"intake/internal/metrics"
	"intake/internal/store"
)

// Pool is a bounded queue of events and the workers that drain it.
type Pool struct {
	queue   chan store.Event
	stopped chan struct{}
	client  *downstream.Client
	store   *store.Store
	log     *slog.Logger
	metrics *metrics.Metrics
	wg      sync.WaitGroup
}

// New returns a Pool whose queue holds up to size events.
func New(size int, client *downstream.Client, st *store.Store, log *slog.Logger, m *metrics.Metrics) *Pool {
	return &Pool{
		queue:   make(chan store.Event, size),
		stopped: make(chan struct{}),
		client:  client,
		store:   st,
		log:     log,
		metrics: m,
	}
}

// Start runs n workers until ctx is cancelled. A worker busy with an event
// finishes the attempt on the wire, then stops.
func (p *Pool) Start(ctx context.Context, n int) {
	go func() {
		<-ctx.Done()
		close(p.stopped)
	}()
	for range n {
		p.wg.Add(1)
		go p.run(ctx)
	}
}

// Wait blocks until every worker has returned.
func (p *Pool) Wait() {
	p.wg.Wait()
}

// Submit queues ev, waiting for room (backpressure on the senders), and
// reports whether it was queued (not if the pool stopped first).
func (p *Pool) Submit(ev store.Event) bool {
	p.metrics.AddQueueDepth(1)
	select {
	case p.queue <- ev:
		return true
	case <-p.stopped:
		p.metrics.AddQueueDepth(-1)
		return false
	}
}

func (p *Pool) run(ctx context.Context) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-p.queue:
			p.metrics.AddQueueDepth(-1)
			p.process(ctx, ev)
		}
	}
}

// process delivers one event and records the outcome.
func (p *Pool) process(ctx context.Context, ev store.Event) {
	attempts, err := p.client.Deliver(ctx, ev)
	if err != nil && ctx.Err() != nil {
		return // shutting down: left pending, delivered after the restart
	}
	// Counted before the store says so, so whoever sees the outcome in the
	// store also sees it in the metrics.
	status := store.StatusDelivered
	if err != nil {
		status = store.StatusFailed
		p.metrics.EventFailed()
	} else {
		p.metrics.EventDelivered()
	}
	if ferr := p.store.Finish(context.WithoutCancel(ctx), ev.ID, status, attempts); ferr != nil {
		p.log.Error("internal error", "error", ferr.Error())
	}
	if err != nil {
		p.log.Error("event failed", "event_id", ev.ID, "attempts", attempts, "error", err.Error())
		return
	}
	p.log.Info("event delivered", "event_id", ev.ID, "attempts", attempts)
}
