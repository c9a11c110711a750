package discord

import (
	"sync"
	"time"
)

// Discord bans an IP for an hour after 10,000 invalid requests (401, 403
// or 429) in 10 minutes. The adapter counts its own in a sliding window of
// ten-second buckets and, past SlowInvalidAt, paces every request of the
// token at a quarter of its rate until the count falls back under half of
// it.
const (
	invalidWindow = 10 * time.Minute
	invalidBucket = 10 * time.Second
	// InvalidBan is Discord's threshold per 10 minutes.
	InvalidBan = 10_000
	// SlowInvalidAt is where the adapter slows down: a tenth of the ban.
	SlowInvalidAt = InvalidBan / 10
)

type invalidCounter struct {
	mu      sync.Mutex
	buckets [int(invalidWindow / invalidBucket)]int
	stamps  [int(invalidWindow / invalidBucket)]int64 // the bucket's period, to know it is stale
	slowed  bool
	// slow is called with true when the count crosses SlowInvalidAt and
	// with false when it falls back under half of it.
	slow func(bool)
}

// add counts one invalid request at now.
func (c *invalidCounter) add(now time.Time, status int) {
	if status != 401 && status != 403 && status != 429 {
		return
	}
	p := now.UnixNano() / int64(invalidBucket)
	i := int(p % int64(len(c.buckets)))
	c.mu.Lock()
	if c.stamps[i] != p {
		c.stamps[i], c.buckets[i] = p, 0
	}
	c.buckets[i]++
	c.mu.Unlock()
	c.check(now)
}

// count is the invalid requests of the last 10 minutes.
func (c *invalidCounter) count(now time.Time) int {
	p := now.UnixNano() / int64(invalidBucket)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for i, st := range c.stamps {
		if p-st < int64(len(c.buckets)) {
			n += c.buckets[i]
		}
	}
	return n
}

// check slows down or speeds up again.
func (c *invalidCounter) check(now time.Time) {
	n := c.count(now)
	c.mu.Lock()
	var change, to bool
	switch {
	case !c.slowed && n >= SlowInvalidAt:
		c.slowed, change, to = true, true, true
	case c.slowed && n < SlowInvalidAt/2:
		c.slowed, change, to = false, true, false
	}
	slow := c.slow
	c.mu.Unlock()
	if change && slow != nil {
		slow(to)
	}
}

// InvalidRequests is how many of the adapter's requests Discord answered
// 401, 403 or 429 in the last 10 minutes (Discord bans the IP at 10,000):
// export it as a gauge.
func (a *Adapter) InvalidRequests() int { return a.invalid.count(a.o.Clock.Now()) }
