package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/store"
)

// quotaScript is TakeQuota in one step: KEYS[1] is a zset of use IDs scored
// by time (ms); ARGV is now, window (ms), limit, id. It drops uses that left
// the window, and either adds id or answers when the oldest counted use
// leaves the window. Reply: {allowed 0|1, used, retry_at_ms}.
var quotaScript = goredis.NewScript(`
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local r = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return {0, n, tonumber(r[2]) + window}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, n + 1, 0}
`)

// TakeQuota records use id of key when fewer than limit uses fall within
// window, atomically (one Lua script).
func (s *Store) TakeQuota(ctx context.Context, key, id string, limit int, window time.Duration) (store.Quota, error) {
	if limit <= 0 || window <= 0 {
		return store.Quota{}, fmt.Errorf("take quota %s: limit %d and window %s must be positive", key, limit, window)
	}
	now := s.now().UnixMilli()
	r, err := quotaScript.Run(ctx, s.c, []string{s.k.quota(key)}, now, window.Milliseconds(), limit, id).Int64Slice()
	if err != nil {
		return store.Quota{}, fmt.Errorf("take quota %s: %w", key, mapErr(err))
	}
	if len(r) != 3 {
		return store.Quota{}, fmt.Errorf("take quota %s: unexpected reply %v", key, r)
	}
	q := store.Quota{Allowed: r[0] == 1, Used: int(r[1])}
	if !q.Allowed {
		q.RetryAt = time.UnixMilli(r[2])
	}
	return q, nil
}

// ReturnQuota forgets use id of key.
func (s *Store) ReturnQuota(ctx context.Context, key, id string) error {
	if err := s.c.ZRem(ctx, s.k.quota(key), id).Err(); err != nil {
		return fmt.Errorf("return quota %s: %w", key, mapErr(err))
	}
	return nil
}
