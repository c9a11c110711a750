package roundtable

import (
	"context"
	"time"

	"github.com/tableround/tableround/store"
)

// The store ports: the small interfaces the domain uses, one per job, each
// declared here by its consumer rather than taken whole from the store
// contract. Every store.Store (store/bolt, store/redis, store/buffered)
// has them all; a test's fake needs only what its code path uses.

// Sessions keeps a session's metadata.
type Sessions interface {
	CreateSession(ctx context.Context, s store.Session) error
	UpdateSession(ctx context.Context, s store.Session) error
	// GetSession finds a session by ID (store.ErrNotFound).
	GetSession(ctx context.Context, id string) (store.Session, error)
}

// History lists a channel's sessions, newest first.
type History interface {
	ListSessions(ctx context.Context, channel string, limit int) ([]store.Session, error)
}

// EventLog is a session's log, in order (package transcript describes the
// events).
type EventLog interface {
	Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error)
	Events(ctx context.Context, sessionID string) ([]store.Event, error)
}

// Checkpoints keeps a session's resumable state after each step.
type Checkpoints interface {
	SaveCheckpoint(ctx context.Context, sessionID string, cp store.Checkpoint) error
	LoadCheckpoint(ctx context.Context, sessionID string) (store.Checkpoint, error)
}

// Blobs keeps a session's images (the prepared photo, generated images).
type Blobs interface {
	PutBlob(ctx context.Context, sessionID, name string, data []byte) error
	GetBlob(ctx context.Context, sessionID, name string) ([]byte, error)
}

// ChannelMemory is what a channel's table remembers of earlier sessions:
// a session reads it at the start and adds to it at the end.
type ChannelMemory interface {
	Remember(ctx context.Context, channel string, m store.Memory) error
	Memories(ctx context.Context, channel string, n int) ([]store.Memory, error)
}

// Leases keeps one running session per channel and finds the sessions
// whose owner died (see store.LeaseStore for the rules).
type Leases interface {
	AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (store.Lease, error)
	RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error)
	ReleaseLease(ctx context.Context, l store.Lease) error
	Orphans(ctx context.Context, now time.Time, limit int) ([]store.Session, error)
}

// Quotas counts a person's uses in a sliding window (see store.QuotaStore).
type Quotas interface {
	TakeQuota(ctx context.Context, key, id string, limit int, window time.Duration) (store.Quota, error)
	ReturnQuota(ctx context.Context, key, id string) error
}

// Store is what a session runs on.
type Store interface {
	Sessions
	EventLog
	Checkpoints
	Blobs
	ChannelMemory
}

// ManagerStore is what the session manager needs besides: leases, quotas,
// a channel's history, and forgetting a channel's memory (an operator's
// command).
type ManagerStore interface {
	Store
	Leases
	Quotas
	History
	Forget(ctx context.Context, channel string) error
}
