// Package signature checks webhook signatures: HMAC-SHA256 over
// "<timestamp>.<raw body>", sent as "Webhook-Signature: t=<unix>,v1=<hex>".
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid means the header is missing or malformed, or no signature matches.
var ErrInvalid = errors.New("invalid signature")

// ErrStale means the signed timestamp is outside the tolerance window.
var ErrStale = errors.New("timestamp outside tolerance")

// Verifier checks signatures made with one secret.
type Verifier struct {
	secret    []byte
	tolerance time.Duration
}

// NewVerifier returns a Verifier; tolerance bounds |now - timestamp|.
func NewVerifier(secret string, tolerance time.Duration) *Verifier {
	return &Verifier{secret: []byte(secret), tolerance: tolerance}
}

// Sign returns the hex HMAC-SHA256 of "<timestamp>.<body>" with secret:
// what a sender puts after "v1=".
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks header against body at time now. The timestamp is signed
// together with the body, so a captured request cannot be replayed with a
// fresh timestamp, and the tolerance bounds how long a capture stays usable.
func (v *Verifier) Verify(header string, body []byte, now time.Time) error {
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return ErrInvalid
	}
	age := now.Unix() - ts
	if age < 0 {
		age = -age
	}
	if age > int64(v.tolerance/time.Second) {
		return ErrStale
	}
	want := []byte(Sign(string(v.secret), ts, body))
	// Senders list one v1 per active secret while they rotate keys: any
	// match will do. hmac.Equal compares in constant time.
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrInvalid
}

// parseHeader splits "t=<unix>,v1=<hex>[,v1=<hex>...]" into the timestamp
// and the v1 signatures; other schemes (v0=...) are ignored.
func parseHeader(header string) (ts int64, sigs []string, err error) {
	seenT := false
	for _, part := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, ErrInvalid
		}
		switch key {
		case "t":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || seenT {
				return 0, nil, ErrInvalid
			}
			ts, seenT = n, true
		case "v1":
			sigs = append(sigs, strings.ToLower(value))
		}
	}
	if !seenT {
		return 0, nil, ErrInvalid
	}
	return ts, sigs, nil
}
