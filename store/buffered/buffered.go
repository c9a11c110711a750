// Package buffered is the write-behind layer over any store.Store: while
// the store is unreachable, a session's writes queue in order and are
// flushed when it answers again, so a Redis outage does not stop a running
// session (see Store for what it promises and what it does not).
package buffered

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
)

// Options configure Store. Zero fields take the defaults.
type Options struct {
	// MaxPending bounds the queued writes across all sessions (default 10000).
	MaxPending int
	// MaxBytes bounds the queued payload bytes (default 64 MiB); blobs count
	// their size, other writes their text and state.
	MaxBytes int
	// CallTimeout bounds every call to the inner store (default 2s), so a
	// stalled Redis never holds a speaker for long.
	CallTimeout time.Duration
	// RetryEvery is how often Run tries to flush (default 1s).
	RetryEvery time.Duration
	// Clock paces Run and times queued events; nil is the wall clock.
	Clock clock.Clock
}

func (o Options) withDefaults() Options {
	if o.MaxPending <= 0 {
		o.MaxPending = 10000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = time.Second
	}
	o.Clock = clock.Or(o.Clock)
	return o
}

// Store is a write-behind Store over any Store. When the inner store
// fails with ErrUnavailable (or does not answer within CallTimeout), the
// session writes Append, UpdateSession, SaveCheckpoint and PutBlob are
// queued in order per session, reported as done, and flushed in the same
// order by Flush (called by Run) once the store answers again. While a
// session has queued writes, its new writes queue behind them, and its
// reads see them: GetSession, LoadCheckpoint and GetBlob answer from the
// queue, Events and ListSessions merge it with the store.
//
// Limits of what it promises:
//   - a full buffer rejects the write with an error wrapping ErrUnavailable
//     and rejects every later write of that session until the session is
//     leased again (AcquireLease), so a log never has a silent hole;
//   - the Seq of a queued Append is provisional: the last Seq this wrapper
//     saw for the session plus the queued Appends, which is what the store
//     assigns when the lease keeps one writer per session;
//   - a write that timed out may have reached the store after all, so a
//     flush can repeat it (an Append then appears twice);
//   - a queued write the store rejects for good (ErrLeaseLost on a fenced
//     checkpoint, ErrNotFound) drops the session's queue, and that error is
//     returned by the session's next write;
//   - Events of a session fails while the store is unreachable.
//
// Every other method passes through under CallTimeout.
type Store struct {
	inner store.Store
	opts  Options

	flushMu sync.Mutex // one flush at a time
	out     *outbox
}

var _ store.Store = (*Store)(nil)

// New wraps inner.
func New(inner store.Store, opts Options) *Store {
	opts = opts.withDefaults()
	return &Store{inner: inner, opts: opts, out: newOutbox(opts.MaxPending, opts.MaxBytes)}
}

// Pending returns the number of queued writes.
func (b *Store) Pending() int {
	n, _, _ := b.out.size()
	return n
}

// Health is what /readyz reports about the store.
type Health struct {
	// Reachable is true when the inner store answered a ping.
	Reachable bool `json:"reachable"`
	// Pending is the number of queued writes.
	Pending int `json:"pending"`
	// PendingBytes is their payload size.
	PendingBytes int `json:"pending_bytes"`
	// Error is the ping failure or the last flush failure, if any.
	Error string `json:"error,omitempty"`
}

// Health pings the inner store (under CallTimeout) and reports the queue.
// The process is ready when Reachable is true.
func (b *Store) Health(ctx context.Context) Health {
	err := b.Ping(ctx)
	pending, bytes, lastErr := b.out.size()
	h := Health{Reachable: err == nil, Pending: pending, PendingBytes: bytes}
	switch {
	case err != nil:
		h.Error = err.Error()
	case lastErr != nil:
		h.Error = lastErr.Error()
	}
	return h
}

// Run flushes every RetryEvery until ctx ends, then makes one last attempt
// bounded by CallTimeout per write. It returns nil.
func (b *Store) Run(ctx context.Context) error {
	for b.opts.Clock.Sleep(ctx, b.opts.RetryEvery) == nil {
		if b.Pending() > 0 {
			_ = b.Flush(ctx)
		}
	}
	if b.Pending() > 0 {
		_ = b.Flush(context.WithoutCancel(ctx))
	}
	return nil
}

// Flush writes the queue to the inner store in order. It stops at the first
// write the store cannot take (returning that error, which wraps
// ErrUnavailable) and returns nil once the queue is empty.
func (b *Store) Flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	for {
		sid, op, ok := b.out.next()
		if !ok {
			return nil
		}
		err := b.apply(ctx, sid, op)
		transient := err != nil && isTransient(ctx, err)
		b.out.flushed(sid, err, transient)
		if transient {
			return fmt.Errorf("flush write buffer: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (b *Store) apply(ctx context.Context, sid string, op bufOp) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	defer cancel()
	switch op.kind {
	case opAppend:
		_, err := b.inner.Append(ctx, sid, op.ev)
		return err
	case opUpdate:
		return b.inner.UpdateSession(ctx, op.ses)
	case opCheckpoint:
		return b.inner.SaveCheckpoint(ctx, sid, op.cp)
	case opBlob:
		return b.inner.PutBlob(ctx, sid, op.name, op.data)
	}
	return fmt.Errorf("unknown buffered write %d", op.kind)
}

// isTransient reports whether err means "the store did not answer" rather
// than "the store said no": ErrUnavailable, or our own CallTimeout expiring
// while the caller's ctx is still alive.
func isTransient(ctx context.Context, err error) bool {
	return errors.Is(err, store.ErrUnavailable) || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil)
}

// write runs direct unless the session already has queued writes, and
// queues op when direct finds the store unavailable.
func (b *Store) write(ctx context.Context, sid string, op *bufOp, direct func(context.Context) error) error {
	if queued, err := b.out.queueBehind(sid, op, b.opts.Clock.Now()); queued {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	err := direct(cctx)
	cancel()
	if err == nil || !isTransient(ctx, err) {
		return err
	}
	return b.out.queue(sid, op, b.opts.Clock.Now(), err)
}
