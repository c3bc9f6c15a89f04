// Package rules loads the access rules file, compiles it into a matcher and
// decides whether a token may reach a path.
//
// The file is JSON:
//
//	{"routes": [{"prefix": "/admin/", "scopes": ["admin"], "subjects": ["alice"], "max_age_s": 300}]}
//
// The longest matching prefix decides. A route's scopes: the token needs at
// least one of them (none listed: any token); subjects: when listed, the
// token's subject must be one of them; max_age_s: when set, the token must
// have been issued at most that long ago. A path no route matches is denied.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"authgw/internal/token"
)

// Route is one compiled rule.
type Route struct {
	Prefix   string   `json:"prefix"`
	Scopes   []string `json:"scopes"`
	Subjects []string `json:"subjects"`
	MaxAgeS  int64    `json:"max_age_s"`
}

// Set is a compiled rules file: routes sorted longest prefix first.
type Set struct {
	routes      []*Route
	fingerprint string
}

type file struct {
	Routes []Route `json:"routes"`
}

// Load reads and compiles the rules file at path.
func Load(path string) (*Set, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(raw)
}

// Compile validates a rules document and builds its matcher.
func Compile(raw []byte) (*Set, error) {
	var f file
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if len(f.Routes) == 0 {
		return nil, errors.New("rules: no routes")
	}
	seen := map[string]bool{}
	s := &Set{}
	for i := range f.Routes {
		r := f.Routes[i]
		if !strings.HasPrefix(r.Prefix, "/") {
			return nil, fmt.Errorf("rules: route %d: prefix must start with /", i+1)
		}
		if seen[r.Prefix] {
			return nil, fmt.Errorf("rules: route %d: duplicate prefix %q", i+1, r.Prefix)
		}
		if r.MaxAgeS < 0 {
			return nil, fmt.Errorf("rules: route %d: max_age_s must not be negative", i+1)
		}
		seen[r.Prefix] = true
		s.routes = append(s.routes, &r)
	}
	sort.SliceStable(s.routes, func(a, b int) bool { return len(s.routes[a].Prefix) > len(s.routes[b].Prefix) })
	h := sha256.New()
	for _, r := range s.routes {
		h.Write([]byte(r.Prefix + "\n"))
	}
	s.fingerprint = hex.EncodeToString(h.Sum(nil))[:12]
	return s, nil
}

// Len is the number of routes.
func (s *Set) Len() int { return len(s.routes) }

// Fingerprint names the set of prefixes the file defines (for the reload log:
// which routes exist, not what they require).
func (s *Set) Fingerprint() string { return s.fingerprint }

// Match returns the route deciding path, or nil.
func (s *Set) Match(path string) *Route {
	for _, r := range s.routes {
		if strings.HasPrefix(path, r.Prefix) {
			return r
		}
	}
	return nil
}

// Denial reasons of Allow.
var (
	ErrNoRoute    = errors.New("no route")
	ErrScope      = errors.New("missing scope")
	ErrSubject    = errors.New("subject not allowed")
	ErrAuthTooOld = errors.New("reauthentication required")
)

// Allow decides whether claims may use route r at now; leeway is the clock
// difference tolerated between the issuer and this host.
func Allow(r *Route, c token.Claims, now time.Time, leeway time.Duration) error {
	if r == nil {
		return ErrNoRoute
	}
	if len(r.Scopes) > 0 {
		ok := false
		for _, s := range r.Scopes {
			ok = ok || c.HasScope(s)
		}
		if !ok {
			return ErrScope
		}
	}
	if len(r.Subjects) > 0 {
		ok := false
		for _, s := range r.Subjects {
			ok = ok || s == c.Subject
		}
		if !ok {
			return ErrSubject
		}
	}
	if r.MaxAgeS > 0 {
		age := now.Unix() - c.IssuedAt
		if age > r.MaxAgeS+int64(leeway/time.Second) {
			return ErrAuthTooOld
		}
	}
	return nil
}
