package discord

import (
	"context"
	"sync"
	"time"
)

// Discord bans an IP for an hour after 10,000 invalid requests (401, 403
// or 429) in 10 minutes. The adapter counts its own in a sliding window of
// ten-second buckets and, past SlowInvalidAt, paces every request of the
// token at a quarter of its rate until the count falls back under half of
// it. It counts them where the platform_invalid_requests_total metric
// does (the REST transport, under every call discordgo or the adapter
// makes), so the two always agree. With a shared limiter (Redis) the count
// is the token's across replicas.
const (
	invalidWindow = 10 * time.Minute
	invalidBucket = 10 * time.Second
	// InvalidBan is Discord's threshold per 10 minutes.
	InvalidBan = 10_000
	// SlowInvalidAt is where the adapter slows down: a tenth of the ban.
	SlowInvalidAt = InvalidBan / 10
	// invalidRefresh is how often the shared count is read back while
	// nothing invalid happens here (other replicas may be counting).
	invalidRefresh = 10 * time.Second
	// invalidFresh is how long a shared count read stays in use.
	invalidFresh = 3 * invalidRefresh
)

type invalidCounter struct {
	mu      sync.Mutex
	buckets [int(invalidWindow / invalidBucket)]int
	stamps  [int(invalidWindow / invalidBucket)]int64 // the bucket's period, to know it is stale
	slowed  bool
	// slow is called with true when the count crosses SlowInvalidAt and
	// with false when it falls back under half of it.
	slow func(bool)
	// shared adds n to the replicas' shared count and returns it (ok false
	// when it could not be asked); nil in a single process.
	shared   func(n int) (total int, ok bool)
	remote   int       // the last shared count read
	fetched  time.Time // when
	fetching bool
}

// invalidStatus is a status Discord counts toward its ban.
func invalidStatus(status int) bool { return status == 401 || status == 403 || status == 429 }

// observe counts one response's status at now: an invalid one is added,
// any other lets the slowdown end once the window has emptied.
func (c *invalidCounter) observe(now time.Time, status int) {
	if invalidStatus(status) {
		c.add(now, status)
		return
	}
	c.refresh(now)
	c.check(now)
}

// add counts one invalid request at now.
func (c *invalidCounter) add(now time.Time, status int) {
	if !invalidStatus(status) {
		return
	}
	p := now.UnixNano() / int64(invalidBucket)
	i := int(p % int64(len(c.buckets)))
	c.mu.Lock()
	if c.stamps[i] != p {
		c.stamps[i], c.buckets[i] = p, 0
	}
	c.buckets[i]++
	shared := c.shared
	c.mu.Unlock()
	if shared != nil {
		if total, ok := shared(1); ok {
			c.mu.Lock()
			c.remote, c.fetched = total, now
			c.mu.Unlock()
		}
	}
	c.check(now)
}

// refresh reads the shared count back when it is older than
// invalidRefresh (one reader at a time).
func (c *invalidCounter) refresh(now time.Time) {
	c.mu.Lock()
	if c.shared == nil || c.fetching || now.Sub(c.fetched) < invalidRefresh {
		c.mu.Unlock()
		return
	}
	c.fetching = true
	shared := c.shared
	c.mu.Unlock()
	total, ok := shared(0)
	c.mu.Lock()
	c.fetching = false
	if ok {
		c.remote, c.fetched = total, now
	}
	c.mu.Unlock()
}

// count is the invalid requests of the last 10 minutes: this process's,
// or the replicas' shared count when it is larger and fresh.
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
	if !c.fetched.IsZero() && now.Sub(c.fetched) < invalidFresh {
		n = max(n, c.remote)
	}
	return n
}

// isSlowed tells whether the slowdown is on.
func (c *invalidCounter) isSlowed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slowed
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

// InvalidRequests is how many requests of the token Discord answered 401,
// 403 or 429 in the last 10 minutes (Discord bans the IP at 10,000): this
// process's, or with a shared limiter the replicas' together. The
// tableround_platform_invalid_requests_total metric counts the same
// responses as they happen.
func (a *Adapter) InvalidRequests() int { return a.pace.invalid.count(a.o.Clock.Now()) }

// wireInvalid connects the counter to the slowdown and to the shared
// count.
func (a *pacer) wireInvalid() {
	a.invalid.slow = func(slow bool) {
		if slow {
			a.log.Warn("invalid requests near Discord's ban threshold: slowing every request", "last_10m", a.invalid.count(a.clock.Now()))
		}
		a.retuneGlobal()
	}
	if g := a.shared; g != nil {
		a.invalid.shared = func(n int) (int, bool) { return g.count(context.Background(), n) }
	}
}
