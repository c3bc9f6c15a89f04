// Package ledger is the charge flow: validate, replay, limit, provider, record.
package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"ledger/internal/metrics"
	"ledger/internal/provider"
	"ledger/internal/store"
)

// Errors the HTTP layer maps to status codes; the texts are the API's.
var (
	ErrConflict            = errors.New("idempotency key reused with a different request")
	ErrLimitExceeded       = errors.New("balance limit exceeded")
	ErrProviderUnavailable = errors.New("payment provider unavailable")
)

// ValidationError is a bad request; its message is returned to the client.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

// Request is a validated-on-use charge request.
type Request struct {
	IdempotencyKey string
	Account        string
	AmountCents    int64
	Currency       string
}

const maxAmountCents = 100000000

var (
	accountRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	currencyRE = regexp.MustCompile(`^[a-z]{3}$`)
)

// ValidateKey checks an Idempotency-Key header: 1..=128 printable ASCII
// characters (0x21..0x7E). It is exported because the HTTP layer must check
// the header before it even parses the body.
func ValidateKey(key string) error {
	if len(key) < 1 || len(key) > 128 {
		return &ValidationError{"missing or invalid Idempotency-Key header"}
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return &ValidationError{"missing or invalid Idempotency-Key header"}
		}
	}
	return nil
}

// Validate checks the request in the README's order.
func (r Request) Validate() error {
	if err := ValidateKey(r.IdempotencyKey); err != nil {
		return err
	}
	if !accountRE.MatchString(r.Account) {
		return &ValidationError{"invalid account"}
	}
	if r.AmountCents < 1 || r.AmountCents > maxAmountCents {
		return &ValidationError{"invalid amount_cents"}
	}
	if !currencyRE.MatchString(r.Currency) {
		return &ValidationError{"invalid currency"}
	}
	return nil
}

// Service runs the charge flow.
type Service struct {
	store      *store.Store
	provider   *provider.Client
	log        *slog.Logger
	metrics    *metrics.Metrics
	maxBalance int64
	keys       keyLocks
}

// New returns a Service.
func New(st *store.Store, pc *provider.Client, log *slog.Logger, m *metrics.Metrics, maxBalanceCents int64) *Service {
	return &Service{store: st, provider: pc, log: log, metrics: m, maxBalance: maxBalanceCents}
}

// Charge runs one charge. replayed is true when the answer is a charge
// recorded earlier under the same idempotency key.
func (s *Service) Charge(ctx context.Context, req Request) (ch store.Charge, replayed bool, err error) {
	if err := req.Validate(); err != nil {
		return store.Charge{}, false, err
	}
	// Once the provider may have charged, the charge must be recorded even if
	// the client hangs up, so the flow does not inherit the request's
	// cancellation. Each provider attempt still has its own timeout.
	ctx = context.WithoutCancel(ctx)
	// A second request with this key waits here, then finds the first one's
	// charge and replays it instead of charging again.
	unlock := s.keys.lock(req.IdempotencyKey)
	defer unlock()

	if prior, err := s.store.ChargeByKey(ctx, req.IdempotencyKey); err == nil {
		return s.replay(prior, req)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Charge{}, false, err
	}

	balance, err := s.store.Balance(ctx, req.Account)
	if err != nil {
		return store.Charge{}, false, err
	}
	if balance+req.AmountCents > s.maxBalance {
		return store.Charge{}, false, ErrLimitExceeded
	}

	id := newChargeID()
	providerID, err := s.provider.Charge(ctx, "ledger-"+id, provider.Request{
		Reference:   id,
		Account:     req.Account,
		AmountCents: req.AmountCents,
		Currency:    req.Currency,
	})
	if err != nil {
		return store.Charge{}, false, ErrProviderUnavailable
	}

	ch = store.Charge{
		ID:               id,
		IdempotencyKey:   req.IdempotencyKey,
		Account:          req.Account,
		AmountCents:      req.AmountCents,
		Currency:         req.Currency,
		Status:           "succeeded",
		ProviderChargeID: providerID,
		CreatedAt:        time.Now().UTC().Format(time.RFC3339),
	}
	if err := s.store.RecordCharge(ctx, &ch); err != nil {
		// A concurrent request with the same key may have recorded first;
		// answer as its replay rather than failing.
		if prior, lookupErr := s.store.ChargeByKey(ctx, req.IdempotencyKey); lookupErr == nil {
			return s.replay(prior, req)
		}
		return store.Charge{}, false, fmt.Errorf("record charge %s: %w", id, err)
	}
	s.metrics.ChargeCreated()
	s.log.Info("charge created", "charge_id", ch.ID, "account", ch.Account,
		"amount_cents", ch.AmountCents, "balance_cents", ch.BalanceCents)
	return ch, false, nil
}

// replay answers a request whose key already has a recorded charge.
func (s *Service) replay(prior store.Charge, req Request) (store.Charge, bool, error) {
	if prior.Account != req.Account || prior.AmountCents != req.AmountCents || prior.Currency != req.Currency {
		return store.Charge{}, false, ErrConflict
	}
	s.log.Info("idempotent replay", "charge_id", prior.ID, "idempotency_key", req.IdempotencyKey)
	return prior, true, nil
}

// GetCharge returns a charge by id (store.ErrNotFound if unknown).
func (s *Service) GetCharge(ctx context.Context, id string) (store.Charge, error) {
	return s.store.GetCharge(ctx, id)
}

// Account returns an account (store.ErrNotFound if unknown).
func (s *Service) Account(ctx context.Context, id string) (store.Account, error) {
	return s.store.Account(ctx, id)
}

// keyLocks holds one lock per idempotency key in use, so requests with the
// same key run one at a time.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int // requests holding or waiting for it; guarded by keyLocks.mu
}

// lock locks key and returns the function that unlocks it.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.held == nil {
		k.held = make(map[string]*keyLock)
	}
	l := k.held[key]
	if l == nil {
		l = &keyLock{}
		k.held[key] = l
	}
	l.users++
	k.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.held, key)
		}
		k.mu.Unlock()
	}
}

// newChargeID returns "ch_" + 16 random lowercase hex digits.
func newChargeID() string {
	var b [8]byte
	rand.Read(b[:]) // never returns an error since Go 1.24
	return "ch_" + hex.EncodeToString(b[:])
}
