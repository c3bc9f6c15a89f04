package token

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func mint(secret, kid, sub, scopes string, iat, ttl int64) string {
	payload := fmt.Sprintf("v1.%s.%s.%s.%d.%d", kid, sub, scopes, iat, ttl)
	return payload + "." + Sign(secret, payload)
}

func TestParseReadsEveryField(t *testing.T) {
	c, err := Parse(mint("s", "k1", "alice", "read+write", 1000, 60))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kid != "k1" || c.Subject != "alice" || !c.HasScope("write") || c.HasScope("admin") || c.Expires() != 1060 {
		t.Fatalf("claims: %+v", c)
	}
	if err := c.CheckSignature("s"); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignature("other"); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestParseRefusesMalformedTokens(t *testing.T) {
	for _, raw := range []string{"", "v1.k1.alice.read.1.60", "v2.k1.alice.read.1.60.00", "v1.k1.alice.read.x.60." + Sign("s", "x"), "v1.k1.alice.read.1.0." + Sign("s", "x"), "v1.k1.alice.read.1.60.zz"} {
		if _, err := Parse(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestCheckTimeAppliesTheLeewayOnBothBounds(t *testing.T) {
	now := time.Unix(10_000, 0)
	leeway := 30 * time.Second
	cases := []struct {
		iat, ttl int64
		want     error
	}{
		{10_000, 60, nil},
		{10_020, 60, nil},            // issuer's clock ahead, within leeway
		{10_031, 60, ErrNotYetValid}, // beyond
		{9_000, 980, nil},            // expired 20 s ago, within leeway
		{9_000, 960, ErrExpired},     // expired 40 s ago
	}
	for _, tc := range cases {
		c, _ := Parse(mint("s", "k", "a", "r", tc.iat, tc.ttl))
		if err := c.CheckTime(now, leeway); !errors.Is(err, tc.want) {
			t.Errorf("iat %d ttl %d: got %v, want %v", tc.iat, tc.ttl, err, tc.want)
		}
	}
}
