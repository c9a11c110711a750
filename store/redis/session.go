package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/store"
)

// CreateSession claims tr:sid:<id> (SET NX) and writes the meta hash and
// the channel index in one MULTI.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	if ses.ID == "" || ses.Channel == "" {
		return fmt.Errorf("create session: id and channel are required")
	}
	if ses.CreatedAt.IsZero() {
		ses.CreatedAt = s.now()
	}
	data, err := json.Marshal(ses)
	if err != nil {
		return fmt.Errorf("create session %s: %w", ses.ID, err)
	}
	ttl := s.ret.ExportTTL
	ok, err := s.c.SetNX(ctx, s.k.sid(ses.ID), ses.Channel, max(ttl, 0)).Result()
	if err != nil {
		return fmt.Errorf("create session %s: %w", ses.ID, mapErr(err))
	}
	if !ok {
		return fmt.Errorf("create session %s: %w", ses.ID, store.ErrExists)
	}
	s.chans.Store(ses.ID, ses.Channel)
	ch := ses.Channel
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.k.log(ch, ses.ID)) // a leftover of an expired namesake
		p.HSet(ctx, s.k.meta(ch, ses.ID), "data", data, "status", string(ses.Status))
		expire(p, ctx, s.k.meta(ch, ses.ID), ttl)
		p.ZAdd(ctx, s.k.index(ch), goredis.Z{Score: float64(ses.CreatedAt.UnixMilli()), Member: ses.ID})
		expire(p, ctx, s.k.index(ch), ttl)
		return nil
	})
	if err != nil {
		// Free the ID again so a retry is not refused (best effort: Redis
		// may be the reason we are here).
		s.c.Del(context.WithoutCancel(ctx), s.k.sid(ses.ID))
		s.chans.Delete(ses.ID)
		return fmt.Errorf("create session %s: %w", ses.ID, mapErr(err))
	}
	return nil
}

// UpdateSession replaces the meta hash and refreshes the transcript's TTL in
// one MULTI. When the session stops running it also refreshes the ID
// pointer and leaves the running index (global keys, a second round trip).
func (s *Store) UpdateSession(ctx context.Context, ses store.Session) error {
	ch, err := s.channelOf(ctx, ses.ID)
	if err != nil {
		return fmt.Errorf("update session %s: %w", ses.ID, err)
	}
	ses.Channel = ch
	data, err := json.Marshal(ses)
	if err != nil {
		return fmt.Errorf("update session %s: %w", ses.ID, err)
	}
	ttl := s.ret.ExportTTL
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, s.k.meta(ch, ses.ID), "data", data, "status", string(ses.Status))
		expire(p, ctx, s.k.meta(ch, ses.ID), ttl)
		expire(p, ctx, s.k.log(ch, ses.ID), ttl)
		return nil
	})
	if err == nil && ses.Status != store.StatusRunning {
		_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			expire(p, ctx, s.k.sid(ses.ID), ttl)
			p.ZRem(ctx, s.k.running(), ses.ID)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("update session %s: %w", ses.ID, mapErr(err))
	}
	return nil
}

// GetSession reads the meta hash through the ID pointer.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	ses, err := s.getSession(ctx, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("get session %s: %w", id, err)
	}
	return ses, nil
}

func (s *Store) getSession(ctx context.Context, id string) (store.Session, error) {
	ch, err := s.channelOf(ctx, id)
	if err != nil {
		return store.Session{}, err
	}
	data, err := s.c.HGet(ctx, s.k.meta(ch, id), "data").Bytes()
	if err != nil {
		return store.Session{}, mapErr(err)
	}
	var ses store.Session
	if err := json.Unmarshal(data, &ses); err != nil {
		return store.Session{}, fmt.Errorf("decode session: %w", err)
	}
	return ses, nil
}

// ListSessions reads the channel's index newest first and the meta hashes in
// one pipeline; entries whose meta expired are dropped from the index.
func (s *Store) ListSessions(ctx context.Context, channel string, limit int) ([]store.Session, error) {
	stop := int64(limit) - 1
	if limit <= 0 {
		stop = -1
	}
	ids, err := s.c.ZRevRange(ctx, s.k.index(channel), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", channel, mapErr(err))
	}
	cmds := make([]*goredis.StringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, s.k.meta(channel, id), "data")
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("list sessions of %s: %w", channel, mapErr(err))
	}
	out := make([]store.Session, 0, len(ids))
	var gone []any
	for i, cmd := range cmds {
		data, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			gone = append(gone, ids[i])
			continue
		}
		var ses store.Session
		if err := json.Unmarshal(data, &ses); err != nil {
			return nil, fmt.Errorf("list sessions of %s: decode %s: %w", channel, ids[i], err)
		}
		out = append(out, ses)
	}
	if len(gone) > 0 {
		if err := s.c.ZRem(ctx, s.k.index(channel), gone...).Err(); err != nil {
			return nil, fmt.Errorf("list sessions of %s: prune index: %w", channel, mapErr(err))
		}
	}
	return out, nil
}

