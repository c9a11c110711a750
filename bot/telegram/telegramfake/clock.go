package telegramfake

import (
	"context"
	"sync"
	"time"
)

// ScaledClock runs time Factor times faster than the wall clock: Now
// advances Factor virtual seconds per real second and Sleep(d) waits
// d/Factor. Give the same clock to the fake (Options.Now) and the client, so
// flood limits of a minute are tested in a few seconds without either side
// sleeping for real as long. It satisfies bot.Clock.
type ScaledClock struct {
	Factor float64

	once  sync.Once
	start time.Time
}

func (c *ScaledClock) init() { c.once.Do(func() { c.start = time.Now() }) }

// Now is the virtual time.
func (c *ScaledClock) Now() time.Time {
	c.init()
	el := time.Since(c.start)
	return c.start.Add(time.Duration(float64(el) * c.Factor))
}

// Sleep waits d of virtual time or until ctx ends.
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	c.init()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(float64(d) / c.Factor))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
