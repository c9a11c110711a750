// Package replica lets TableRound processes that share one Redis reach each
// other: a command (stop, say, status, an answer to the people's turn) that
// arrives at a replica which does not run the channel's session is relayed
// to the one that holds the channel's lease, and a Telegram update that
// reaches several replicas behind one webhook is handled once.
//
// It works over a go-redis client that cmd/tableround builds and shares
// with the Redis store; it finds a channel's lease holder through the store
// (Options.Leases) and knows nothing of sessions or the domain. With the
// embedded store (one process) there is no replica and none is needed.
//
//	tr:relay:<owner>       list  requests for one process, JSON {id, body};
//	                             expires relayTTL after the last push, so a
//	                             dead owner's inbox does not linger
//	tr:relay:reply:<id>    list  the one reply to request id; expires relayTTL
//	tr:once:<key>          string  set once (SET NX) by Once; expires with its TTL
//
// The keys carry no channel hash tag: each command touches one key.
package replica

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
)

const relayTTL = time.Minute

// DefaultPrefix starts every key, as it starts the Redis store's.
const DefaultPrefix = "tr:"

// ErrNoReply means the owner did not answer a relayed request in time.
var ErrNoReply = errors.New("replica: the replica holding the session did not answer")

// Leases finds who holds a channel's lease (the Redis store does).
type Leases interface {
	// Holder returns the channel's unexpired lease (store.ErrNotFound when
	// nobody holds it).
	Holder(ctx context.Context, channel string) (store.Lease, error)
}

// Options configure a Relay.
type Options struct {
	// Prefix starts every key; default DefaultPrefix.
	Prefix string
	// Leases answers Holder.
	Leases Leases
	// Clock paces the retry after a lost connection; nil is the wall clock.
	Clock clock.Clock
}

// Relay carries commands between replicas and de-duplicates updates.
type Relay struct {
	c      goredis.UniversalClient
	prefix string
	leases Leases
	clk    clock.Clock
}

// New returns a Relay over client, which it does not close. Give the
// client ContextTimeoutEnabled so context deadlines bound socket I/O.
func New(client goredis.UniversalClient, opts Options) *Relay {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Relay{c: client, prefix: opts.Prefix, leases: opts.Leases, clk: clock.Or(opts.Clock)}
}

type envelope struct {
	ID   string `json:"id"`
	Body []byte `json:"body"`
}

func (r *Relay) inboxKey(owner string) string { return r.prefix + "relay:" + owner }
func (r *Relay) replyKey(id string) string    { return r.prefix + "relay:reply:" + id }

// Holder returns the unexpired lease of channel (store.ErrNotFound when
// nobody holds it), as Options.Leases answers.
func (r *Relay) Holder(ctx context.Context, channel string) (store.Lease, error) {
	if r.leases == nil {
		return store.Lease{}, fmt.Errorf("lease holder of %s: %w", channel, store.ErrNotFound)
	}
	return r.leases.Holder(ctx, channel)
}

// Call hands body to owner's inbox and waits for its reply until ctx ends
// (5 s when ctx has no deadline). ErrNoReply when none came.
func (r *Relay) Call(ctx context.Context, owner string, body []byte) ([]byte, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(raw[:])
	env, err := json.Marshal(envelope{ID: id, Body: body})
	if err != nil {
		return nil, err
	}
	_, err = r.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, r.inboxKey(owner), env)
		p.PExpire(ctx, r.inboxKey(owner), relayTTL)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", owner, err)
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
	res, err := r.c.BRPop(ctx, max(wait, time.Second), r.replyKey(id)).Result()
	var ne net.Error
	if errors.Is(err, goredis.Nil) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return nil, fmt.Errorf("relay to %s: %w", owner, ErrNoReply)
	}
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", owner, err)
	}
	return []byte(res[1]), nil
}

// ServeRelay answers the requests relayed to owner with h until ctx ends.
// Each request is handled in its own goroutine; a lost connection is
// retried after a second.
func (r *Relay) ServeRelay(ctx context.Context, owner string, h func(ctx context.Context, body []byte) []byte) error {
	for ctx.Err() == nil {
		res, err := r.c.BRPop(ctx, 2*time.Second, r.inboxKey(owner)).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			_ = r.clk.Sleep(ctx, time.Second)
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
			_, _ = r.c.TxPipelined(rctx, func(p goredis.Pipeliner) error {
				p.LPush(rctx, r.replyKey(env.ID), out)
				p.PExpire(rctx, r.replyKey(env.ID), relayTTL)
				return nil
			})
		}()
	}
	return nil
}

// Once reports whether key is seen here for the first time within ttl
// (SET NX): replicas behind one webhook use it to handle a redelivered
// update once.
func (r *Relay) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.prefix+"once:"+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("once %s: %w", key, err)
	}
	return ok, nil
}
