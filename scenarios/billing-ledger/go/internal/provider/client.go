// Package provider is the client of the external payment provider.
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
	"time"

	"ledger/internal/metrics"
)

// ErrUnavailable is returned when no attempt succeeded.
var ErrUnavailable = errors.New("payment provider unavailable")

// Request is the body sent to the provider.
type Request struct {
	Reference   string `json:"reference"` // our charge id
	Account     string `json:"account"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
}

// Options configures a Client.
type Options struct {
	BaseURL     string        // without the trailing slash
	Timeout     time.Duration // how long one attempt may take
	MaxAttempts int           // the first attempt included
	Backoff     time.Duration // base of the exponential backoff
}

// Client charges through the provider with retries.
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
		url:         opts.BaseURL + "/v1/charges",
		timeout:     opts.Timeout,
		maxAttempts: opts.MaxAttempts,
		backoff:     opts.Backoff,
		log:         log,
		metrics:     m,
	}
}

// statusError is a non-2xx answer from the provider.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("provider answered %d", e.code) }

// retryable reports whether another attempt may succeed. A 4xx means the
// provider rejected the request itself, so repeating it is pointless;
// network errors, timeouts, 5xx and malformed answers may be transient.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code < 400 || se.code > 499
	}
	return true
}

// Charge charges req through the provider, retrying as the README says, and
// returns the provider's charge id. key is the provider idempotency key.
func (c *Client) Charge(ctx context.Context, key string, req Request) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	var lastErr error
	attempts := 0
	for attempts < c.maxAttempts {
		if attempts > 0 {
			if err := sleep(ctx, c.backoffAfter(attempts)); err != nil {
				lastErr = err
				break
			}
		}
		attempts++
		// The same key on every attempt: if an attempt timed out after the
		// provider charged, the retry gets that charge back, not a new one.
		id, err := c.attempt(ctx, key, body)
		c.metrics.ProviderAttempt(err != nil)
		if err == nil {
			return id, nil
		}
		lastErr = err
		c.log.Warn("provider attempt failed",
			"charge_id", req.Reference, "attempt", attempts, "error", err.Error())
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	c.log.Error("provider call failed",
		"charge_id", req.Reference, "attempts", attempts, "error", lastErr.Error())
	return "", fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
}

// attempt makes one provider call and returns the provider's charge id.
func (c *Client) attempt(ctx context.Context, key string, body []byte) (string, error) {
	// The deadline bounds the whole attempt, body included (the http.Client
	// has no Timeout), and is released when this attempt returns.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)

	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read provider response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &statusError{resp.StatusCode}
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return "", errors.New("provider response has no charge id")
	}
	return out.ID, nil
}

// backoffAfter returns the full-jitter sleep after n failed attempts, before
// attempt n+1: a random duration in [0, base * 2^(n-1)]. Full jitter keeps
// many failing charges from retrying in lockstep.
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
