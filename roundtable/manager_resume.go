package roundtable

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// resumeOrphans takes over running sessions whose owner's lease expired.
func (m *Manager) resumeOrphans(ctx context.Context, wg *sync.WaitGroup) {
	orphans, err := m.store.Orphans(ctx, m.deps.Now(), 10)
	if err != nil {
		m.log.Warn("find orphans", "err", err)
		return
	}
	for _, o := range orphans {
		platform, _, _ := strings.Cut(o.Channel, ":")
		resume := m.resumers.get(platform)
		if resume == nil {
			continue
		}
		// Reserve the channel first, so two scans never resume it twice.
		l := &live{cancel: func() {}, starter: bot.User{ID: o.StarterID, Name: o.StarterName}, lease: &heldLease{}}
		m.mu.Lock()
		_, busy := m.running[o.Channel]
		if !busy {
			m.running[o.Channel] = l
		}
		m.mu.Unlock()
		if busy {
			continue
		}
		lease, err := m.store.AcquireLease(ctx, o.Channel, o.ID, m.o.Owner, m.o.LeaseTTL)
		if err != nil {
			m.unreserve(o.Channel, l)
			continue // another process was quicker
		}
		conv, err := resume(ctx, o.Channel)
		if errors.Is(err, bot.ErrGone) {
			m.unreserve(o.Channel, l)
			abandon(ctx, m.store, m.log, m.deps.Now(), o, err)
			_ = m.store.ReleaseLease(ctx, lease)
			continue
		}
		if err == nil {
			var sess *Session
			deps := m.deps
			if o.StarterID != "" {
				deps = m.sessionDeps(PersonKey(o.Channel, o.StarterID))
			}
			conv = m.watch(ctx, o, conv)
			if sess, err = Resume(ctx, m.cfg, deps, conv, o.ID); err == nil {
				m.log.Info("resuming orphaned session", "session", o.ID, "channel", o.Channel)
				l.lease.set(lease)
				m.mu.Lock()
				l.sess = sess
				m.mu.Unlock()
				sess.SetFence(lease.Token)
				wg.Add(1)
				go func() {
					defer wg.Done()
					m.runSession(ctx, o.Channel, l)
				}()
				continue
			}
		}
		// Keep the lease unrenewed: the session is an orphan again when it
		// expires, and the scan after that tries again (released, it would
		// be running with no lease, which no scan finds).
		m.unreserve(o.Channel, l)
		m.log.Warn("cannot resume session; trying again once its lease expires", "session", o.ID, "err", err, "retry_in", m.o.LeaseTTL)
	}
}

// abandon ends a session whose conversation is gone for good (a deleted
// thread, a web table without its keys): it is marked failed, so later
// scans stop trying it. Any other resume error leaves it for the next scan.
func abandon(ctx context.Context, st Sessions, log *slog.Logger, now time.Time, o store.Session, cause error) {
	o.Status = store.StatusFailed
	o.UpdatedAt = now
	if err := st.UpdateSession(ctx, o); err != nil {
		log.Warn("cannot resume session", "session", o.ID, "err", cause, "update_err", err)
		return
	}
	log.Info("session abandoned: its conversation is gone", "session", o.ID, "channel", o.Channel, "err", cause)
}

// resumerBook holds the Resumer of each platform, under its own lock:
// AddResumer may run while the orphan scan reads it.
type resumerBook struct {
	mu sync.Mutex
	by map[string]Resumer // by platform
}

func (b *resumerBook) add(platform string, r Resumer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil {
		b.by = map[string]Resumer{}
	}
	b.by[platform] = r
}

func (b *resumerBook) get(platform string) Resumer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.by[platform]
}
