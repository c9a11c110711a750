package bolt

import (
	"context"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tableround/tableround/internal/clock"
)

// groupCommit lets many sessions' writes share bbolt transactions. Every
// bbolt commit writes its pages and meta page and syncs the file twice; with
// hundreds of sessions each appending events and checkpointing every step,
// those commits were a tenth of the process's CPU. A write that finds no
// commit in progress commits at once, alone (no added wait when the store
// is quiet); writes that arrive while a commit is running queue, and the
// next commit takes all of them in one transaction, so a batch grows with
// the load and with the disk's sync time. Under steady load a commit
// follows the previous one at once and takes only what queued during one
// sync, so a leader whose commit would start within window of the previous
// commit's end waits for the rest of the window first (at 500 sessions the
// commits were still a sixth of the process's CPU, two fdatasyncs each).
// Unlike bbolt's DB.Batch, a write to a quiet store never waits.
type groupCommit struct {
	window time.Duration // least time from one commit's end to the next one's start
	// clk is the wall clock the window is measured on (never the store's
	// Options.Clock, which times records); tests replace it.
	clk clock.Clock

	mu      sync.Mutex
	queue   []*pendingWrite
	busy    bool      // a writer is committing (the leader)
	lastEnd time.Time // when the last commit ended
	commits int       // transactions committed (or tried), for the benchmark
}

// DefaultGatherWindow is Options.GatherWindow's default: a step's
// writes wait at most this long, and under load a transaction gathers
// several milliseconds of writes instead of one sync's worth.
const DefaultGatherWindow = 2 * time.Millisecond

// pendingWrite is one caller's transaction function and where its result
// goes. lead is signalled when the caller is to commit the queue itself.
type pendingWrite struct {
	fn   func(*bbolt.Tx) error
	done chan error
	lead chan struct{}
}

// batch runs fn in a read-write transaction that it may share with other
// writers, and returns fn's error or the commit's. fn must be idempotent
// apart from its writes to tx: when another function of the same
// transaction fails, the transaction is rolled back and fn runs again in the
// next one. As with update, ctx is checked before and not watched inside.
func (b *Store) batch(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &pendingWrite{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g := &b.commits
	g.mu.Lock()
	g.queue = append(g.queue, w)
	leader := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !leader {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
		}
	}
	// The leader commits the queue (its own write included) and hands the
	// role to the oldest write that queued meanwhile, so no caller commits
	// other callers' writes for longer than one transaction.
	g.mu.Lock()
	last := g.lastEnd
	g.mu.Unlock()
	if wait := last.Add(g.window).Sub(g.clk.Now()); g.window > 0 && wait > 0 {
		_ = g.clk.Sleep(ctx, wait) // others keep queueing behind the leader; ctx ending commits at once
	}
	g.mu.Lock()
	writes := g.queue
	g.queue = nil
	g.mu.Unlock()
	b.commitAll(writes)
	g.mu.Lock()
	g.lastEnd = g.clk.Now()
	g.commits++
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return <-w.done
}

// commitAll runs writes in one transaction. When one of them fails, the
// transaction is rolled back, that write runs alone (so it gets its own
// error) and the others are committed again without it.
func (b *Store) commitAll(writes []*pendingWrite) {
	for len(writes) > 0 {
		if len(writes) == 1 {
			writes[0].done <- b.db.Update(writes[0].fn)
			return
		}
		failed := -1
		err := b.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range writes {
				if err := w.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if err == nil || failed < 0 { // committed, or the commit itself failed
			for _, w := range writes {
				w.done <- err
			}
			return
		}
		writes[failed].done <- b.db.Update(writes[failed].fn)
		writes = append(writes[:failed:failed], writes[failed+1:]...)
	}
}
