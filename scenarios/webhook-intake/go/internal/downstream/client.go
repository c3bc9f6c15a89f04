// Package downstream is the client of the service events are forwarded to.
package downstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"intake/internal/metrics"
	"intake/internal/store"
)

// Options configures a Client.
type Options struct {
	BaseURL     string        // without the trailing slash
	Timeout     time.Duration // per attempt: connect, headers and body
	MaxAttempts int           // the first attempt included
	Backoff     time.Duration // base of the exponential backoff
}

// Client delivers events downstream with retries.
type Client struct {
	http        *http.Client
	url         string
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	log         *slog.Logger
	metrics     *metrics.Metrics
}

// New returns a Client.
func New(opts Options, log *slog.Logger, m *metrics.Metrics) *Client {
	return &Client{
		http:        &http.Client{},
		url:         opts.BaseURL + "/events",
		timeout:     opts.Timeout,
		maxAttempts: opts.MaxAttempts,
		backoff:     opts.Backoff,
		log:         log,
		metrics:     m,
	}
}

// statusError is a non-2xx answer from the downstream.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("downstream answered %d", e.code) }

// Retryable reports whether another attempt may succeed. A 4xx means the
// downstream rejected the event itself, so repeating it is pointless;
// network errors, timeouts and 5xx may be transient.
func Retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code < 400 || se.code > 499
	}
	return true
}

// Deliver sends ev downstream, retrying as the README says, and returns how
// many attempts it made. ctx is the worker's: when it is cancelled (shutdown)
// the backoff stops and Deliver returns ctx's error; an attempt already on
// the wire runs to its own timeout.
func (c *Client) Deliver(ctx context.Context, ev store.Event) (int, error) {
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, ev)
		c.metrics.DownstreamAttempt(err != nil)
		if err == nil {
			return attempt, nil
		}
		c.log.Warn("downstream attempt failed",
			"event_id", ev.ID, "attempt", attempt, "error", err.Error())
		if attempt >= c.maxAttempts || !Retryable(err) {
			return attempt, err
		}
		// Back off before the next attempt; shutdown cuts the wait short.
		wait, cancel := context.WithTimeout(ctx, c.BackoffAfter(attempt))
		<-wait.Done()
		cancel()
		if err := ctx.Err(); err != nil {
			return attempt, err
		}
	}
}

// attempt makes one downstream call.
func (c *Client) attempt(ctx context.Context, ev store.Event) error {
	// Detached from shutdown so an attempt on the wire is not cut short, but
	// bounded by its own deadline, body included (the http.Client has no
	// Timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(ev.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Event-Id", ev.ID)

	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Drain (bounded) so the connection can be reused.
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("read downstream response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{resp.StatusCode}
	}
	return nil
}

// BackoffAfter returns the sleep after n failed attempts, before attempt
// n+1: with c = base * 2^(n-1), a random duration in [c/2, c] ("equal
// jitter"). The jitter keeps failing events from retrying in lockstep; the
// floor keeps a struggling downstream from being hit again within
// milliseconds.
func (c *Client) BackoffAfter(n int) time.Duration {
	ceiling := c.backoff << min(n-1, 30) // the cap keeps the shift from overflowing
	half := ceiling / 2
	if half <= 0 {
		return ceiling
	}
	return half + rand.N(ceiling-half+1)
}
