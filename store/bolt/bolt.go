// Package bolt is the embedded store.Store: one bbolt file under DATA_DIR,
// used when no Redis is configured (the console, a single process). It
// runs the same contract suite as the Redis store (store/storetest); see
// store/README.md for retention, group commit and the checkpoint record.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
)

// DefaultOpenTimeout is how long Open waits for another process to let
// go of the file.
const DefaultOpenTimeout = 2 * time.Second

// Options configure the embedded store.
type Options struct {
	store.Retention
	// Timeout bounds the wait for the file lock held by another process
	// (e.g. `tableround serve` while `tableround export` runs). Zero means
	// DefaultOpenTimeout.
	Timeout time.Duration
	// Clock is the store's time: record expiry, lease expiry, quota
	// windows (tests inject a manual clock); nil is the wall clock.
	Clock clock.Clock
	// GatherWindow is how long after a commit the next one waits to
	// gather writes (see groupCommit); 0 means DefaultGatherWindow, a
	// negative value commits at once.
	GatherWindow time.Duration
}

// Store is the embedded Store: one bbolt file. TTLs are honoured lazily:
// expired records read as missing and are overwritten or removed by later
// writes and by Purge.
type Store struct {
	db      *bbolt.DB
	ret     store.Retention
	now     func() time.Time
	commits groupCommit // the session writes' shared transactions
	// checkpoints encodes checkpoint records with pooled DEFLATE writers.
	checkpoints cpEncoder
}

var _ store.Store = (*Store)(nil)

// Bucket names. Values in sessions, checkpoints, blobs and memory carry an
// 8-byte expiry header (see putRec).
var (
	bSessions    = []byte("sessions")    // id -> rec(store.Session JSON)
	bIndex       = []byte("index")       // channel 0x00 inverted-created id -> nil
	bLogs        = []byte("logs")        // id -> bucket{seq -> store.Event JSON}
	bCheckpoints = []byte("checkpoints") // id -> rec(checkpoint, see cpEncoder)
	bBlobs       = []byte("blobs")       // id 0x00 name -> rec(bytes)
	bLeases      = []byte("leases")      // channel -> leaseRec JSON
	bMemory      = []byte("memory")      // channel -> rec([]store.Memory JSON)
)

// Open opens (creating if needed) the store file at path. When another
// process holds the file it fails after opts.Timeout with an error wrapping
// ErrUnavailable.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultOpenTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: still locked by another process after %s (is `tableround serve` running?): %w",
			path, opts.Timeout, store.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bSessions, bIndex, bLogs, bCheckpoints, bBlobs, bLeases, bMemory} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %w", path, err)
	}
	if opts.GatherWindow == 0 {
		opts.GatherWindow = DefaultGatherWindow
	}
	return &Store{db: db, ret: opts.Retention.WithDefaults(), now: clock.Or(opts.Clock).Now,
		commits: groupCommit{window: max(opts.GatherWindow, 0), clk: clock.Real{}}}, nil
}

// Close closes the file.
func (b *Store) Close() error { return b.db.Close() }

// Ping reports whether the file is open.
func (b *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(*bbolt.Tx) error { return nil })
}

// view and update run fn in a transaction once ctx is checked; bbolt
// transactions are short and local, so ctx is not watched inside them.
func (b *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(fn)
}

func (b *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(fn)
}

// CreateSession stores a new session (ErrExists when the ID is live).
func (b *Store) CreateSession(ctx context.Context, s store.Session) error {
	if s.ID == "" || s.Channel == "" {
		return fmt.Errorf("create session: id and channel are required")
	}
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		if getRec(tx.Bucket(bSessions), []byte(s.ID), now) != nil {
			return store.ErrExists
		}
		// An expired session with the same ID leaves a log behind: drop it.
		if tx.Bucket(bLogs).Bucket([]byte(s.ID)) != nil {
			if err := tx.Bucket(bLogs).DeleteBucket([]byte(s.ID)); err != nil {
				return err
			}
		}
		if s.CreatedAt.IsZero() {
			s.CreatedAt = now
		}
		if err := tx.Bucket(bIndex).Put(indexKey(s.Channel, s.CreatedAt, s.ID), nil); err != nil {
			return err
		}
		return b.putSession(tx, s, now)
	})
	if err != nil {
		return fmt.Errorf("create session %s: %w", s.ID, err)
	}
	return nil
}

