package bot

import (
	"context"
	"testing"
	"time"
)

// TestSchedulerLaneJoinsItsParentAndRemembersPriority: a lane adds no
// budget, counts its stream on the parent and tells the priority of the
// slot it granted last.
func TestSchedulerLaneJoinsItsParentAndRemembersPriority(t *testing.T) {
	clock := newFakeClock()
	hook := NewScheduler(Budget{Rate: 2, Burst: 1}, nil, clock)
	lane := hook.Lane()
	leave := lane.Join()
	if hook.Active() != 1 || lane.Active() != 1 {
		t.Fatalf("active: hook %d lane %d, want 1 and 1", hook.Active(), lane.Active())
	}
	for _, p := range []Priority{PriorityFirst, PriorityRefresh} {
		if err := lane.WaitPriority(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		if got := lane.LastPriority(); got != p {
			t.Errorf("LastPriority = %d, want %d", got, p)
		}
	}
	if d := clock.Now().Sub(newFakeClock().Now()); d != 500*time.Millisecond {
		t.Errorf("two slots through the lane took %s, want the parent's 500 ms", d)
	}
	leave()
	leave()
	if hook.Active() != 0 {
		t.Errorf("hook active after leaving = %d", hook.Active())
	}
}

// TestSchedulerHoldSpendsTheBurst: after Hold the slots come one interval
// apart, not as a burst; SetRate changes the interval.
func TestSchedulerHoldSpendsTheBurst(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	s := NewScheduler(Budget{Rate: 1, Burst: 5}, nil, clock)
	s.Hold(10 * time.Second)
	var at []time.Duration
	for range 3 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, clock.Now().Sub(t0))
	}
	if want := []time.Duration{10 * time.Second, 11 * time.Second, 12 * time.Second}; at[0] != want[0] || at[1] != want[1] || at[2] != want[2] {
		t.Errorf("grants at %v, want %v", at, want)
	}
	s.SetRate(0.5)
	if s.Rate() != 0.5 {
		t.Errorf("Rate = %v", s.Rate())
	}
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := clock.Now().Sub(t0); got != 16*time.Second {
		t.Errorf("after SetRate(0.5): %s, want 16s (the burst stays spent: 14 s, then 2 s apart)", got)
	}
	if !s.Blocked().Equal(t0.Add(10 * time.Second)) {
		t.Errorf("Blocked = %v", s.Blocked())
	}
}
