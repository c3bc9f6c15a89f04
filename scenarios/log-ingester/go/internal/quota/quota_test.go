package quota

import (
	"testing"
	"time"
)

func TestWindowLimitsAndResets(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := New(10, time.Minute, 100)
	if ok, _ := l.Allow("acme", 8, t0); !ok {
		t.Fatal("first 8 lines refused")
	}
	ok, retry := l.Allow("acme", 3, t0.Add(15*time.Second))
	if ok || retry != 45*time.Second {
		t.Fatalf("over quota: got %v, retry %v; want refused, 45s", ok, retry)
	}
	l.Refund("acme", 2)
	if ok, _ := l.Allow("acme", 4, t0.Add(20*time.Second)); !ok {
		t.Fatal("refunded lines not usable")
	}
	if ok, _ := l.Allow("acme", 10, t0.Add(time.Minute)); !ok {
		t.Fatal("a new window did not start")
	}
}

func TestTenantTableIsBoundedAndSwept(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := New(10, time.Minute, 2)
	l.Allow("a", 1, t0)
	l.Allow("b", 1, t0.Add(30*time.Second))
	if ok, retry := l.Allow("c", 1, t0.Add(40*time.Second)); ok || retry != time.Minute {
		t.Fatalf("third tenant: got %v, retry %v; want refused, 1m", ok, retry)
	}
	if n := l.Sweep(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("after sweep %d tenants tracked, want 1", n)
	}
	if ok, _ := l.Allow("c", 1, t0.Add(time.Minute)); !ok {
		t.Fatal("room made by the sweep not used")
	}
}
