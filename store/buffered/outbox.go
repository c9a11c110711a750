package buffered

import (
	"fmt"
	"sync"
	"time"

	"github.com/tableround/tableround/store"
)

type opKind int

const (
	opAppend opKind = iota + 1
	opUpdate
	opCheckpoint
	opBlob
)

// bufOp is one queued write.
type bufOp struct {
	kind opKind
	ev   store.Event
	ses  store.Session
	cp   store.Checkpoint
	name string
	data []byte
	size int
}

// outbox holds what Store owes the inner store, under its own lock: each
// session's queued writes in order (and which session queued first), their
// count and bytes, the last Seq seen per session (a queued Append's
// provisional Seq follows it), the sessions that may not write until
// leased again, and the last failure to reach the store.
type outbox struct {
	maxPending, maxBytes int

	mu      sync.Mutex
	queues  map[string][]bufOp
	order   []string // sessions with a queue, oldest first
	pending int
	bytes   int
	lastSeq map[string]int64
	failed  map[string]error
	lastErr error
}

func newOutbox(maxPending, maxBytes int) *outbox {
	return &outbox{maxPending: maxPending, maxBytes: maxBytes,
		queues: map[string][]bufOp{}, lastSeq: map[string]int64{}, failed: map[string]error{}}
}

// size is the queued writes' count and bytes, and the last failure to
// reach the store while some are queued.
func (o *outbox) size() (pending, bytes int, lastErr error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending > 0 {
		lastErr = o.lastErr
	}
	return o.pending, o.bytes, lastErr
}

// queueBehind queues op when sid already has queued writes (its new
// writes keep their order behind them); queued is false when sid has
// none. A session that may not write gets its error.
func (o *outbox) queueBehind(sid string, op *bufOp, now time.Time) (queued bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.failed[sid]; err != nil {
		return true, err
	}
	if len(o.queues[sid]) == 0 {
		return false, nil
	}
	return true, o.pushLocked(sid, op, now)
}

// queue queues op after the store failed to take it with cause.
func (o *outbox) queue(sid string, op *bufOp, now time.Time, cause error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastErr = cause
	return o.pushLocked(sid, op, now)
}

func (o *outbox) pushLocked(sid string, op *bufOp, now time.Time) error {
	op.size = len(op.data) + len(op.ev.Text) + len(op.ev.Data) + len(op.cp.State) + 64
	if o.pending+1 > o.maxPending || o.bytes+op.size > o.maxBytes {
		err := fmt.Errorf("write buffer full (%d writes, %d bytes queued while the store is unreachable), session %s cannot be saved: %w",
			o.pending, o.bytes, sid, store.ErrUnavailable)
		o.failed[sid] = err
		return err
	}
	if op.kind == opAppend {
		if op.ev.Time.IsZero() {
			op.ev.Time = now // a queued event keeps the time it happened
		}
		o.lastSeq[sid]++
		op.ev.Seq = o.lastSeq[sid]
	}
	if len(o.queues[sid]) == 0 {
		o.order = append(o.order, sid)
	}
	o.queues[sid] = append(o.queues[sid], *op)
	o.pending++
	o.bytes += op.size
	return nil
}

// next is the oldest queued write of the session that queued first; ok
// is false (and the last failure forgotten) when nothing is queued.
func (o *outbox) next() (sid string, op bufOp, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.order) == 0 {
		o.lastErr = nil
		return "", bufOp{}, false
	}
	sid = o.order[0]
	return sid, o.queues[sid][0], true
}

// flushed settles the write next returned: written (err nil), still owed
// (transient), or refused for good, which drops sid's queue and fails its
// next write with err.
func (o *outbox) flushed(sid string, err error, transient bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case transient:
		o.lastErr = err
	case err != nil:
		o.failed[sid] = fmt.Errorf("flush buffered write of %s: %w", sid, err)
		o.dropLocked(sid, len(o.queues[sid]))
	default:
		o.dropLocked(sid, 1)
	}
}

// dropLocked removes the first n queued writes of sid.
func (o *outbox) dropLocked(sid string, n int) {
	q := o.queues[sid]
	for _, op := range q[:n] {
		o.pending--
		o.bytes -= op.size
	}
	if q = q[n:]; len(q) > 0 {
		o.queues[sid] = q
		return
	}
	delete(o.queues, sid)
	for i, s := range o.order {
		if s == sid {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
}

// latest returns the newest queued write of sid matching pick.
func (o *outbox) latest(sid string, pick func(bufOp) bool) (bufOp, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queues[sid]
	for i := len(q) - 1; i >= 0; i-- {
		if pick(q[i]) {
			return q[i], true
		}
	}
	return bufOp{}, false
}

// events is sid's queued events in order.
func (o *outbox) events(sid string) []store.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []store.Event
	for _, op := range o.queues[sid] {
		if op.kind == opAppend {
			out = append(out, op.ev)
		}
	}
	return out
}

// sawSeq records the Seq the store gave sid's latest event.
func (o *outbox) sawSeq(sid string, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastSeq[sid] = seq
}

// ended forgets sid's last Seq once it has stopped running and owes
// nothing.
func (o *outbox) ended(sid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queues[sid]) == 0 {
		delete(o.lastSeq, sid)
	}
}

// leased lets sid write again after a buffer-full or flush failure.
func (o *outbox) leased(sid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.failed, sid)
}
