package upstream

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// newUpstream serves /healthz with the given status.
func newUpstream(t *testing.T, healthStatus int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(healthStatus)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newPool(maxConns int, urls ...string) *Pool {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(urls, Options{MaxConns: maxConns, HealthTimeout: time.Second}, log)
}

func TestAcquireRoundRobinSkipsUnhealthy(t *testing.T) {
	ok1, failing, ok2 := newUpstream(t, 200), newUpstream(t, 500), newUpstream(t, 204)
	p := newPool(8, ok1.URL, failing.URL, ok2.URL)
	p.CheckAll(context.Background())

	var got []int
	for range 4 {
		u, ok := p.Acquire()
		if !ok {
			t.Fatal("no upstream acquired")
		}
		got = append(got, u.Index)
		u.Release()
	}
	want := []int{0, 2, 0, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picked %v, want %v", got, want)
		}
	}
	states := p.States()
	if !states[0].Healthy || states[1].Healthy || !states[2].Healthy {
		t.Fatalf("health %+v, want healthy, unhealthy, healthy", states)
	}
}

func TestAcquireRespectsMaxConns(t *testing.T) {
	p := newPool(2, newUpstream(t, 200).URL)
	if _, ok := p.Acquire(); ok {
		t.Fatal("acquired an upstream that was never probed")
	}
	p.CheckAll(context.Background())

	a, okA := p.Acquire()
	_, okB := p.Acquire()
	if !okA || !okB {
		t.Fatal("could not take two slots of two")
	}
	if _, ok := p.Acquire(); ok {
		t.Fatal("took a third slot of two")
	}
	if got := p.States()[0].InFlight; got != 2 {
		t.Fatalf("in flight %d, want 2", got)
	}
	a.Release()
	if _, ok := p.Acquire(); !ok {
		t.Fatal("a released slot was not reusable")
	}
}
