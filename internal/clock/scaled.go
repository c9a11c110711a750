package clock

import (
	"context"
	"sync"
	"time"
)

// Scaled runs time Factor times faster than the wall clock: Now advances
// Factor virtual seconds per real second and Sleep(d) waits d/Factor. Tests
// give the same Scaled clock to a platform fake (its limits' time) and to
// the adapter under test, so budgets of a minute are exercised in seconds
// with both sides' pacing unchanged. Use Manual where nothing waits on a
// real network; Scaled is for end-to-end tests over HTTP fakes.
type Scaled struct {
	Factor float64

	once  sync.Once
	start time.Time
}

var _ Clock = (*Scaled)(nil)

func (c *Scaled) init() { c.once.Do(func() { c.start = time.Now() }) }

// Now is the virtual time.
func (c *Scaled) Now() time.Time {
	c.init()
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.Factor))
}

// Sleep waits d of virtual time or until ctx ends.
func (c *Scaled) Sleep(ctx context.Context, d time.Duration) error {
	c.init()
	return Sleep(ctx, time.Duration(float64(d)/c.Factor))
}
