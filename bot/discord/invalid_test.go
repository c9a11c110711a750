package discord

import (
	"testing"
	"time"
)

// TestInvalidCounterSlowsBeforeTheBan: 401/403/429 are counted over a
// sliding 10 minutes; crossing SlowInvalidAt slows down once, falling
// under half of it speeds up again; other statuses do not count.
func TestInvalidCounterSlowsBeforeTheBan(t *testing.T) {
	var calls []bool
	c := &invalidCounter{slow: func(s bool) { calls = append(calls, s) }}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range SlowInvalidAt - 1 {
		c.add(t0.Add(time.Duration(i)*time.Millisecond), []int{401, 403, 429}[i%3])
		c.add(t0, 404)
	}
	if n := c.count(t0.Add(time.Second)); n != SlowInvalidAt-1 || len(calls) != 0 {
		t.Fatalf("count %d, calls %v; want %d and none", n, calls, SlowInvalidAt-1)
	}
	c.add(t0.Add(2*time.Second), 429)
	if len(calls) != 1 || !calls[0] {
		t.Fatalf("calls %v, want one slowdown at %d", calls, SlowInvalidAt)
	}
	later := t0.Add(invalidWindow + invalidBucket)
	if n := c.count(later); n != 0 {
		t.Errorf("count 10 min later = %d, want 0", n)
	}
	c.check(later)
	if len(calls) != 2 || calls[1] {
		t.Errorf("calls %v, want the speed-up after the window", calls)
	}
}
