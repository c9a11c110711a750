package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tableround/tableround/store"
)

// SaveCheckpoint stores the state after a step. With cp.Fence != 0 it is
// rejected with ErrLeaseLost unless the channel's lease is held with that
// token, in the same transaction as the write.
func (b *Store) SaveCheckpoint(ctx context.Context, sessionID string, cp store.Checkpoint) error {
	data, err := b.checkpoints.encode(cp) // outside the transaction that other writers share
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", sessionID, err)
	}
	err = b.batch(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		s, err := b.getSession(tx, sessionID, now)
		if err != nil {
			return err
		}
		if cp.Fence != 0 {
			rec, err := getLease(tx, s.Channel)
			if err != nil {
				return err
			}
			if !rec.Held || rec.Lease.Token != cp.Fence {
				return store.ErrLeaseLost
			}
		}
		return putRec(tx.Bucket(bCheckpoints), []byte(sessionID), store.Expiry(now, b.ret.SessionTTL), data)
	})
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", sessionID, err)
	}
	return nil
}

// LoadCheckpoint returns the latest checkpoint (ErrNotFound).
func (b *Store) LoadCheckpoint(ctx context.Context, sessionID string) (store.Checkpoint, error) {
	var cp store.Checkpoint
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		v := getRec(tx.Bucket(bCheckpoints), []byte(sessionID), b.now())
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		cp, err = decodeCheckpoint(v)
		return err
	})
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", sessionID, err)
	}
	return cp, nil
}

// PutBlob stores bytes under name for BlobTTL.
func (b *Store) PutBlob(ctx context.Context, sessionID, name string, data []byte) error {
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		return putRec(tx.Bucket(bBlobs), blobKey(sessionID, name), store.Expiry(b.now(), b.ret.BlobTTL), data)
	})
	if err != nil {
		return fmt.Errorf("put blob %s of %s: %w", name, sessionID, err)
	}
	return nil
}

// GetBlob returns a stored blob (ErrNotFound).
func (b *Store) GetBlob(ctx context.Context, sessionID, name string) ([]byte, error) {
	var out []byte
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		out = getRec(tx.Bucket(bBlobs), blobKey(sessionID, name), b.now())
		if out == nil {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get blob %s of %s: %w", name, sessionID, err)
	}
	return out, nil
}

func blobKey(sessionID, name string) []byte {
	return append(append([]byte(sessionID), 0), name...)
}

// leaseRec is a channel's lease record. Seq is the fencing counter; it
// survives releases so tokens only grow.
type leaseRec struct {
	Lease store.Lease `json:"lease"`
	Seq   int64       `json:"seq"`
	Held  bool        `json:"held"`
}

func getLease(tx *bbolt.Tx, channel string) (leaseRec, error) {
	var rec leaseRec
	v := tx.Bucket(bLeases).Get([]byte(channel))
	if v == nil {
		return rec, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode lease: %w", err)
	}
	return rec, nil
}

func putLease(tx *bbolt.Tx, rec leaseRec) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bLeases).Put([]byte(rec.Lease.Channel), data)
}

// AcquireLease takes the channel's lease for sessionID (ErrLocked while
// another holder's lease is unexpired). The same owner re-acquiring for the
// same session gets a new, higher token.
func (b *Store) AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (store.Lease, error) {
	var l store.Lease
	err := b.update(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		rec, err := getLease(tx, channel)
		if err != nil {
			return err
		}
		if rec.Held && now.Before(rec.Lease.ExpiresAt) &&
			(rec.Lease.SessionID != sessionID || rec.Lease.Owner != owner) {
			return fmt.Errorf("held by session %s: %w", rec.Lease.SessionID, store.ErrLocked)
		}
		rec.Seq++
		rec.Held = true
		rec.Lease = store.Lease{Channel: channel, SessionID: sessionID, Owner: owner, Token: rec.Seq, ExpiresAt: now.Add(ttl)}
		l = rec.Lease
		return putLease(tx, rec)
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease of %s: %w", channel, err)
	}
	return l, nil
}

// RenewLease extends l while nobody else took the lease: an expired lease
// that no other process acquired can still be renewed (fencing keeps that
// safe). Otherwise ErrLeaseLost.
func (b *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	// Renewals of every running session share the group commit (a rerun
	// after another write's failure reads the same record and sets the
	// same l).
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		rec, err := getLease(tx, l.Channel)
		if err != nil {
			return err
		}
		if !rec.Held || rec.Lease.Token != l.Token || rec.Lease.Owner != l.Owner {
			return store.ErrLeaseLost
		}
		rec.Lease.ExpiresAt = b.now().Add(ttl)
		l = rec.Lease
		return putLease(tx, rec)
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("renew lease of %s: %w", l.Channel, err)
	}
	return l, nil
}

