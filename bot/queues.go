package bot

import (
	"context"
	"runtime/debug"
	"sync"
)

// Queues runs work in order per key (a chat, a channel) and keys in
// parallel: a goroutine drains a key's queue while it has work and ends
// when it is empty. Platforms deliver events concurrently (go-telegram/bot
// runs a goroutine per update; discordgo's handlers are ours to order), so
// both adapters restore per-chat order here. A panic in one piece of work is
// recovered and reported; the queue goes on. Urgent work (control: /stop,
// /status, buttons, answers) jumps every queue.
//
// Queues owns one map and its lock; work runs without the lock held.
type Queues struct {
	max     int
	onPanic func(key string, r any, stack []byte)
	onDrop  func(key string)

	mu     sync.Mutex
	queues map[string][]func(context.Context)
	wg     sync.WaitGroup
}

// QueueOptions tune Queues.
type QueueOptions struct {
	// Max bounds one key's waiting work (default 256); work beyond it is
	// dropped and OnDrop told.
	Max int
	// OnPanic is told about a recovered panic (log it); nil ignores it.
	OnPanic func(key string, r any, stack []byte)
	// OnDrop is told about work dropped because its key's queue was full.
	OnDrop func(key string)
}

// NewQueues returns empty queues.
func NewQueues(o QueueOptions) *Queues {
	if o.Max <= 0 {
		o.Max = 256
	}
	if o.OnPanic == nil {
		o.OnPanic = func(string, any, []byte) {}
	}
	if o.OnDrop == nil {
		o.OnDrop = func(string) {}
	}
	return &Queues{max: o.Max, onPanic: o.OnPanic, onDrop: o.OnDrop, queues: map[string][]func(context.Context){}}
}

// Add queues fn behind the key's earlier work; it never blocks. false when
// the key's queue was full and fn was dropped. fn gets ctx; once ctx ends,
// the work still queued is dropped.
func (q *Queues) Add(ctx context.Context, key string, fn func(context.Context)) bool {
	q.mu.Lock()
	items, busy := q.queues[key]
	if len(items) >= q.max {
		q.mu.Unlock()
		q.onDrop(key)
		return false
	}
	q.queues[key] = append(items, fn)
	if !busy {
		q.wg.Add(1)
		go q.drain(ctx, key)
	}
	q.mu.Unlock()
	return true
}

// Urgent runs fn at once in its own goroutine, keeping no order with the
// key's queue, so control is never stuck behind a slow start.
func (q *Queues) Urgent(ctx context.Context, key string, fn func(context.Context)) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.run(ctx, key, fn)
	}()
}

// Wait returns when every queue is drained and all urgent work is done.
func (q *Queues) Wait() { q.wg.Wait() }

// Len is the work waiting under key (not counting the one running).
func (q *Queues) Len(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queues[key])
}

func (q *Queues) drain(ctx context.Context, key string) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		items := q.queues[key]
		if len(items) == 0 || ctx.Err() != nil {
			delete(q.queues, key)
			q.mu.Unlock()
			return
		}
		fn := items[0]
		items[0] = nil
		q.queues[key] = items[1:]
		q.mu.Unlock()
		q.run(ctx, key, fn)
	}
}

func (q *Queues) run(ctx context.Context, key string, fn func(context.Context)) {
	defer func() {
		if r := recover(); r != nil {
			q.onPanic(key, r, debug.Stack())
		}
	}()
	fn(ctx)
}
