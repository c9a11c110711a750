package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/memory"
)

// Replicas that share this store reach each other through it: a command
// (stop, say, status, an answer to the people's turn) that arrives at a
// replica which does not run the channel's session is relayed to the one
// that holds the channel's lease.
//
//	tr:relay:<owner>       list  requests for one process, JSON {id, body};
//	                             expires relayTTL after the last push, so a
//	                             dead owner's inbox does not linger
//	tr:relay:reply:<id>    list  the one reply to request id; expires relayTTL
//	tr:once:<key>          string  set once (SET NX) by Once; expires with its TTL
//
// The relay keys carry no channel hash tag: each command touches one key.

const relayTTL = time.Minute

// ErrNoReply means the owner did not answer a relayed request in time.
var ErrNoReply = errors.New("memory/redis: the replica holding the session did not answer")

type envelope struct {
	ID   string `json:"id"`
	Body []byte `json:"body"`
}

func (s *Store) inboxKey(owner string) string { return s.prefix + "relay:" + owner }
func (s *Store) replyKey(id string) string    { return s.prefix + "relay:reply:" + id }

// Holder returns the unexpired lease of channel (ErrNotFound when nobody
// holds it).
func (s *Store) Holder(ctx context.Context, channel string) (memory.Lease, error) {
	h, err := s.c.HMGet(ctx, s.lockKey(channel), "token", "session", "owner", "expires").Result()
	if err != nil {
		return memory.Lease{}, fmt.Errorf("lease holder of %s: %w", channel, mapErr(err))
	}
	str := func(v any) string { s, _ := v.(string); return s }
	token, _ := strconv.ParseInt(str(h[0]), 10, 64)
	exp, _ := strconv.ParseInt(str(h[3]), 10, 64)
	if token == 0 || exp <= s.now().UnixMilli() {
		return memory.Lease{}, fmt.Errorf("lease holder of %s: %w", channel, memory.ErrNotFound)
	}
	return memory.Lease{Channel: channel, SessionID: str(h[1]), Owner: str(h[2]), Token: token,
		ExpiresAt: time.UnixMilli(exp)}, nil
}

// Call hands body to owner's inbox and waits for its reply until ctx ends
// (5 s when ctx has no deadline). ErrNoReply when none came.
func (s *Store) Call(ctx context.Context, owner string, body []byte) ([]byte, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(raw[:])
	env, err := json.Marshal(envelope{ID: id, Body: body})
	if err != nil {
		return nil, err
	}
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, s.inboxKey(owner), env)
		p.PExpire(ctx, s.inboxKey(owner), relayTTL)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", owner, mapErr(err))
	}
	wait := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	if wait < time.Millisecond {
		return nil, fmt.Errorf("relay to %s: %w", owner, ErrNoReply)
	}
	// BRPOP counts whole seconds (go-redis rounds shorter waits up to 1 s);
	// the context's deadline ends the wait on time.
	res, err := s.c.BRPop(ctx, max(wait, time.Second), s.replyKey(id)).Result()
	var ne net.Error
	if errors.Is(err, goredis.Nil) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return nil, fmt.Errorf("relay to %s: %w", owner, ErrNoReply)
	}
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", owner, mapErr(err))
	}
	return []byte(res[1]), nil
}

// ServeRelay answers the requests relayed to owner with h until ctx ends.
// Each request is handled in its own goroutine; a lost connection is
// retried after a second.
func (s *Store) ServeRelay(ctx context.Context, owner string, h func(ctx context.Context, body []byte) []byte) error {
	for ctx.Err() == nil {
		res, err := s.c.BRPop(ctx, 2*time.Second, s.inboxKey(owner)).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		var env envelope
		if err := json.Unmarshal([]byte(res[1]), &env); err != nil || env.ID == "" {
			continue // not ours to answer
		}
		go func() {
			out := h(ctx, env.Body)
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = s.c.TxPipelined(rctx, func(p goredis.Pipeliner) error {
				p.LPush(rctx, s.replyKey(env.ID), out)
				p.PExpire(rctx, s.replyKey(env.ID), relayTTL)
				return nil
			})
		}()
	}
	return nil
}

// Once reports whether key is seen here for the first time within ttl
// (SET NX): replicas behind one webhook use it to handle a redelivered
// update once.
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.c.SetNX(ctx, s.prefix+"once:"+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("once %s: %w", key, mapErr(err))
	}
	return ok, nil
}