// UpdateSession replaces the session's metadata (ErrNotFound).
func (b *Store) UpdateSession(ctx context.Context, s store.Session) error {
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		old, err := b.getSession(tx, s.ID, now)
		if err != nil {
			return err
		}
		s.Channel, s.CreatedAt = old.Channel, old.CreatedAt // fixed at creation
		return b.putSession(tx, s, now)
	})
	if err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	return nil
}

// GetSession finds a session by ID (ErrNotFound).
func (b *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	var s store.Session
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		s, err = b.getSession(tx, id, b.now())
		return err
	})
	if err != nil {
		return store.Session{}, fmt.Errorf("get session %s: %w", id, err)
	}
	return s, nil
}

// ListSessions returns the channel's live sessions, newest first; limit <= 0
// means all.
func (b *Store) ListSessions(ctx context.Context, channel string, limit int) ([]store.Session, error) {
	var out []store.Session
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		prefix := append([]byte(channel), 0)
		c := tx.Bucket(bIndex).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix)+8:])
			s, err := b.getSession(tx, id, now)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, s)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", channel, err)
	}
	return out, nil
}

// Append adds ev to the log with the next Seq (ErrNotFound for an unknown
// session). It refreshes the transcript's EXPORT_TTL.
func (b *Store) Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error) {
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		// The session record is only checked and its expiry refreshed: its
		// bytes are written back as they are, not decoded and encoded.
		rec := getRec(tx.Bucket(bSessions), []byte(sessionID), now)
		if rec == nil {
			return store.ErrNotFound
		}
		log, err := tx.Bucket(bLogs).CreateBucketIfNotExists([]byte(sessionID))
		if err != nil {
			return err
		}
		seq, err := log.NextSequence()
		if err != nil {
			return err
		}
		ev.Seq = int64(seq)
		if ev.Time.IsZero() {
			ev.Time = now
		}
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := log.Put(u64(seq), data); err != nil {
			return err
		}
		return putRec(tx.Bucket(bSessions), []byte(sessionID), store.Expiry(now, b.ret.ExportTTL), rec)
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("append to %s: %w", sessionID, err)
	}
	return ev, nil
}

// Events returns the whole log in order (ErrNotFound for an unknown or
// expired session).
func (b *Store) Events(ctx context.Context, sessionID string) ([]store.Event, error) {
	var out []store.Event
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		if _, err := b.getSession(tx, sessionID, b.now()); err != nil {
			return err
		}
		log := tx.Bucket(bLogs).Bucket([]byte(sessionID))
		if log == nil {
			return nil
		}
		return log.ForEach(func(_, v []byte) error {
			var ev store.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", sessionID, err)
	}
	return out, nil
}

func (b *Store) getSession(tx *bbolt.Tx, id string, now time.Time) (store.Session, error) {
	v := getRec(tx.Bucket(bSessions), []byte(id), now)
	if v == nil {
		return store.Session{}, store.ErrNotFound
	}
	var s store.Session
	if err := json.Unmarshal(v, &s); err != nil {
		return store.Session{}, fmt.Errorf("decode session: %w", err)
	}
	return s, nil
}

func (b *Store) putSession(tx *bbolt.Tx, s store.Session, now time.Time) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return putRec(tx.Bucket(bSessions), []byte(s.ID), store.Expiry(now, b.ret.ExportTTL), data)
}

// indexKey orders a channel's sessions newest first.
func indexKey(channel string, created time.Time, id string) []byte {
	k := make([]byte, 0, len(channel)+9+len(id))
	k = append(k, channel...)
	k = append(k, 0)
	k = append(k, u64(uint64(math.MaxInt64-created.UnixNano()))...)
	return append(k, id...)
}

// putRec stores val behind an 8-byte big-endian expiry (Unix ns, 0 = never).
func putRec(bk *bbolt.Bucket, key []byte, exp time.Time, val []byte) error {
	buf := make([]byte, 8+len(val))
	if !exp.IsZero() {
		binary.BigEndian.PutUint64(buf, uint64(exp.UnixNano()))
	}
	copy(buf[8:], val)
	return bk.Put(key, buf)
}

// getRec returns a copy of a live record's value, or nil when it is missing
// or expired at now.
func getRec(bk *bbolt.Bucket, key []byte, now time.Time) []byte {
	v := bk.Get(key)
	if len(v) < 8 || expired(v, now) {
		return nil
	}
	return append([]byte{}, v[8:]...)
}

func expired(rec []byte, now time.Time) bool {
	exp := int64(binary.BigEndian.Uint64(rec))
	return exp != 0 && now.UnixNano() >= exp
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func hasPrefix(k, p []byte) bool {
	return len(k) >= len(p) && string(k[:len(p)]) == string(p)
}
