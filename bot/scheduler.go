package bot

import (
	"context"
	"sync"
	"time"
)

// Clock is the time source of pacing, injected so tests never really wait.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Budget is a request allowance: Rate requests per second on average with
// bursts of up to Burst.
type Budget struct {
	Rate  float64
	Burst int
}

// Scheduler hands out request slots of one budget (a Discord webhook, a
// Telegram chat, a bot token) in arrival order, so every message streaming
// into a channel gets its fair share and the budget is never exceeded. A
// scheduler may have a parent (the per-token global budget) that each slot
// must also pass.
type Scheduler struct {
	budget Budget
	parent *Scheduler
	clock  Clock

	mu      sync.Mutex
	next    time.Time // earliest time of the next free slot
	blocked time.Time // no slot before this (after a 429)
	active  int       // streams currently sharing this scheduler
}

// NewScheduler returns a scheduler for budget b. parent may be nil; clock
// nil means the wall clock.
func NewScheduler(b Budget, parent *Scheduler, clock Clock) *Scheduler {
	if clock == nil {
		clock = RealClock{}
	}
	if b.Rate <= 0 {
		b.Rate = 1
	}
	if b.Burst < 1 {
		b.Burst = 1
	}
	return &Scheduler{budget: b, parent: parent, clock: clock}
}

func (s *Scheduler) interval() time.Duration {
	return time.Duration(float64(time.Second) / s.budget.Rate)
}

// Wait blocks until a slot is free on this scheduler and its parents.
func (s *Scheduler) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		now := s.clock.Now()
		iv := s.interval()
		// Unused slots accumulate up to Burst.
		if floor := now.Add(-time.Duration(s.budget.Burst-1) * iv); s.next.Before(floor) {
			s.next = floor
		}
		slot := s.next
		if slot.Before(s.blocked) {
			slot = s.blocked
		}
		s.next = slot.Add(iv)
		s.mu.Unlock()

		if err := s.clock.Sleep(ctx, slot.Sub(now)); err != nil {
			return err
		}
		// A 429 may have arrived while we slept: take a new slot after it.
		s.mu.Lock()
		again := s.clock.Now().Before(s.blocked)
		s.mu.Unlock()
		if !again {
			break
		}
	}
	if s.parent != nil {
		return s.parent.Wait(ctx)
	}
	return nil
}

// Penalize blocks every slot for d (a 429's retry_after). A global 429
// blocks the parent too.
func (s *Scheduler) Penalize(d time.Duration, global bool) {
	if global && s.parent != nil {
		s.parent.Penalize(d, true)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.clock.Now().Add(d); until.After(s.blocked) {
		s.blocked = until
	}
}

// Join registers a stream sharing the budget; the returned func leaves.
func (s *Scheduler) Join() (leave func()) {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		})
	}
}

// Share is the interval each active stream gets: the budget's interval
// times the number of streams sharing it.
func (s *Scheduler) Share() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.active
	if n < 1 {
		n = 1
	}
	return time.Duration(n) * s.interval()
}