// ReleaseLease gives the lease up if l still holds it.
func (b *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	err := b.batch(ctx, func(tx *bbolt.Tx) error {
		rec, err := getLease(tx, l.Channel)
		if err != nil {
			return err
		}
		if !rec.Held || rec.Lease.Token != l.Token {
			return nil
		}
		rec.Held = false
		return putLease(tx, rec)
	})
	if err != nil {
		return fmt.Errorf("release lease of %s: %w", l.Channel, err)
	}
	return nil
}

// Orphans lists running sessions whose lease expired before now, oldest
// expiry first. The embedded store has one lease record per channel, so it
// reads them all.
func (b *Store) Orphans(ctx context.Context, now time.Time, limit int) ([]store.Session, error) {
	type orphan struct {
		s   store.Session
		exp time.Time
	}
	var found []orphan
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bLeases).ForEach(func(_, v []byte) error {
			var rec leaseRec
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode lease: %w", err)
			}
			if !rec.Held || rec.Lease.ExpiresAt.After(now) || rec.Lease.ExpiresAt.Equal(now) {
				return nil
			}
			s, err := b.getSession(tx, rec.Lease.SessionID, b.now())
			if errors.Is(err, store.ErrNotFound) || (err == nil && s.Status != store.StatusRunning) {
				return nil
			}
			if err != nil {
				return err
			}
			found = append(found, orphan{s, rec.Lease.ExpiresAt})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("find orphans: %w", err)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].exp.Before(found[j].exp) })
	out := make([]store.Session, 0, len(found))
	for _, o := range found {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, o.s)
	}
	return out, nil
}

// Remember adds m to the channel's memory, keeping the newest MemoryCap.
func (b *Store) Remember(ctx context.Context, channel string, m store.Memory) error {
	err := b.update(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		list, err := memories(tx, channel, now)
		if err != nil {
			return err
		}
		if m.Time.IsZero() {
			m.Time = now
		}
		list = append([]store.Memory{m}, list...)
		if len(list) > b.ret.MemoryCap {
			list = list[:b.ret.MemoryCap]
		}
		data, err := json.Marshal(list)
		if err != nil {
			return err
		}
		return putRec(tx.Bucket(bMemory), []byte(channel), store.Expiry(now, b.ret.MemoryTTL), data)
	})
	if err != nil {
		return fmt.Errorf("remember in %s: %w", channel, err)
	}
	return nil
}

// Memories returns up to n memories of the channel, newest first (n <= 0:
// all).
func (b *Store) Memories(ctx context.Context, channel string, n int) ([]store.Memory, error) {
	var list []store.Memory
	err := b.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		list, err = memories(tx, channel, b.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read memories of %s: %w", channel, err)
	}
	if n > 0 && len(list) > n {
		list = list[:n]
	}
	return list, nil
}

// Forget deletes the channel's memory.
func (b *Store) Forget(ctx context.Context, channel string) error {
	err := b.update(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(bMemory).Delete([]byte(channel)) })
	if err != nil {
		return fmt.Errorf("forget %s: %w", channel, err)
	}
	return nil
}

func memories(tx *bbolt.Tx, channel string, now time.Time) ([]store.Memory, error) {
	v := getRec(tx.Bucket(bMemory), []byte(channel), now)
	if v == nil {
		return nil, nil
	}
	var list []store.Memory
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, fmt.Errorf("decode memories: %w", err)
	}
	return list, nil
}

// Purge deletes every expired record and returns how many it removed.
// Expired data already reads as missing; Purge only reclaims space, so
// `serve` may call it now and then.
func (b *Store) Purge(ctx context.Context) (int, error) {
	n := 0
	err := b.update(ctx, func(tx *bbolt.Tx) error {
		now := b.now()
		for _, name := range [][]byte{bCheckpoints, bBlobs, bMemory} {
			if err := purgeBucket(tx.Bucket(name), now, func([]byte) error { n++; return nil }); err != nil {
				return err
			}
		}
		return purgeBucket(tx.Bucket(bSessions), now, func(id []byte) error {
			n++
			if tx.Bucket(bLogs).Bucket(id) != nil {
				if err := tx.Bucket(bLogs).DeleteBucket(id); err != nil {
					return err
				}
			}
			c := tx.Bucket(bIndex).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if i := bytes.IndexByte(k, 0); i >= 0 && len(k) > i+9 && bytes.Equal(k[i+9:], id) {
					return c.Delete()
				}
			}
			return nil
		})
	})
	if err != nil {
		return n, fmt.Errorf("purge store: %w", err)
	}
	return n, nil
}

func purgeBucket(bk *bbolt.Bucket, now time.Time, onDelete func(key []byte) error) error {
	var dead [][]byte
	err := bk.ForEach(func(k, v []byte) error {
		if len(v) >= 8 && expired(v, now) {
			dead = append(dead, append([]byte{}, k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := bk.Delete(k); err != nil {
			return err
		}
		if err := onDelete(k); err != nil {
			return err
		}
	}
	return nil
}
