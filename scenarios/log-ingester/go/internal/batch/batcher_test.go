package batch

import (
	"context"
	"errors"
	"testing"
	"time"

	"ingester/internal/store"
)

func lines(n int) []store.Line {
	out := make([]store.Line, n)
	for i := range out {
		out[i] = store.Line{Tenant: "t", Level: "info", Msg: "m"}
	}
	return out
}

func TestSealsBySizeAndByAge(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var depth int
	b := New(3, 100, time.Second, func(n int) { depth = n })
	if err := b.Add(lines(4), t0); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(lines(1), t0); err != nil {
		t.Fatal(err)
	}
	if n := b.FlushAged(t0.Add(999 * time.Millisecond)); n != 0 {
		t.Fatalf("sealed %d lines before the age", n)
	}
	if n := b.FlushAged(t0.Add(time.Second)); n != 1 {
		t.Fatalf("sealed %d lines at the age, want 1", n)
	}
	b.Close()
	var sizes []int
	b.Run(context.Background(), func(batch []store.Line) { sizes = append(sizes, len(batch)) })
	if len(sizes) != 2 || sizes[0] != 4 || sizes[1] != 1 || depth != 0 {
		t.Fatalf("batches %v, depth %d; want [4 1], 0", sizes, depth)
	}
}

func TestRefusesLinesBeyondTheQueueLimit(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	b := New(10, 4, time.Second, func(int) {})
	if err := b.Add(lines(3), t0); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(lines(2), t0); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("got %v, want ErrOverloaded", err)
	}
	if err := b.Add(lines(1), t0); err != nil {
		t.Fatalf("one more line refused: %v", err)
	}
	b.Close()
	if err := b.Add(lines(1), t0); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v after Close, want ErrClosed", err)
	}
}
