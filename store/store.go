// Package store owns the persistence contract: where sessions, their event
// logs, checkpoints, channel leases, start quotas and a channel's memory of
// earlier sessions are kept. The implementations live below it: store/bolt
// (embedded, one file), store/redis (shared by replicas) and
// store/buffered (write-behind over either); store/storetest is the
// contract suite they all pass.
//
// The package knows nothing of personas, stages or prompts: the session's
// resumable state is an opaque blob written by the engine, and events are
// generic records whose payloads package transcript describes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors returned by every Store implementation.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrLocked      = errors.New("store: channel already has a running session")
	ErrLeaseLost   = errors.New("store: lease lost")
	ErrUnavailable = errors.New("store: store unavailable")
)

// Status is where a session is in its life.
type Status string

// Session statuses. Interrupted sessions (Ctrl-C, SIGTERM, crash) can be
// resumed; stopped, finished and failed ones cannot.
const (
	StatusRunning     Status = "running"
	StatusInterrupted Status = "interrupted"
	StatusStopped     Status = "stopped"
	StatusFinished    Status = "finished"
	StatusFailed      Status = "failed"
)

// Session is the metadata of one roundtable. Channel is "<platform>:<id>",
// e.g. "discord:123", "telegram:-100456", "console:local".
type Session struct {
	ID          string    `json:"id"`
	Channel     string    `json:"channel"`
	Topic       string    `json:"topic"`
	Language    string    `json:"language"`
	Pack        string    `json:"pack"`
	StarterID   string    `json:"starter_id,omitempty"`
	StarterName string    `json:"starter_name,omitempty"`
	Status      Status    `json:"status"`
	Stage       string    `json:"stage,omitempty"` // current stage name
	Step        int       `json:"step"`            // index of the next step to run
	Demo        bool      `json:"demo,omitempty"`  // ran on the built-in demo model
	Model       string    `json:"model,omitempty"`
	Error       string    `json:"error,omitempty"` // why it failed or was stopped
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Usage totals, updated as calls complete.
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd,omitempty"`
	Calls        int     `json:"calls"`
	// CachedInputTokens is the part of InputTokens the providers read
	// from their prompt caches.
	CachedInputTokens int `json:"cached_input_tokens,omitempty"`
}

// Event is one thing that happened in a session, in order. Seq is assigned
// by the store on Append (1, 2, 3, ...). Data holds the type-specific payload
// documented next to the type constants in events.go.
type Event struct {
	Seq   int64           `json:"seq"`
	Time  time.Time       `json:"time"`
	Type  string          `json:"type"`
	Stage string          `json:"stage,omitempty"`
	Seat  string          `json:"seat,omitempty"`
	Name  string          `json:"name,omitempty"` // display name of the speaker or person
	Text  string          `json:"text,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Checkpoint is the engine's resumable state after a step. Fence, when not
// zero, is the fencing token of the lease the writer holds: the store
// rejects the write with ErrLeaseLost when the channel's lease has moved on.
type Checkpoint struct {
	Step  int    `json:"step"`
	State []byte `json:"state"`
	Fence int64  `json:"fence,omitempty"`
}

// Lease is the right to run the one session of a channel. Token increases
// with every acquisition of the channel (a fencing token).
type Lease struct {
	Channel   string    `json:"channel"`
	SessionID string    `json:"session_id"`
	Owner     string    `json:"owner"`
	Token     int64     `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Memory is what a channel's table remembers of one earlier session.
type Memory struct {
	SessionID string    `json:"session_id"`
	Topic     string    `json:"topic"`
	Keywords  []string  `json:"keywords"`
	Summary   string    `json:"summary"`
	Time      time.Time `json:"time"`
}

// Store is the persistence contract shared by the embedded and Redis stores.
// Every method is safe for concurrent use.
type Store interface {
	SessionStore
	LeaseStore
	ChannelMemory
	QuotaStore
	// Ping reports whether the store is reachable (used by /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// SessionStore keeps sessions, their event logs, checkpoints and blobs.
type SessionStore interface {
	// CreateSession stores a new session; its ID must be unique.
	CreateSession(ctx context.Context, s Session) error
	// UpdateSession replaces the session's metadata.
	UpdateSession(ctx context.Context, s Session) error
	// GetSession finds a session by ID alone (ErrNotFound).
	GetSession(ctx context.Context, id string) (Session, error)
	// ListSessions returns a channel's sessions, newest first.
	ListSessions(ctx context.Context, channel string, limit int) ([]Session, error)
	// Append adds an event to the session's log and returns it with Seq set.
	Append(ctx context.Context, sessionID string, ev Event) (Event, error)
	// Events returns the whole log in order.
	Events(ctx context.Context, sessionID string) ([]Event, error)
	// SaveCheckpoint stores the state after a step (see Checkpoint.Fence).
	SaveCheckpoint(ctx context.Context, sessionID string, cp Checkpoint) error
	// LoadCheckpoint returns the latest checkpoint (ErrNotFound).
	LoadCheckpoint(ctx context.Context, sessionID string) (Checkpoint, error)
	// PutBlob stores bytes (a prepared photo, a generated image) under a name.
	PutBlob(ctx context.Context, sessionID, name string, data []byte) error
	// GetBlob returns a stored blob (ErrNotFound).
	GetBlob(ctx context.Context, sessionID, name string) ([]byte, error)
}

// LeaseStore guarantees one running session per channel and lets a process
// find sessions whose owner died.
type LeaseStore interface {
	// AcquireLease takes the channel's lease for sessionID, or returns
	// ErrLocked when another unexpired lease holds it. Re-acquiring an expired
	// lease (resume) is allowed and yields a higher Token.
	AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (Lease, error)
	// RenewLease extends a lease still held by l.Owner with l.Token, or
	// returns ErrLeaseLost.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives the lease up if still held; releasing a lost lease is
	// not an error.
	ReleaseLease(ctx context.Context, l Lease) error
	// Orphans lists sessions with status running whose lease expired before
	// now, oldest expiry first.
	Orphans(ctx context.Context, now time.Time, limit int) ([]Session, error)
}

// ChannelMemory is what a channel remembers across sessions.
type ChannelMemory interface {
	Remember(ctx context.Context, channel string, m Memory) error
	// Memories returns up to n memories, newest first.
	Memories(ctx context.Context, channel string, n int) ([]Memory, error)
	Forget(ctx context.Context, channel string) error
}

// Quota is the answer of TakeQuota.
type Quota struct {
	// Allowed is true when the use was recorded.
	Allowed bool
	// Used counts the uses within the window, this one included when
	// Allowed.
	Used int
	// RetryAt, when not Allowed, is when the oldest counted use leaves the
	// window, so one more use fits.
	RetryAt time.Time
}

// QuotaStore counts uses of a limited thing (sessions a person started,
// model calls made for them) per key in a sliding window. The check and the
// record are one atomic step, so concurrent takes cannot race past limit.
type QuotaStore interface {
	// TakeQuota records use id of key at the store's clock when fewer than
	// limit uses of key fall within the window ending now; otherwise it
	// records nothing and returns Allowed false with RetryAt.
	TakeQuota(ctx context.Context, key, id string, limit int, window time.Duration) (Quota, error)
	// ReturnQuota forgets use id of key (a start that did not happen);
	// an unknown id is not an error.
	ReturnQuota(ctx context.Context, key, id string) error
}
