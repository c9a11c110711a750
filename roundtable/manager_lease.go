package roundtable

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tableround/tableround/store"
)

// heldLease is the lease one running session holds, renewed by its
// leaseKeeper and read when the session ends. It has its own lock, taken
// by nothing else.
type heldLease struct {
	mu sync.Mutex
	l  store.Lease
}

func (h *heldLease) get() store.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.l
}

func (h *heldLease) set(l store.Lease) {
	h.mu.Lock()
	h.l = l
	h.mu.Unlock()
}

// leaseKeeper renews the leases of the sessions this process runs, each in
// its own goroutine, every third of the lease's TTL (DESIGN §9: the holder
// renews on its own and stops posting the moment renewal fails).
type leaseKeeper struct {
	store store.LeaseStore
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger
}

// keep renews h until ctx ends. When the lease is lost (taken by another
// process, or about to expire without a successful renewal) it calls lost
// and returns.
func (k *leaseKeeper) keep(ctx context.Context, h *heldLease, session string, lost func()) {
	t := time.NewTicker(k.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			held := h.get()
			nl, err := k.store.RenewLease(ctx, held, k.ttl)
			if err == nil {
				h.set(nl)
				continue
			}
			if ctx.Err() != nil {
				return
			}
			// A store that is slow or briefly away (a timeout under load, a
			// Redis restart) does not end the session while the lease it
			// holds outlasts the next try; a lease another process took, or
			// one about to expire, does.
			if !errors.Is(err, store.ErrLeaseLost) && k.now().Add(k.ttl/3).Before(held.ExpiresAt) {
				k.log.Warn("lease renewal failed: trying again before it expires", "session", session, "err", err)
				continue
			}
			k.log.Error("lease renewal failed: stopping this copy of the session", "session", session, "err", err)
			lost()
			return
		}
	}
}

// release gives the lease up (the session ended for good).
func (k *leaseKeeper) release(ctx context.Context, h *heldLease, session string) {
	if err := k.store.ReleaseLease(ctx, h.get()); err != nil {
		k.log.Warn("release lease", "session", session, "err", err)
	}
}

// handOff lets the lease expire now, so another replica resumes the
// suspended session at its next scan rather than after the TTL.
func (k *leaseKeeper) handOff(ctx context.Context, h *heldLease, session string) {
	if _, err := k.store.RenewLease(ctx, h.get(), time.Millisecond); err != nil {
		k.log.Warn("hand the session off", "session", session, "err", err)
		return
	}
	k.log.Info("session handed off to the next replica", "session", session)
}
