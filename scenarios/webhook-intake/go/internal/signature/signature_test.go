package signature

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

const secret = "whsec_test"

var (
	now  = time.Unix(1_800_000_000, 0)
	body = []byte(`{"id":"evt_1","type":"invoice.paid"}`)
)

func header(ts int64, sig string) string {
	return fmt.Sprintf("t=%d,v1=%s", ts, sig)
}

func TestVerifyAcceptsValidSignature(t *testing.T) {
	v := NewVerifier(secret, 300*time.Second)
	ts := now.Unix() - 10
	if err := v.Verify(header(ts, Sign(secret, ts, body)), body, now); err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
}

func TestVerifyRejectsBadSignatures(t *testing.T) {
	ts := now.Unix()
	good := Sign(secret, ts, body)
	tests := []struct {
		name   string
		header string
		body   []byte
	}{
		{"wrong secret", header(ts, Sign("other", ts, body)), body},
		{"tampered body", header(ts, good), []byte(`{"id":"evt_2","type":"invoice.paid"}`)},
		{"timestamp not signed", header(ts+1, good), body},
		{"empty header", "", body},
		{"no timestamp", "v1=" + good, body},
		{"timestamp not a number", "t=abc,v1=" + good, body},
		{"garbage", "sha256=" + good, body},
	}
	v := NewVerifier(secret, 300*time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.Verify(tt.header, tt.body, now); !errors.Is(err, ErrInvalid) {
				t.Errorf("Verify = %v, want %v", err, ErrInvalid)
			}
		})
	}
}

func TestVerifyRejectsStaleTimestamp(t *testing.T) {
	v := NewVerifier(secret, 300*time.Second)
	for _, ts := range []int64{now.Unix() - 301, now.Unix() + 301} {
		err := v.Verify(header(ts, Sign(secret, ts, body)), body, now)
		if !errors.Is(err, ErrStale) {
			t.Errorf("ts %+d s: Verify = %v, want %v", ts-now.Unix(), err, ErrStale)
		}
	}
}
