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

// outbox holds what Store owes the inner store, under its own lock: per
// session what it owes (see owed), which session queued first, and the
// queued writes' count and bytes, and the last failure to reach the store.
type outbox struct {
	maxPending, maxBytes int

	mu       sync.Mutex
	sessions map[string]*owed
	order    []string // sessions with a queue, oldest first
	pending  int
	bytes    int
	lastErr  error
}

// owed is one session's part of the outbox: its queued writes in order,
// the last Seq seen (a queued Append's provisional Seq follows it), and
// the error that keeps it from writing until it is leased again.
type owed struct {
	queue   []bufOp
	lastSeq int64
	failed  error
}

func newOutbox(maxPending, maxBytes int) *outbox {
	return &outbox{maxPending: maxPending, maxBytes: maxBytes, sessions: map[string]*owed{}}
}

// session is sid's entry, made when missing (o.mu held).
func (o *outbox) session(sid string) *owed {
	s := o.sessions[sid]
	if s == nil {
		s = &owed{}
		o.sessions[sid] = s
	}
	return s
}

// tidy forgets sid's entry once it holds nothing (o.mu held).
func (o *outbox) tidy(sid string) {
	if s := o.sessions[sid]; s != nil && len(s.queue) == 0 && s.lastSeq == 0 && s.failed == nil {
		delete(o.sessions, sid)
	}
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
	s := o.sessions[sid]
	switch {
	case s == nil:
		return false, nil
	case s.failed != nil:
		return true, s.failed
	case len(s.queue) == 0:
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
	s := o.session(sid)
	op.size = len(op.data) + len(op.ev.Text) + len(op.ev.Data) + len(op.cp.State) + 64
	if o.pending+1 > o.maxPending || o.bytes+op.size > o.maxBytes {
		s.failed = fmt.Errorf("write buffer full (%d writes, %d bytes queued while the store is unreachable), session %s cannot be saved: %w",
			o.pending, o.bytes, sid, store.ErrUnavailable)
		return s.failed
	}
	if op.kind == opAppend {
		if op.ev.Time.IsZero() {
			op.ev.Time = now // a queued event keeps the time it happened
		}
		s.lastSeq++
		op.ev.Seq = s.lastSeq
	}
	if len(s.queue) == 0 {
		o.order = append(o.order, sid)
	}
	s.queue = append(s.queue, *op)
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
	return sid, o.sessions[sid].queue[0], true
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
		s := o.sessions[sid]
		s.failed = fmt.Errorf("flush buffered write of %s: %w", sid, err)
		o.dropLocked(sid, len(s.queue))
	default:
		o.dropLocked(sid, 1)
	}
}

// dropLocked removes the first n queued writes of sid.
func (o *outbox) dropLocked(sid string, n int) {
	s := o.sessions[sid]
	for _, op := range s.queue[:n] {
		o.pending--
		o.bytes -= op.size
	}
	if s.queue = s.queue[n:]; len(s.queue) > 0 {
		return
	}
	s.queue = nil
	for i, id := range o.order {
		if id == sid {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
	o.tidy(sid)
}

// latest returns the newest queued write of sid matching pick.
func (o *outbox) latest(sid string, pick func(bufOp) bool) (bufOp, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.sessions[sid]; s != nil {
		for i := len(s.queue) - 1; i >= 0; i-- {
			if pick(s.queue[i]) {
				return s.queue[i], true
			}
		}
	}
	return bufOp{}, false
}

// events is sid's queued events in order.
func (o *outbox) events(sid string) []store.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []store.Event
	if s := o.sessions[sid]; s != nil {
		for _, op := range s.queue {
			if op.kind == opAppend {
				out = append(out, op.ev)
			}
		}
	}
	return out
}

// sawSeq records the Seq the store gave sid's latest event.
func (o *outbox) sawSeq(sid string, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.session(sid).lastSeq = seq
	o.tidy(sid)
}

// ended forgets sid's last Seq once it has stopped running and owes
// nothing.
func (o *outbox) ended(sid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.sessions[sid]; s != nil && len(s.queue) == 0 {
		s.lastSeq = 0
		o.tidy(sid)
	}
}

// leased lets sid write again after a buffer-full or flush failure.
func (o *outbox) leased(sid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.sessions[sid]; s != nil {
		s.failed = nil
		o.tidy(sid)
	}
}
