// Package clock is the one way time is injected in TableRound: production
// code takes a Clock (Real in main packages), tests pass a Manual clock that
// stands still until the test advances it, so no test waits on the wall
// clock and none depends on timing.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock is a time source that can also wait.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, whichever is first; it returns
	// ctx.Err() in the second case and nil in the first.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Sleep is the package's Sleep.
func (Real) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Or returns c, or Real when c is nil: options structs keep a nil Clock
// meaning "the wall clock".
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// Sleep waits d on the wall clock or until ctx ends. A d of zero or less
// returns at once with ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
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

// Manual is a Clock for tests: Now stands still and Sleep blocks until
// Advance (or Set) moves the time past the sleeper's deadline, so the order
// in which waiters wake is decided by the code under test, never by timing.
// It is safe for concurrent use.
type Manual struct {
	mu       sync.Mutex
	now      time.Time
	sleepers map[*sleeper]struct{}
}

type sleeper struct {
	until time.Time
	done  chan struct{}
}

// Epoch is where NewManual(time.Time{}) starts: a fixed, recognisable time.
func Epoch() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }

// NewManual returns a manual clock at start (Epoch when start is zero).
func NewManual(start time.Time) *Manual {
	if start.IsZero() {
		start = Epoch()
	}
	return &Manual{now: start, sleepers: map[*sleeper]struct{}{}}
}

// Now returns the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until the clock has been advanced by d or ctx ends.
func (c *Manual) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	s := &sleeper{until: c.now.Add(d), done: make(chan struct{})}
	c.sleepers[s] = struct{}{}
	c.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.sleepers, s)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the time on by d and wakes every sleeper whose deadline
// has come.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the time to t (never backwards) and wakes the sleepers due.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.setLocked(t)
	}
}

func (c *Manual) setLocked(t time.Time) {
	c.now = t
	for s := range c.sleepers {
		if !s.until.After(t) {
			close(s.done)
			delete(c.sleepers, s)
		}
	}
}

// Sleepers reports how many goroutines are blocked in Sleep: a test
// advances the clock once the code under test has started waiting.
func (c *Manual) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}
