package rules

import (
	"errors"
	"testing"
	"time"

	"authgw/internal/token"
)

const doc = `{"routes":[
 {"prefix":"/api/","scopes":["read","write"]},
 {"prefix":"/api/admin/","scopes":["admin"],"subjects":["alice"],"max_age_s":300},
 {"prefix":"/public/"}]}`

func claims(sub string, iat int64, scopes ...string) token.Claims {
	return token.Claims{Subject: sub, Scopes: scopes, IssuedAt: iat, TTL: 3600}
}

func TestLongestPrefixDecides(t *testing.T) {
	s, err := Compile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Match("/api/admin/users"); r == nil || r.Prefix != "/api/admin/" {
		t.Fatalf("admin path: %+v", r)
	}
	if r := s.Match("/api/items"); r == nil || r.Prefix != "/api/" {
		t.Fatalf("api path: %+v", r)
	}
	if r := s.Match("/other"); r != nil {
		t.Fatalf("unmatched path: %+v", r)
	}
}

func TestAllowChecksScopesSubjectsAndAge(t *testing.T) {
	s, _ := Compile([]byte(doc))
	now := time.Unix(10_000, 0)
	admin := s.Match("/api/admin/x")
	cases := []struct {
		route *Route
		c     token.Claims
		want  error
	}{
		{s.Match("/api/x"), claims("bob", 9_990, "read"), nil},
		{s.Match("/api/x"), claims("bob", 9_990, "admin"), ErrScope},
		{s.Match("/public/x"), claims("bob", 9_990), nil},
		{admin, claims("alice", 9_990, "admin"), nil},
		{admin, claims("bob", 9_990, "admin"), ErrSubject},
		{admin, claims("alice", 9_600, "admin"), ErrAuthTooOld},
		{admin, claims("alice", 9_680, "admin"), nil}, // 320 s old: within the leeway
		{nil, claims("alice", 9_990, "admin"), ErrNoRoute},
	}
	for i, tc := range cases {
		if err := Allow(tc.route, tc.c, now, 30*time.Second); !errors.Is(err, tc.want) {
			t.Errorf("case %d: got %v, want %v", i, err, tc.want)
		}
	}
}

func TestCompileRefusesBadFiles(t *testing.T) {
	for _, raw := range []string{`{`, `{"routes":[]}`, `{"routes":[{"prefix":"api"}]}`, `{"routes":[{"prefix":"/a"},{"prefix":"/a"}]}`, `{"routes":[{"prefix":"/a","extra":1}]}`} {
		if _, err := Compile([]byte(raw)); err == nil {
			t.Errorf("%s compiled", raw)
		}
	}
}
