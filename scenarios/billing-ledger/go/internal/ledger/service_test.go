package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ledger/internal/metrics"
	"ledger/internal/provider"
	"ledger/internal/store"
)

type fixture struct {
	svc   *Service
	store *store.Store
	calls *atomic.Int64 // provider calls
}

// newFixture wires a Service to a temp database and a fake provider that
// answers every call with status (200 → a fresh "pch_<n>" id).
func newFixture(t *testing.T, maxBalance int64, status int) fixture {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprintf(w, `{"id":"pch_%d","status":"succeeded"}`, n)
		}
	}))
	t.Cleanup(srv.Close)

	st, err := store.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	log := slog.New(slog.DiscardHandler)
	m := metrics.New()
	pc := provider.New(provider.Options{
		BaseURL: srv.URL, Timeout: 5 * time.Second, MaxAttempts: 2, Backoff: time.Millisecond,
	}, log, m)
	return fixture{svc: New(st, pc, log, m, maxBalance), store: st, calls: &calls}
}

func charge(key, account string, amount int64) Request {
	return Request{IdempotencyKey: key, Account: account, AmountCents: amount, Currency: "usd"}
}

func TestChargesAccumulateBalance(t *testing.T) {
	f := newFixture(t, 100000000, http.StatusOK)
	ctx := context.Background()
	var balances []int64
	for i, amount := range []int64{1500, 2500, 1000} {
		ch, replayed, err := f.svc.Charge(ctx, charge(fmt.Sprintf("key-%d", i), "acct_1", amount))
		if err != nil || replayed {
			t.Fatalf("charge %d: replayed=%v err=%v", i, replayed, err)
		}
		balances = append(balances, ch.BalanceCents)
	}
	if fmt.Sprint(balances) != "[1500 4000 5000]" {
		t.Errorf("balances after each charge = %v, want [1500 4000 5000]", balances)
	}
	acct, err := f.svc.Account(ctx, "acct_1")
	if err != nil {
		t.Fatal(err)
	}
	if acct.BalanceCents != 5000 || acct.Charges != 3 {
		t.Errorf("account = %+v, want balance 5000 and 3 charges", acct)
	}
}

func TestReplayReturnsSameCharge(t *testing.T) {
	f := newFixture(t, 100000000, http.StatusOK)
	ctx := context.Background()
	first, replayed, err := f.svc.Charge(ctx, charge("key-1", "acct_1", 1500))
	if err != nil || replayed {
		t.Fatalf("first charge: replayed=%v err=%v", replayed, err)
	}
	again, replayed, err := f.svc.Charge(ctx, charge("key-1", "acct_1", 1500))
	if err != nil || !replayed {
		t.Fatalf("second charge: replayed=%v err=%v, want a replay", replayed, err)
	}
	if again != first {
		t.Errorf("replay = %+v, want %+v", again, first)
	}
	if f.calls.Load() != 1 {
		t.Errorf("provider called %d times, want 1", f.calls.Load())
	}
	if bal, _ := f.store.Balance(ctx, "acct_1"); bal != 1500 {
		t.Errorf("balance = %d, want 1500", bal)
	}
}

func TestReusedKeyWithDifferentRequestConflicts(t *testing.T) {
	f := newFixture(t, 100000000, http.StatusOK)
	ctx := context.Background()
	if _, _, err := f.svc.Charge(ctx, charge("key-1", "acct_1", 1500)); err != nil {
		t.Fatal(err)
	}
	for _, req := range []Request{
		charge("key-1", "acct_1", 1600),
		charge("key-1", "acct_2", 1500),
		{IdempotencyKey: "key-1", Account: "acct_1", AmountCents: 1500, Currency: "eur"},
	} {
		if _, _, err := f.svc.Charge(ctx, req); !errors.Is(err, ErrConflict) {
			t.Errorf("Charge(%+v) error = %v, want ErrConflict", req, err)
		}
	}
	if f.calls.Load() != 1 {
		t.Errorf("provider called %d times, want 1", f.calls.Load())
	}
}

func TestBalanceLimitExceeded(t *testing.T) {
	f := newFixture(t, 2000, http.StatusOK)
	ctx := context.Background()
	if _, _, err := f.svc.Charge(ctx, charge("key-1", "acct_1", 1500)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Charge(ctx, charge("key-2", "acct_1", 501)); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("error = %v, want ErrLimitExceeded", err)
	}
	// Reaching the limit exactly is allowed.
	if ch, _, err := f.svc.Charge(ctx, charge("key-3", "acct_1", 500)); err != nil || ch.BalanceCents != 2000 {
		t.Errorf("charge to the limit: balance %d, err %v; want 2000, nil", ch.BalanceCents, err)
	}
	if f.calls.Load() != 2 {
		t.Errorf("provider called %d times, want 2 (not for the refused charge)", f.calls.Load())
	}
}

func TestProviderFailureRecordsNothing(t *testing.T) {
	f := newFixture(t, 100000000, http.StatusServiceUnavailable)
	ctx := context.Background()
	if _, _, err := f.svc.Charge(ctx, charge("key-1", "acct_1", 1500)); !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("error = %v, want ErrProviderUnavailable", err)
	}
	if _, err := f.store.ChargeByKey(ctx, "key-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChargeByKey error = %v, want ErrNotFound", err)
	}
	if _, err := f.store.Account(ctx, "acct_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account error = %v, want ErrNotFound", err)
	}
}
