package buffered

import (
	"context"
	"slices"
	"time"

	"github.com/tableround/tableround/store"
)

// call runs fn under CallTimeout.
func (b *Store) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	defer cancel()
	return fn(ctx)
}

// Append appends directly or queues (see Store for the Seq it returns).
func (b *Store) Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error) {
	var out store.Event
	op := bufOp{kind: opAppend, ev: ev}
	err := b.write(ctx, sessionID, &op, func(ctx context.Context) error {
		var err error
		out, err = b.inner.Append(ctx, sessionID, ev)
		if err == nil {
			b.out.sawSeq(sessionID, out.Seq)
		}
		return err
	})
	if err != nil {
		return store.Event{}, err
	}
	if out.Seq == 0 { // queued: op.ev carries the provisional Seq
		out = op.ev
	}
	return out, nil
}

// UpdateSession writes directly or queues.
func (b *Store) UpdateSession(ctx context.Context, s store.Session) error {
	err := b.write(ctx, s.ID, &bufOp{kind: opUpdate, ses: s}, func(ctx context.Context) error {
		return b.inner.UpdateSession(ctx, s)
	})
	if err == nil && s.Status != store.StatusRunning {
		b.out.ended(s.ID)
	}
	return err
}

// SaveCheckpoint writes directly or queues; a fenced checkpoint queued
// while the store is away is checked against the lease when flushed.
func (b *Store) SaveCheckpoint(ctx context.Context, sessionID string, cp store.Checkpoint) error {
	return b.write(ctx, sessionID, &bufOp{kind: opCheckpoint, cp: cp}, func(ctx context.Context) error {
		return b.inner.SaveCheckpoint(ctx, sessionID, cp)
	})
}

// PutBlob writes directly or queues.
func (b *Store) PutBlob(ctx context.Context, sessionID, name string, data []byte) error {
	return b.write(ctx, sessionID, &bufOp{kind: opBlob, name: name, data: data}, func(ctx context.Context) error {
		return b.inner.PutBlob(ctx, sessionID, name, data)
	})
}

// GetSession answers from the newest queued update, else from the store.
func (b *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	if op, ok := b.out.latest(id, func(o bufOp) bool { return o.kind == opUpdate }); ok {
		return op.ses, nil
	}
	var s store.Session
	err := b.call(ctx, func(ctx context.Context) (err error) { s, err = b.inner.GetSession(ctx, id); return })
	return s, err
}

// LoadCheckpoint answers from the newest queued checkpoint, else the store.
func (b *Store) LoadCheckpoint(ctx context.Context, sessionID string) (store.Checkpoint, error) {
	if op, ok := b.out.latest(sessionID, func(o bufOp) bool { return o.kind == opCheckpoint }); ok {
		return op.cp, nil
	}
	var cp store.Checkpoint
	err := b.call(ctx, func(ctx context.Context) (err error) { cp, err = b.inner.LoadCheckpoint(ctx, sessionID); return })
	return cp, err
}

// GetBlob answers from the newest queued blob of that name, else the store.
func (b *Store) GetBlob(ctx context.Context, sessionID, name string) ([]byte, error) {
	if op, ok := b.out.latest(sessionID, func(o bufOp) bool { return o.kind == opBlob && o.name == name }); ok {
		return op.data, nil
	}
	var data []byte
	err := b.call(ctx, func(ctx context.Context) (err error) { data, err = b.inner.GetBlob(ctx, sessionID, name); return })
	return data, err
}

// Events returns the store's log followed by the queued events.
func (b *Store) Events(ctx context.Context, sessionID string) ([]store.Event, error) {
	var evs []store.Event
	err := b.call(ctx, func(ctx context.Context) (err error) { evs, err = b.inner.Events(ctx, sessionID); return })
	if err != nil {
		return nil, err
	}
	return append(evs, b.out.events(sessionID)...), nil
}

// ListSessions returns the store's list with queued updates applied.
func (b *Store) ListSessions(ctx context.Context, channel string, limit int) ([]store.Session, error) {
	var list []store.Session
	err := b.call(ctx, func(ctx context.Context) (err error) { list, err = b.inner.ListSessions(ctx, channel, limit); return })
	if err != nil {
		return nil, err
	}
	list = slices.Clone(list)
	for i := range list {
		if op, ok := b.out.latest(list[i].ID, func(o bufOp) bool { return o.kind == opUpdate }); ok {
			list[i] = op.ses
		}
	}
	return list, nil
}

// CreateSession is not buffered: a session that cannot be created fails
// before it starts.
func (b *Store) CreateSession(ctx context.Context, s store.Session) error {
	return b.call(ctx, func(ctx context.Context) error { return b.inner.CreateSession(ctx, s) })
}

// AcquireLease passes through; a new lease on a session clears a previous
// buffer-full or flush failure of it.
func (b *Store) AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (store.Lease, error) {
	var l store.Lease
	err := b.call(ctx, func(ctx context.Context) (err error) {
		l, err = b.inner.AcquireLease(ctx, channel, sessionID, owner, ttl)
		return
	})
	if err == nil {
		b.out.leased(sessionID)
	}
	return l, err
}

// RenewLease passes through.
func (b *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	var out store.Lease
	err := b.call(ctx, func(ctx context.Context) (err error) { out, err = b.inner.RenewLease(ctx, l, ttl); return })
	return out, err
}

// ReleaseLease passes through.
func (b *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	return b.call(ctx, func(ctx context.Context) error { return b.inner.ReleaseLease(ctx, l) })
}

// Orphans passes through.
func (b *Store) Orphans(ctx context.Context, now time.Time, limit int) ([]store.Session, error) {
	var out []store.Session
	err := b.call(ctx, func(ctx context.Context) (err error) { out, err = b.inner.Orphans(ctx, now, limit); return })
	return out, err
}

// Remember passes through.
func (b *Store) Remember(ctx context.Context, channel string, m store.Memory) error {
	return b.call(ctx, func(ctx context.Context) error { return b.inner.Remember(ctx, channel, m) })
}

// Memories passes through.
func (b *Store) Memories(ctx context.Context, channel string, n int) ([]store.Memory, error) {
	var out []store.Memory
	err := b.call(ctx, func(ctx context.Context) (err error) { out, err = b.inner.Memories(ctx, channel, n); return })
	return out, err
}

// Forget passes through.
func (b *Store) Forget(ctx context.Context, channel string) error {
	return b.call(ctx, func(ctx context.Context) error { return b.inner.Forget(ctx, channel) })
}

// Ping pings the inner store under CallTimeout.
func (b *Store) Ping(ctx context.Context) error {
	return b.call(ctx, b.inner.Ping)
}

// Close closes the inner store; stop Run first so it can flush.
func (b *Store) Close() error { return b.inner.Close() }

// TakeQuota goes to the inner store at once: a limit is not queued.
func (b *Store) TakeQuota(ctx context.Context, key, id string, limit int, window time.Duration) (store.Quota, error) {
	return b.inner.TakeQuota(ctx, key, id, limit, window)
}

// ReturnQuota goes to the inner store at once.
func (b *Store) ReturnQuota(ctx context.Context, key, id string) error {
	return b.inner.ReturnQuota(ctx, key, id)
}
