// Package worker drains the queue: a dispatcher claims emails into a bounded
// buffer, a fixed number of workers send them through the provider and
// settle each one in the queue.
package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"emailworker/internal/metrics"
	"emailworker/internal/provider"
	"emailworker/internal/queue"
)

// Options configures a Pool.
type Options struct {
	Concurrency  int           // workers, i.e. sends at once
	BufferSize   int           // claimed emails waiting for a worker, at most
	Lease        time.Duration // how long a claim holds an email
	PollInterval time.Duration // wait between claims when the queue is empty
}

// Pool is the dispatcher and its workers.
type Pool struct {
	q       *queue.Queue
	client  *provider.Client
	log     *slog.Logger
	metrics *metrics.Metrics
	opts    Options
	done    chan struct{}
}

// New returns a Pool; Start runs it.
func New(q *queue.Queue, client *provider.Client, log *slog.Logger, m *metrics.Metrics, opts Options) *Pool {
	return &Pool{q: q, client: client, log: log, metrics: m, opts: opts, done: make(chan struct{})}
}

// Start claims and sends emails until stop is cancelled. Then sends in
// progress finish, unless hard is cancelled first (their emails go back to
// the queue), and claimed emails still waiting in the buffer go back to the
// queue. Wait returns once all of that is done.
func (p *Pool) Start(stop, hard context.Context) {
	buf := make(chan queue.Email, p.opts.BufferSize)
	var wg sync.WaitGroup
	for range p.opts.Concurrency {
		wg.Go(func() { p.work(stop, hard, buf) })
	}
	go func() {
		p.dispatch(stop, buf)
		wg.Wait()
		close(p.done)
	}()
}

// Wait blocks until the pool has drained after stop.
func (p *Pool) Wait() {
	<-p.done
}

// dispatch claims as many emails as the buffer has room for, so the process
// never holds more than BufferSize unsent emails besides those being sent.
func (p *Pool) dispatch(stop context.Context, buf chan<- queue.Email) {
	defer close(buf)
	for stop.Err() == nil {
		var jobs []queue.Email
		if free := cap(buf) - len(buf); free > 0 {
			var err error
			jobs, err = p.q.Claim(stop, free, p.opts.Lease)
			if err != nil && stop.Err() == nil {
				p.log.Error("internal error", "error", err.Error())
			}
		}
		// Only this goroutine sends on buf and it had room for all of them.
		for _, e := range jobs {
			p.metrics.AddBuffered(1)
			buf <- e
		}
		if len(jobs) == 0 {
			sleep(stop, p.opts.PollInterval)
		}
	}
}

// work sends the buffered emails one at a time until the buffer is closed.
func (p *Pool) work(stop, hard context.Context, buf <-chan queue.Email) {
	for e := range buf {
		p.metrics.AddBuffered(-1)
		if stop.Err() != nil {
			// Shutting down: an email not started yet goes back to the
			// queue rather than into a send the deadline may cut short.
			p.release(e)
			continue
		}
		p.metrics.AddSending(1)
		p.process(hard, e)
		p.metrics.AddSending(-1)
	}
}

// process sends one claimed email and settles it in the queue: sent, failed
// for good, or released when the shutdown deadline cut the send short.
func (p *Pool) process(hard context.Context, e queue.Email) {
	// Settling uses its own context: it must happen during shutdown too.
	ctx := context.Background()

	attempts, err := p.client.Send(hard, provider.Message{
		MessageID: e.ID, To: e.To, Subject: e.Subject, Body: e.Body,
	})
	switch {
	case err == nil:
		// Acknowledge only now: if the process dies before this line the
		// lease runs out and the email is sent again, and the provider
		// drops the duplicate by its Idempotency-Key.
		if err := p.q.Ack(ctx, e.ID); err != nil {
			p.log.Error("internal error", "error", err.Error())
			return
		}
		p.metrics.Sent()
		p.log.Info("email sent", "email_id", e.ID, "attempts", attempts)
	case hard.Err() != nil:
		p.release(e)
	default:
		p.log.Error("send failed", "email_id", e.ID, "attempts", attempts, "error", err.Error())
		if err := p.q.Fail(ctx, e.ID, err.Error()); err != nil {
			p.log.Error("internal error", "error", err.Error())
			return
		}
		p.metrics.Failed()
	}
}

// release hands a claimed email back to the queue.
func (p *Pool) release(e queue.Email) {
	if err := p.q.Release(context.Background(), e.ID); err != nil {
		p.log.Error("internal error", "error", err.Error())
		return
	}
	p.metrics.Released()
	p.log.Info("email released", "email_id", e.ID)
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
