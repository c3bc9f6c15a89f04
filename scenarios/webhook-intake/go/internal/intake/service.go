// Package intake is the webhook flow, from a signed request to a queued
// event.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"intake/internal/metrics"
	"intake/internal/signature"
	"intake/internal/store"
	"intake/internal/worker"
)

// ErrInvalidEvent means the body is not an event the service understands.
var ErrInvalidEvent = errors.New("invalid event")

// Outcome is what happened to a verified, well-formed webhook.
type Outcome struct {
	ID        string
	Duplicate bool
}

// Service receives webhooks.
type Service struct {
	verifier *signature.Verifier
	store    *store.Store
	pool     *worker.Pool
	log      *slog.Logger
	metrics  *metrics.Metrics
}

// New returns a Service.
func New(v *signature.Verifier, st *store.Store, pool *worker.Pool, log *slog.Logger, m *metrics.Metrics) *Service {
	return &Service{verifier: v, store: st, pool: pool, log: log, metrics: m}
}

// Receive handles one webhook: sigHeader is the Webhook-Signature header,
// body the raw body it signs. It returns a signature error, ErrInvalidEvent,
// or the outcome.
func (s *Service) Receive(ctx context.Context, sigHeader string, body []byte) (Outcome, error) {
	if err := s.verifier.Verify(sigHeader, body, time.Now()); err != nil {
		return Outcome{}, err
	}
	ev, err := parseEvent(body)
	if err != nil {
		return Outcome{}, err
	}

	inserted, err := s.store.Insert(ctx, ev)
	if err != nil {
		return Outcome{}, err
	}
	if !inserted {
		s.metrics.EventDuplicate()
		s.log.Info("duplicate event", "event_id", ev.ID)
		return Outcome{ID: ev.ID, Duplicate: true}, nil
	}
	s.metrics.EventAccepted()
	s.log.Info("event accepted", "event_id", ev.ID, "type", ev.Type)
	// Not queued only when shutting down; the event is already durable and
	// is queued again at the next start.
	s.pool.Submit(ev)
	return Outcome{ID: ev.ID}, nil
}

// Get returns the stored event with this id, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (store.Event, error) {
	return s.store.Get(ctx, id)
}

// parseEvent reads the fields the service needs; the rest of the body is
// forwarded untouched. Pointers tell a missing or null field from "".
func parseEvent(body []byte) (store.Event, error) {
	var raw struct {
		ID   *string `json:"id"`
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.ID == nil || raw.Type == nil ||
		!validID(*raw.ID) || *raw.Type == "" || len(*raw.Type) > 128 {
		return store.Event{}, ErrInvalidEvent
	}
	return store.Event{
		ID:         *raw.ID,
		Type:       *raw.Type,
		Payload:    body,
		Status:     store.StatusPending,
		ReceivedAt: time.Now().UTC().Format(time.RFC3339),
	}, nil
}

// validID accepts 1..=128 characters of [A-Za-z0-9_-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
