package bot

import (
	"context"
	"testing"
	"time"
)

// TestSchedulerFreeCountsTheUnusedBurst: Free is the burst at rest, one
// less per slot taken, earned back at the rate, and 0 under a hold.
func TestSchedulerFreeCountsTheUnusedBurst(t *testing.T) {
	c := newManualClock()
	s := NewScheduler(Budget{Rate: 1, Burst: 3}, nil, c)
	if n := s.Free(); n != 3 {
		t.Fatalf("Free at rest = %d, want 3", n)
	}
	for range 2 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Free(); n != 1 {
		t.Errorf("Free after two slots = %d, want 1", n)
	}
	c.Advance(time.Second)
	if n := s.Free(); n != 2 {
		t.Errorf("Free a second later = %d, want 2", n)
	}
	s.Penalize(5*time.Second, false)
	if n := s.Free(); n != 0 {
		t.Errorf("Free under a hold = %d, want 0", n)
	}
}
