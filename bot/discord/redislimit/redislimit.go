// Package redislimit shares a Discord bot token's budgets across replicas
// through Redis: the token's global requests per second and each
// channel's message budget with github.com/go-redis/redis_rate (GCRA, one
// Lua script per slot, Redis's own clock), and the invalid-request count
// of the last 10 minutes in ten-second buckets. It implements
// discord.SharedLimiter (without importing the adapter, whose tests use
// it) and knows nothing else of Discord.
package redislimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot"
)

// DefaultPrefix starts every key (redis_rate adds "rate:" before it).
const DefaultPrefix = "tr:"

// Invalid requests are counted in buckets of invalidBucket over
// invalidWindow, as Discord's ban counts them.
const (
	invalidBucket = 10 * time.Second
	invalidWindow = 10 * time.Minute
)

// Limiter is a discord.SharedLimiter on one Redis.
type Limiter struct {
	c      goredis.UniversalClient
	rl     *redis_rate.Limiter
	prefix string
	now    func() time.Time // the buckets of the invalid count
}

// New shares budgets through c; keys start with prefix (DefaultPrefix
// when empty). c stays the caller's to close.
func New(c goredis.UniversalClient, prefix string) *Limiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Limiter{c: c, rl: redis_rate.NewLimiter(c), prefix: prefix, now: time.Now}
}

// Take takes one slot of key's budget, or says how long to wait. Calls
// on one key may ask for different bursts at one rate: GCRA stores one
// theoretical arrival time per key whatever the burst, so a smaller burst
// is granted only while the backlog leaves the difference free (the
// adapter's refreshes leave a reserve to urgent writes this way).
func (l *Limiter) Take(ctx context.Context, key string, b bot.Budget) (time.Duration, error) {
	res, err := l.rl.Allow(ctx, l.prefix+key, limitOf(b))
	if err != nil {
		return 0, fmt.Errorf("take a slot of %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// limitOf is b as a redis_rate limit, whose rate is a whole number of
// requests per period: per second when b's rate is whole, else per
// minute (0.4/s is 24 per minute), or per hour under one a minute,
// rounded down so it never exceeds b (one an hour at the least).
func limitOf(b bot.Budget) redis_rate.Limit {
	burst := max(b.Burst, 1)
	r := b.Rate
	switch {
	case r >= 1 && r == math.Trunc(r):
		return redis_rate.Limit{Rate: int(r), Burst: burst, Period: time.Second}
	case r*60 >= 1:
		return redis_rate.Limit{Rate: int(math.Floor(r*60 + 1e-9)), Burst: burst, Period: time.Minute}
	}
	return redis_rate.Limit{Rate: max(1, int(math.Floor(r*3600+1e-9))), Burst: burst, Period: time.Hour}
}

// CountInvalid adds n to the invalid-request count of everything that
// shares this Redis and returns the count of the last 10 minutes. Discord
// bans by IP, not by token: replicas behind one NAT share one count, and
// counting every replica on the Redis together is the cautious reading.
func (l *Limiter) CountInvalid(ctx context.Context, n int) (int, error) {
	now := l.now().UnixNano() / int64(invalidBucket)
	const buckets = int64(invalidWindow / invalidBucket)
	keys := make([]string, 0, buckets)
	for p := now - buckets + 1; p <= now; p++ {
		keys = append(keys, l.bucketKey(p))
	}
	pipe := l.c.Pipeline()
	if n > 0 {
		pipe.IncrBy(ctx, keys[len(keys)-1], int64(n))
		pipe.Expire(ctx, keys[len(keys)-1], invalidWindow+invalidBucket)
	}
	get := pipe.MGet(ctx, keys...)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("count invalid requests: %w", err)
	}
	total := 0
	for _, v := range get.Val() {
		if s, ok := v.(string); ok {
			if c, err := strconv.Atoi(s); err == nil {
				total += c
			}
		}
	}
	return total, nil
}

// bucketKey is one ten-second bucket of the invalid count. The hash tag
// keeps the buckets in one Redis Cluster slot, so one MGET reads them.
func (l *Limiter) bucketKey(period int64) string {
	return l.prefix + "{discord:invalid}:" + strconv.FormatInt(period, 10)
}
