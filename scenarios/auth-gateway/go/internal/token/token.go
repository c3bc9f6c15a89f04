// Package token parses and verifies bearer tokens:
//
//	v1.<kid>.<sub>.<scopes>.<iat>.<ttl>.<hexhmac>
//
// where scopes are joined with '+', iat is the issue time in Unix seconds,
// ttl the lifetime in seconds, and hexhmac the lowercase hex HMAC-SHA256,
// under the secret of key kid, of everything before the last dot.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors of Parse and Verify; each maps to a 401.
var (
	ErrMalformed   = errors.New("malformed token")
	ErrUnknownKey  = errors.New("unknown key")
	ErrSignature   = errors.New("bad signature")
	ErrExpired     = errors.New("token expired")
	ErrNotYetValid = errors.New("token not yet valid")
)

// Claims are the parsed fields of a token.
type Claims struct {
	Kid      string
	Subject  string
	Scopes   []string
	IssuedAt int64 // Unix seconds
	TTL      int64 // seconds
	signed   string
	mac      []byte
}

// Expires is the Unix second the token stops being valid.
func (c Claims) Expires() int64 { return c.IssuedAt + c.TTL }

// HasScope reports whether the token carries scope.
func (c Claims) HasScope(scope string) bool {
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Parse splits a token into its claims without checking the signature.
func Parse(raw string) (Claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 7 || parts[0] != "v1" {
		return Claims{}, ErrMalformed
	}
	for _, p := range parts[1:4] {
		if p == "" {
			return Claims{}, ErrMalformed
		}
	}
	iat, err1 := strconv.ParseInt(parts[4], 10, 64)
	ttl, err2 := strconv.ParseInt(parts[5], 10, 64)
	mac, err3 := hex.DecodeString(parts[6])
	if err1 != nil || err2 != nil || err3 != nil || iat < 0 || ttl <= 0 || len(mac) != sha256.Size {
		return Claims{}, ErrMalformed
	}
	return Claims{
		Kid:      parts[1],
		Subject:  parts[2],
		Scopes:   strings.Split(parts[3], "+"),
		IssuedAt: iat,
		TTL:      ttl,
		signed:   strings.Join(parts[:6], "."),
		mac:      mac,
	}, nil
}

// Sign returns the hex HMAC of payload under secret (tests and tools mint
// tokens with it).
func Sign(secret, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckSignature reports whether the token was signed with secret.
func (c Claims) CheckSignature(secret string) error {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(c.signed))
	if !hmac.Equal(m.Sum(nil), c.mac) {
		return ErrSignature
	}
	return nil
}

// CheckTime reports whether the token is valid at now, allowing leeway of
// clock difference between the issuer and this host on both bounds: a
// token issued up to leeway in the future is accepted, as is one that
// expired up to leeway ago.
func (c Claims) CheckTime(now time.Time, leeway time.Duration) error {
	t := now.Unix()
	l := int64(leeway / time.Second)
	if c.IssuedAt > t+l {
		return ErrNotYetValid
	}
	if c.Expires()+l <= t {
		return ErrExpired
	}
	return nil
}
