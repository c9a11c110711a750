// Package storetest is the contract test suite every store.Store runs.
// A store's test calls Run with a function that opens a fresh, empty store;
// that function takes the suite's clock from Now(t) so lease expiry and TTLs
// are tested without sleeping. The suite owns no store and starts no server.
package storetest

import (
	"sync"
	"testing"
	"time"
)

// Clock is a manual clock; the zero time it starts at is Start.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Start is where every suite clock begins.
var Start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// NewClock returns a clock at Start.
func NewClock() *Clock { return &Clock{now: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var clocks sync.Map // *testing.T -> *Clock

// ClockFor returns the clock the suite uses for test t (creating one when
// t is not a suite test).
func ClockFor(t testing.TB) *Clock {
	c, _ := clocks.LoadOrStore(t, NewClock())
	return c.(*Clock)
}

// Now is the clock function an open function must give its store:
//
//	storetest.Run(t, func(t *testing.T) store.Store {
//		st, err := bolt.Open(path, memory.BoltOptions{Now: storetest.Now(t)})
//		...
//	})
func Now(t testing.TB) func() time.Time { return ClockFor(t).Now }
