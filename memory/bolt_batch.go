package memory

import (
	"context"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit lets many sessions' writes share bbolt transactions. Every
// bbolt commit writes its pages and meta page and syncs the file twice; with
// hundreds of sessions each appending events and checkpointing every step,
// those commits were a tenth of the process's CPU. A write that finds no
// commit in progress commits at once, alone (no added wait when the store
// is quiet); writes that arrive while a commit is running queue, and the
// next commit takes all of them in one transaction, so a batch grows with
// the load and with the disk's sync time. Unlike bbolt's DB.Batch there is
// no timer to wait out.
type groupCommit struct {
	mu    sync.Mutex
	queue []*pendingWrite
	busy  bool // a writer is committing (the leader)
}

// pendingWrite is one caller's transaction function and where its result
// goes. lead is signalled when the caller is to commit the queue itself.
type pendingWrite struct {
	fn   func(*bolt.Tx) error
	done chan error
	lead chan struct{}
}

// batch runs fn in a read-write transaction that it may share with other
// writers, and returns fn's error or the commit's. fn must be idempotent
// apart from its writes to tx: when another function of the same
// transaction fails, the transaction is rolled back and fn runs again in the
// next one. As with update, ctx is checked before and not watched inside.
func (b *Bolt) batch(ctx context.Context, fn func(*bolt.Tx) error) error {
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
	writes := g.queue
	g.queue = nil
	g.mu.Unlock()
	b.commitAll(writes)
	g.mu.Lock()
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
func (b *Bolt) commitAll(writes []*pendingWrite) {
	for len(writes) > 0 {
		if len(writes) == 1 {
			writes[0].done <- b.db.Update(writes[0].fn)
			return
		}
		failed := -1
		err := b.db.Update(func(tx *bolt.Tx) error {
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
