package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/store"
)

// The lock hash tr:{<channel>}:lock has the fields seq (the fencing counter,
// HINCRBY'd on every acquisition and never reset while the key lives) and,
// while the lease is held, token, session, owner and expires (Unix ms).
// Release deletes the held fields and keeps seq. The key lives EXPORT_TTL
// from its last acquisition so tokens keep growing across sessions.

// acquireLease: KEYS[1] lock; ARGV now, expires, session, owner, key TTL ms.
// Returns {token} or {0, holder session} when locked.
var acquireLease = goredis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'token', 'session', 'owner', 'expires')
if h[1] and tonumber(h[4]) > tonumber(ARGV[1]) and (h[2] ~= ARGV[3] or h[3] ~= ARGV[4]) then
  return {0, h[2]}
end
local n = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'token', n, 'session', ARGV[3], 'owner', ARGV[4], 'expires', ARGV[2])
if ARGV[5] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[5]) else redis.call('PERSIST', KEYS[1]) end
return {n}`)

// renewLease: KEYS[1] lock; ARGV token, owner, expires. 1 renewed, 0 lost.
var renewLease = goredis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'token', 'owner')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'expires', ARGV[3])
return 1`)

// releaseLease: KEYS[1] lock; ARGV token. 1 released, 0 not held.
var releaseLease = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'token', 'session', 'owner', 'expires')
return 1`)

// AcquireLease takes the channel's lease in one script, then records the
// session in the running index scored by expiry.
func (s *Store) AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (store.Lease, error) {
	now := s.now()
	exp := now.Add(ttl)
	res, err := acquireLease.Run(ctx, s.c, []string{s.k.lock(channel)},
		now.UnixMilli(), exp.UnixMilli(), sessionID, owner, ms(s.ret.ExportTTL)).Slice()
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease of %s: %w", channel, mapErr(err))
	}
	token, _ := res[0].(int64)
	if token == 0 {
		return store.Lease{}, fmt.Errorf("acquire lease of %s: held by session %v: %w", channel, res[1], store.ErrLocked)
	}
	if err := s.markRunning(ctx, sessionID, exp); err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease of %s: %w", channel, err)
	}
	return store.Lease{Channel: channel, SessionID: sessionID, Owner: owner, Token: token, ExpiresAt: exp}, nil
}

// RenewLease extends the lease while it is still l's (same token and owner;
// an expired lease nobody took is still l's), then rescores the running
// index.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	exp := s.now().Add(ttl)
	ok, err := renewLease.Run(ctx, s.c, []string{s.k.lock(l.Channel)},
		strconv.FormatInt(l.Token, 10), l.Owner, exp.UnixMilli()).Int()
	if err != nil {
		return store.Lease{}, fmt.Errorf("renew lease of %s: %w", l.Channel, mapErr(err))
	}
	if ok == 0 {
		return store.Lease{}, fmt.Errorf("renew lease of %s: %w", l.Channel, store.ErrLeaseLost)
	}
	if err := s.markRunning(ctx, l.SessionID, exp); err != nil {
		return store.Lease{}, fmt.Errorf("renew lease of %s: %w", l.Channel, err)
	}
	l.ExpiresAt = exp
	return l, nil
}

// ReleaseLease gives the lease up if l still holds it and takes the session
// out of the running index.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	ok, err := releaseLease.Run(ctx, s.c, []string{s.k.lock(l.Channel)}, strconv.FormatInt(l.Token, 10)).Int()
	if err == nil && ok == 1 {
		err = s.c.ZRem(ctx, s.k.running(), l.SessionID).Err()
	}
	if err != nil {
		return fmt.Errorf("release lease of %s: %w", l.Channel, mapErr(err))
	}
	return nil
}

func (s *Store) markRunning(ctx context.Context, sessionID string, exp time.Time) error {
	err := s.c.ZAdd(ctx, s.k.running(), goredis.Z{Score: float64(exp.UnixMilli()), Member: sessionID}).Err()
	if err != nil {
		return fmt.Errorf("index running session: %w", mapErr(err))
	}
	return nil
}

// Orphans reads the running index (scored by lease expiry) up to now. An
// entry whose session is gone, no longer running, or no longer the lock's
// holder is removed from the index on the way.
func (s *Store) Orphans(ctx context.Context, now time.Time, limit int) ([]store.Session, error) {
	var out []store.Session
	const batch = 100
	for offset := int64(0); ; {
		ids, err := s.c.ZRangeByScore(ctx, s.k.running(), &goredis.ZRangeBy{
			Min: "-inf", Max: "(" + strconv.FormatInt(now.UnixMilli(), 10), Offset: offset, Count: batch,
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("find orphans: %w", mapErr(err))
		}
		for _, id := range ids {
			ses, ok, err := s.orphan(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("find orphans: %s: %w", id, err)
			}
			if !ok {
				if err := s.c.ZRem(ctx, s.k.running(), id).Err(); err != nil {
					return nil, fmt.Errorf("find orphans: prune %s: %w", id, mapErr(err))
				}
				continue
			}
			out = append(out, ses)
			offset++
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if len(ids) < batch {
			return out, nil
		}
	}
}

// orphan reports whether id is a running session still named by its
// channel's lock.
func (s *Store) orphan(ctx context.Context, id string) (store.Session, bool, error) {
	ses, err := s.getSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ses, false, nil
	}
	if err != nil || ses.Status != store.StatusRunning {
		return ses, false, err
	}
	holder, err := s.c.HGet(ctx, s.k.lock(ses.Channel), "session").Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return ses, false, mapErr(err)
	}
	return ses, holder == id, nil
}

// Remember LPUSHes m to the channel's memory list, trims it to MemoryCap and
// refreshes MEMORY_TTL, in one MULTI.
func (s *Store) Remember(ctx context.Context, channel string, m store.Memory) error {
	if m.Time.IsZero() {
		m.Time = s.now()
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("remember in %s: %w", channel, err)
	}
	key := s.k.memory(channel)
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, key, data)
		p.LTrim(ctx, key, 0, int64(s.ret.MemoryCap)-1)
		expire(p, ctx, key, s.ret.MemoryTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember in %s: %w", channel, mapErr(err))
	}
	return nil
}

// Memories returns up to n memories, newest first (n <= 0: all).
func (s *Store) Memories(ctx context.Context, channel string, n int) ([]store.Memory, error) {
	stop := int64(n) - 1
	if n <= 0 {
		stop = -1
	}
	raws, err := s.c.LRange(ctx, s.k.memory(channel), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("read memories of %s: %w", channel, mapErr(err))
	}
	out := make([]store.Memory, 0, len(raws))
	for _, raw := range raws {
		var m store.Memory
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("read memories of %s: decode: %w", channel, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Forget deletes the channel's memory list.
func (s *Store) Forget(ctx context.Context, channel string) error {
	if err := s.c.Del(ctx, s.k.memory(channel)).Err(); err != nil {
		return fmt.Errorf("forget %s: %w", channel, mapErr(err))
	}
	return nil
}

// Holder returns the unexpired lease of channel (ErrNotFound when nobody
// holds it): replicas sharing the store use it to find the one running a
// channel's session (package replica).
func (s *Store) Holder(ctx context.Context, channel string) (store.Lease, error) {
	h, err := s.c.HMGet(ctx, s.k.lock(channel), "token", "session", "owner", "expires").Result()
	if err != nil {
		return store.Lease{}, fmt.Errorf("lease holder of %s: %w", channel, mapErr(err))
	}
	str := func(v any) string { s, _ := v.(string); return s }
	token, _ := strconv.ParseInt(str(h[0]), 10, 64)
	exp, _ := strconv.ParseInt(str(h[3]), 10, 64)
	if token == 0 || exp <= s.now().UnixMilli() {
		return store.Lease{}, fmt.Errorf("lease holder of %s: %w", channel, store.ErrNotFound)
	}
	return store.Lease{Channel: channel, SessionID: str(h[1]), Owner: str(h[2]), Token: token,
		ExpiresAt: time.UnixMilli(exp)}, nil
}
