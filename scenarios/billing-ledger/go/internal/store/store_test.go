package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sampleCharge is a charge on a fresh account. BalanceCents is preset to the
// amount (the balance after a first charge) so the row is complete whatever
// RecordCharge does with it.
func sampleCharge() Charge {
	return Charge{
		ID:               "ch_0123456789abcdef",
		IdempotencyKey:   "key-1",
		Account:          "acct_1",
		AmountCents:      1500,
		Currency:         "usd",
		Status:           "succeeded",
		ProviderChargeID: "pch_1",
		BalanceCents:     1500,
		CreatedAt:        "2026-11-27T10:00:00Z",
	}
}

func TestRecordAndGetCharge(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	want := sampleCharge()
	ch := want
	if err := st.RecordCharge(ctx, &ch); err != nil {
		t.Fatal(err)
	}

	byID, err := st.GetCharge(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if byID != want {
		t.Errorf("GetCharge = %+v, want %+v", byID, want)
	}
	byKey, err := st.ChargeByKey(ctx, want.IdempotencyKey)
	if err != nil {
		t.Fatal(err)
	}
	if byKey != want {
		t.Errorf("ChargeByKey = %+v, want %+v", byKey, want)
	}
	if _, err := st.ChargeByKey(ctx, "other-key"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ChargeByKey(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestAccountBalanceAfterOneCharge(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	ch := sampleCharge()
	if err := st.RecordCharge(ctx, &ch); err != nil {
		t.Fatal(err)
	}
	if ch.BalanceCents != 1500 {
		t.Errorf("ch.BalanceCents = %d, want 1500", ch.BalanceCents)
	}

	bal, err := st.Balance(ctx, "acct_1")
	if err != nil || bal != 1500 {
		t.Errorf("Balance = %d, %v; want 1500", bal, err)
	}
	acct, err := st.Account(ctx, "acct_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Account{ID: "acct_1", BalanceCents: 1500, Charges: 1}); acct != want {
		t.Errorf("Account = %+v, want %+v", acct, want)
	}
}

func TestUnknownAccountAndCharge(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	if bal, err := st.Balance(ctx, "acct_none"); err != nil || bal != 0 {
		t.Errorf("Balance(unknown) = %d, %v; want 0, nil", bal, err)
	}
	if _, err := st.Account(ctx, "acct_none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := st.GetCharge(ctx, "ch_none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetCharge(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestRecordChargeRejectsDuplicateKey(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	first := sampleCharge()
	if err := st.RecordCharge(ctx, &first); err != nil {
		t.Fatal(err)
	}
	dup := sampleCharge()
	dup.ID = "ch_fedcba9876543210"
	if err := st.RecordCharge(ctx, &dup); err == nil {
		t.Fatal("RecordCharge with a reused idempotency key succeeded")
	}

	// The failed transaction must leave no trace: no second row, no balance change.
	if _, err := st.GetCharge(ctx, dup.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetCharge(dup) error = %v, want ErrNotFound", err)
	}
	acct, err := st.Account(ctx, "acct_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Account{ID: "acct_1", BalanceCents: 1500, Charges: 1}); acct != want {
		t.Errorf("Account = %+v, want %+v", acct, want)
	}
}
