// Package provider is the client of the external mail provider.
package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"emailworker/internal/metrics"
)

// Message is the body sent to the provider.
type Message struct {
	MessageID string `json:"message_id"` // our email id
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
}

// Options configures a Client.
type Options struct {
	BaseURL     string        // without the trailing slash
	Timeout     time.Duration // how long one attempt may take
	MaxAttempts int           // the first attempt included
	Backoff     time.Duration // base of the exponential backoff
	RatePerSec  int           // sends per second for the whole process; 0: unlimited
}

// Client sends mail through the provider with retries and pacing.
type Client struct {
	http        *http.Client
	url         string
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	interval    time.Duration // between two sends; 0: unlimited
	log         *slog.Logger
	metrics     *metrics.Metrics

	mu       sync.Mutex // guards nextSlot
	nextSlot time.Time
}

// New returns a Client.
func New(opts Options, log *slog.Logger, m *metrics.Metrics) *Client {
	c := &Client{
		http:        &http.Client{},
		url:         opts.BaseURL + "/v1/messages",
		timeout:     opts.Timeout,
		maxAttempts: opts.MaxAttempts,
		backoff:     opts.Backoff,
		log:         log,
		metrics:     m,
	}
	if opts.RatePerSec > 0 {
		c.interval = time.Second / time.Duration(opts.RatePerSec)
	}
	return c
}

// statusError is a non-2xx answer from the provider.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("provider answered %d", e.code) }

// retryable reports whether another attempt may succeed. A 4xx other than
// 429 means the provider rejected the message itself, so repeating it is
// pointless; network errors, timeouts, 429 and 5xx may be transient.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == http.StatusTooManyRequests || se.code < 400 || se.code > 499
	}
	return true
}

// Send delivers msg, retrying as the README says, and returns how many
// attempts it made. Every attempt carries msg.MessageID as its
// Idempotency-Key, so the provider delivers a retried message once.
// Cancelling ctx abandons the send.
func (c *Client) Send(ctx context.Context, msg Message) (int, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return 0, err
	}
	var lastErr error
	attempts := 0
	for attempts < c.maxAttempts {
		if attempts > 0 {
			if err := sleep(ctx, c.backoffAfter(attempts)); err != nil {
				return attempts, err
			}
		}
		attempts++
		err := c.attempt(ctx, msg.MessageID, body)
		c.metrics.SendAttempt(err != nil)
		if err == nil {
			return attempts, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return attempts, ctx.Err()
		}
		c.log.Warn("send attempt failed",
			"email_id", msg.MessageID, "attempt", attempts, "error", err.Error())
		if !retryable(err) {
			break
		}
	}
	return attempts, lastErr
}

// attempt waits for a send slot, then makes one provider call.
func (c *Client) attempt(ctx context.Context, key string, body []byte) error {
	if err := c.pace(ctx); err != nil {
		return err
	}
	// The deadline bounds the whole attempt, body included (the http.Client
	// has no Timeout), and is released when this attempt returns.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)

	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("read provider response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{resp.StatusCode}
	}
	return nil
}

// pace waits until the next send slot of the process-wide rate and takes
// it; callers get their slots in arrival order.
func (c *Client) pace(ctx context.Context) error {
	if c.interval == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := sleep(ctx, time.Until(c.nextSlot)); err != nil {
		return err
	}
	c.nextSlot = time.Now().Add(c.interval)
	return nil
}

// backoffAfter returns the full-jitter sleep after n failed attempts, before
// attempt n+1: a random duration in [0, base * 2^(n-1)]. Full jitter keeps
// many failing sends from retrying in lockstep.
func (c *Client) backoffAfter(n int) time.Duration {
	ceiling := c.backoff << min(n-1, 30) // the cap keeps the shift from overflowing
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
