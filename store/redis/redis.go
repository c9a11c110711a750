// Package redis is the Redis implementation of store.Store (go-redis v9,
// any UniversalClient: single node, Sentinel or Cluster).
//
// Every key lives under Options.Prefix ("tr:" by default) and every key of
// a channel carries the channel as a Cluster hash tag, so one channel's keys
// share a slot and its scripts and MULTIs are legal on Cluster. The store
// never uses KEYS, SCAN or FLUSHDB and touches nothing outside its prefix;
// see store/README.md for the key list with types and TTLs.
//
// Connection trouble (refused, reset, timeouts, LOADING, CLUSTERDOWN, ...)
// is returned wrapped in store.ErrUnavailable, so buffered.Store can queue
// the write; every other failure is returned as is.
package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
)

// DefaultPrefix starts every key.
const DefaultPrefix = "tr:"

// Options configure the store.
type Options struct {
	store.Retention
	// Prefix starts every key; default DefaultPrefix.
	Prefix string
	// Clock is the store's time: timestamps, lease expiry, quota windows
	// (tests inject a manual clock); nil is the wall clock. Lease expiry is
	// compared with this clock, so all processes sharing a Redis need
	// roughly synchronised clocks.
	Clock clock.Clock
	// CloseClient makes Close close the client too: the process's one
	// client, which cmd/tableround shares with package replica.
	CloseClient bool
}

// Store is the Redis store.Store.
type Store struct {
	c     goredis.UniversalClient
	owned bool // Close closes c (Options.CloseClient)
	k     keys
	ret   store.Retention
	now   func() time.Time
	chans sync.Map // session ID -> channel (immutable once created)
}

var _ store.Store = (*Store)(nil)

// New wraps a client. Close closes it only when opts.CloseClient. Give the
// client ContextTimeoutEnabled so context deadlines bound socket I/O
// (NewClient does).
func New(client goredis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Store{c: client, owned: opts.CloseClient, k: keys(opts.Prefix), ret: opts.Retention.WithDefaults(), now: clock.Or(opts.Clock).Now}
}

// NewClient builds a client of a redis:// or rediss:// URL with context
// deadlines bounding socket I/O and a 2 s dial timeout unless the URL says
// otherwise. It does not connect; a bad URL is an error that never shows
// the password.
func NewClient(url string) (*goredis.Client, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("bad REDIS_URL: %w", redactURLError(err))
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 {
		o.DialTimeout = 2 * time.Second
	}
	return goredis.NewClient(o), nil
}

// Open connects to a redis:// or rediss:// URL, checks it answers PING and
// returns a store that owns (and closes) its client. An unreachable server
// is an error wrapping store.ErrUnavailable.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	c, err := NewClient(url)
	if err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	opts.CloseClient = true
	s := New(c, opts)
	if err := s.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("open redis %s: %w", c.Options().Addr, err)
	}
	return s, nil
}

// redactURLError keeps a password in the URL out of the message.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", mapErr(err))
	}
	return nil
}

// Client is the store's Redis client, for what else shares the Redis (the
// Discord adapter's shared rate limits). Close the store, not the client.
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Close closes the client when Open created it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.c.Close()
}

// channelOf finds a session's channel through its tr:sid:<id> pointer.
func (s *Store) channelOf(ctx context.Context, id string) (string, error) {
	if ch, ok := s.chans.Load(id); ok {
		return ch.(string), nil
	}
	ch, err := s.c.Get(ctx, s.k.sid(id)).Result()
	if err != nil {
		return "", mapErr(err)
	}
	s.chans.Store(id, ch)
	return ch, nil
}

// expire sets ttl on key in a pipeline; a negative ttl keeps it forever.
func expire(p goredis.Pipeliner, ctx context.Context, key string, ttl time.Duration) {
	if ttl < 0 {
		p.Persist(ctx, key)
		return
	}
	p.PExpire(ctx, key, ttl)
}

// ms is a TTL in milliseconds for scripts; 0 means "no expiry".
func ms(ttl time.Duration) int64 {
	if ttl < 0 {
		return 0
	}
	return ttl.Milliseconds()
}

// mapErr turns redis.Nil into store.ErrNotFound and connection trouble
// into store.ErrUnavailable.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return store.ErrNotFound
	case isConnErr(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func isConnErr(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, goredis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	}
	return goredis.IsLoadingError(err) || goredis.IsReadOnlyError(err) || goredis.IsClusterDownError(err) ||
		goredis.IsTryAgainError(err) || goredis.IsMasterDownError(err)
}
