package providers

import (
	"context"
	"slices"
	"sync"
)

// Limiter caps the model calls in flight to one provider (LLM_CONCURRENCY)
// across every session of the process, and shares the capacity fairly:
// calls that have to wait are served round-robin by queue key (the session
// ID, see WithQueue), so one session's six concurrent calls cannot starve
// another session. Within one key, calls are served in arrival order.
//
// A Limiter is safe for concurrent use. Wrap it around the bare client,
// inside Retry, so that every attempt (and every retry) takes its turn.
type Limiter struct {
	n int

	mu      sync.Mutex
	running int              // calls holding a slot
	lanes   map[string]*lane // keys with waiting calls
	ring    []*lane          // the same lanes, in the order they are served
}

// lane is one key's waiting calls, oldest first.
type lane struct {
	key     string
	waiters []*waiter
}

// waiter is one call waiting for a slot.
type waiter struct {
	ready   chan struct{} // closed when the call is granted a slot
	moved   chan struct{} // signalled when place changed
	granted bool
	place   int // 1-based place in line, 0 once granted
}

// NewLimiter returns a limiter allowing n calls in flight; n < 1 counts as 1.
func NewLimiter(n int) *Limiter {
	return &Limiter{n: max(n, 1), lanes: map[string]*lane{}}
}

// Limit is the number of calls allowed in flight.
func (l *Limiter) Limit() int { return l.n }

// InFlight is the number of calls holding a slot now.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}

// Waiting is the number of calls waiting for a slot now.
func (l *Limiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ln := range l.ring {
		n += len(ln.waiters)
	}
	return n
}

type queueKey struct{}

type queue struct {
	key    string
	onWait func(position int)
}

// WithQueue returns a context whose model calls wait in line under key
// (a session ID). onWait, which may be nil, is called from the calling
// goroutine with the call's 1-based place in line when it has to wait and
// again whenever that place changes, then with 0 when it stops waiting
// (it got a slot, or its context ended). A call that gets a slot at once
// never calls onWait. Calls without a key share the key "".
func WithQueue(ctx context.Context, key string, onWait func(position int)) context.Context {
	return context.WithValue(ctx, queueKey{}, queue{key: key, onWait: onWait})
}

func queueOf(ctx context.Context) queue {
	q, _ := ctx.Value(queueKey{}).(queue)
	return q
}

// Acquire waits for a slot and returns a function that gives it back, or
// ctx's error when ctx ends first (its place in line is then freed).
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := queueOf(ctx)
	l.mu.Lock()
	if l.running < l.n && len(l.ring) == 0 {
		l.running++
		l.mu.Unlock()
		return l.releaseOnce(), nil
	}
	w := &waiter{ready: make(chan struct{}), moved: make(chan struct{}, 1)}
	l.enqueue(q.key, w)
	l.mu.Unlock()

	reported := 0
	report := func() {
		l.mu.Lock()
		p := w.place
		l.mu.Unlock()
		if p > 0 && p != reported && q.onWait != nil {
			q.onWait(p)
			reported = p
		}
	}
	done := func() {
		if reported != 0 && q.onWait != nil {
			q.onWait(0)
		}
	}
	report()
	for {
		select {
		case <-w.ready:
			done()
			return l.releaseOnce(), nil
		case <-w.moved:
			report()
		case <-ctx.Done():
			l.mu.Lock()
			granted := w.granted
			if !granted {
				l.remove(q.key, w)
			}
			l.mu.Unlock()
			if granted { // the slot came at the same moment: pass it on
				l.release()
			}
			done()
			return nil, ctx.Err()
		}
	}
}

// releaseOnce returns a release function that is safe to call twice.
func (l *Limiter) releaseOnce() func() {
	var once sync.Once
	return func() { once.Do(l.release) }
}

// release hands the slot to the next waiting call, or frees it.
func (l *Limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) == 0 {
		l.running--
		return
	}
	ln := l.ring[0]
	w := ln.waiters[0]
	ln.waiters = ln.waiters[1:]
	l.ring = l.ring[1:]
	if len(ln.waiters) > 0 {
		l.ring = append(l.ring, ln) // its next call waits for every other key's turn
	} else {
		delete(l.lanes, ln.key)
	}
	w.granted, w.place = true, 0
	close(w.ready)
	l.renumber()
}

// enqueue adds w to its key's lane; a new lane joins the end of the ring.
// The caller holds l.mu.
func (l *Limiter) enqueue(key string, w *waiter) {
	ln, ok := l.lanes[key]
	if !ok {
		ln = &lane{key: key}
		l.lanes[key] = ln
		l.ring = append(l.ring, ln)
	}
	ln.waiters = append(ln.waiters, w)
	l.renumber()
}

// remove takes a waiting call out of line. The caller holds l.mu.
func (l *Limiter) remove(key string, w *waiter) {
	ln, ok := l.lanes[key]
	if !ok {
		return
	}
	ln.waiters = slices.DeleteFunc(ln.waiters, func(x *waiter) bool { return x == w })
	if len(ln.waiters) == 0 {
		delete(l.lanes, key)
		l.ring = slices.DeleteFunc(l.ring, func(x *lane) bool { return x == ln })
	}
	l.renumber()
}

// renumber gives every waiting call its place in the order release serves
// them (one call per lane per round, lanes in ring order) and wakes those
// whose place changed. The caller holds l.mu.
func (l *Limiter) renumber() {
	place := 0
	for round := 0; ; round++ {
		served := false
		for _, ln := range l.ring {
			if round >= len(ln.waiters) {
				continue
			}
			served = true
			place++
			if w := ln.waiters[round]; w.place != place {
				w.place = place
				select {
				case w.moved <- struct{}{}:
				default: // already signalled; the waiter reads the latest place
				}
			}
		}
		if !served {
			return
		}
	}
}

// Wrap returns a ChatModel whose calls each hold one of l's slots.
func (l *Limiter) Wrap(m ChatModel) ChatModel { return &limitedChat{l: l, m: m} }

type limitedChat struct {
	l *Limiter
	m ChatModel
}

func (c *limitedChat) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	release, err := c.l.Acquire(ctx)
	if err != nil {
		return Response{}, err
	}
	defer release()
	return c.m.Stream(ctx, req, fn)
}

// WrapImages returns an ImageGenerator whose calls each hold one of l's
// slots, so image generation shares its provider's capacity.
func (l *Limiter) WrapImages(g ImageGenerator) ImageGenerator { return &limitedImages{l: l, g: g} }

type limitedImages struct {
	l *Limiter
	g ImageGenerator
}

func (c *limitedImages) Generate(ctx context.Context, req ImageRequest) ([]GeneratedImage, Usage, error) {
	release, err := c.l.Acquire(ctx)
	if err != nil {
		return nil, Usage{}, err
	}
	defer release()
	return c.g.Generate(ctx, req)
}