// Append RPUSHes the event to the session's log list; its Seq is its
// position in the list (1-based), returned by RPUSH in the same MULTI that
// refreshes the transcript's TTL.
func (s *Store) Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error) {
	ch, err := s.channelOf(ctx, sessionID)
	if err != nil {
		return store.Event{}, fmt.Errorf("append to %s: %w", sessionID, err)
	}
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Seq = 0
	data, err := json.Marshal(ev)
	if err != nil {
		return store.Event{}, fmt.Errorf("append to %s: %w", sessionID, err)
	}
	var push *goredis.IntCmd
	ttl := s.ret.ExportTTL
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		push = p.RPush(ctx, s.k.log(ch, sessionID), data)
		expire(p, ctx, s.k.log(ch, sessionID), ttl)
		expire(p, ctx, s.k.meta(ch, sessionID), ttl)
		return nil
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("append to %s: %w", sessionID, mapErr(err))
	}
	ev.Seq = push.Val()
	return ev, nil
}

// Events reads the whole log list (LRANGE 0 -1).
func (s *Store) Events(ctx context.Context, sessionID string) ([]store.Event, error) {
	ch, err := s.channelOf(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", sessionID, err)
	}
	var (
		rng    *goredis.StringSliceCmd
		exists *goredis.IntCmd
	)
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		rng = p.LRange(ctx, s.k.log(ch, sessionID), 0, -1)
		exists = p.Exists(ctx, s.k.meta(ch, sessionID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", sessionID, mapErr(err))
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("read events of %s: %w", sessionID, store.ErrNotFound)
	}
	out := make([]store.Event, 0, len(rng.Val()))
	for i, raw := range rng.Val() {
		var ev store.Event
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			return nil, fmt.Errorf("read events of %s: decode event %d: %w", sessionID, i+1, err)
		}
		ev.Seq = int64(i + 1)
		out = append(out, ev)
	}
	return out, nil
}

// saveCheckpoint replaces the checkpoint hash, after checking the fence
// against the lock's current token when ARGV[1] is not "0".
var saveCheckpoint = goredis.NewScript(`
if ARGV[1] ~= '0' and redis.call('HGET', KEYS[2], 'token') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'step', ARGV[2], 'state', ARGV[3], 'fence', ARGV[1])
if ARGV[4] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`)

// SaveCheckpoint writes the checkpoint hash with SESSION_TTL in one script
// that also enforces the fence.
func (s *Store) SaveCheckpoint(ctx context.Context, sessionID string, cp store.Checkpoint) error {
	ch, err := s.channelOf(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", sessionID, err)
	}
	ok, err := saveCheckpoint.Run(ctx, s.c, []string{s.k.checkpoint(ch, sessionID), s.k.lock(ch)},
		strconv.FormatInt(cp.Fence, 10), cp.Step, cp.State, ms(s.ret.SessionTTL)).Int()
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", sessionID, mapErr(err))
	}
	if ok == 0 {
		return fmt.Errorf("save checkpoint of %s: fence %d: %w", sessionID, cp.Fence, store.ErrLeaseLost)
	}
	return nil
}

// LoadCheckpoint reads the checkpoint hash.
func (s *Store) LoadCheckpoint(ctx context.Context, sessionID string) (store.Checkpoint, error) {
	cp, err := s.loadCheckpoint(ctx, sessionID)
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", sessionID, err)
	}
	return cp, nil
}

func (s *Store) loadCheckpoint(ctx context.Context, sessionID string) (store.Checkpoint, error) {
	ch, err := s.channelOf(ctx, sessionID)
	if err != nil {
		return store.Checkpoint{}, err
	}
	vals, err := s.c.HMGet(ctx, s.k.checkpoint(ch, sessionID), "step", "state", "fence").Result()
	if err != nil {
		return store.Checkpoint{}, mapErr(err)
	}
	if vals[0] == nil || vals[1] == nil {
		return store.Checkpoint{}, store.ErrNotFound
	}
	var cp store.Checkpoint
	step, _ := vals[0].(string)
	state, _ := vals[1].(string)
	fence, _ := vals[2].(string)
	if cp.Step, err = strconv.Atoi(step); err != nil {
		return store.Checkpoint{}, fmt.Errorf("decode step: %w", err)
	}
	cp.State = []byte(state)
	cp.Fence, _ = strconv.ParseInt(fence, 10, 64)
	return cp, nil
}

// PutBlob stores the bytes in a string key with BlobTTL.
func (s *Store) PutBlob(ctx context.Context, sessionID, name string, data []byte) error {
	ch, err := s.channelOf(ctx, sessionID)
	if err == nil {
		err = mapErr(s.c.Set(ctx, s.k.blob(ch, sessionID, name), data, max(s.ret.BlobTTL, 0)).Err())
	}
	if err != nil {
		return fmt.Errorf("put blob %s of %s: %w", name, sessionID, err)
	}
	return nil
}

// GetBlob reads a blob.
func (s *Store) GetBlob(ctx context.Context, sessionID, name string) ([]byte, error) {
	ch, err := s.channelOf(ctx, sessionID)
	var data []byte
	if err == nil {
		data, err = s.c.Get(ctx, s.k.blob(ch, sessionID, name)).Bytes()
		err = mapErr(err)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s of %s: %w", name, sessionID, err)
	}
	return data, nil
}
