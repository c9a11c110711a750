package bot

import (
	"container/heap"
	"context"
	"sync"
	"time"

	iclock "github.com/tableround/tableround/internal/clock"
)

// Clock is the time source of pacing, injected so tests never really
// wait: internal/clock's, so that one clock (clock.Manual, clock.Scaled)
// drives the adapters, their schedulers and the fakes alike.
type Clock = iclock.Clock

// Budget is a request allowance: Rate requests per second on average with
// bursts of up to Burst.
type Budget struct {
	Rate  float64
	Burst int
}

// Priority orders the waiters of a scheduler: a higher priority is served
// first, equal priorities in arrival order.
type Priority int

// Priorities, lowest first.
const (
	// PriorityRefresh is a further edit of text already on screen.
	PriorityRefresh Priority = iota
	// PriorityFirst is what people wait for most: a placeholder, a
	// speaker's first words, a final edit.
	PriorityFirst
	// PriorityUrgent is a one-off call with a deadline (an interaction's
	// answer, setting up a session's place).
	PriorityUrgent
)

// Scheduler hands out request slots of one budget (a Discord webhook, a
// Telegram chat, a bot token) by priority and then in arrival order, so
// every message streaming into a channel gets its fair share, a new
// speaker's first words never queue behind refreshes of older messages, and
// the budget is never exceeded. A scheduler may have a parent (the per-token
// global budget) that each slot must also pass: a waiter first waits for a
// slot of its own budget, then, keeping its place, for one of the parent's,
// and the slot is counted on both at the moment it is granted, so waiting
// on the parent never squeezes two slots of the child closer together than
// its budget allows.
type Scheduler struct {
	budget Budget
	parent *Scheduler
	clock  Clock

	mu      sync.Mutex
	tat     time.Time // theoretical arrival time of the next slot (GCRA)
	blocked time.Time // no slot before this (after a 429)
	active  int       // streams currently sharing this scheduler
	queue   waitQueue // waiters not yet granted
	passing bool      // the head is waiting on the parent
	seq     uint64
	lane    bool     // made by Lane: Join joins the parent too
	last    Priority // a lane's priority of its last grant
}

// NewScheduler returns a scheduler for budget b. parent may be nil; clock
// nil means the wall clock.
func NewScheduler(b Budget, parent *Scheduler, clock Clock) *Scheduler {
	if clock == nil {
		clock = iclock.Real{}
	}
	if b.Rate <= 0 {
		b.Rate = 1
	}
	if b.Burst < 1 {
		b.Burst = 1
	}
	return &Scheduler{budget: b, parent: parent, clock: clock}
}

func (s *Scheduler) interval() time.Duration {
	return time.Duration(float64(time.Second) / s.budget.Rate)
}

// Wait blocks until a slot is free on this scheduler and its parents, at
// PriorityRefresh.
func (s *Scheduler) Wait(ctx context.Context) error {
	return s.WaitPriority(ctx, PriorityRefresh)
}

// WaitPriority blocks until a slot is free on this scheduler and its
// parents; waiters of a higher priority are served first.
func (s *Scheduler) WaitPriority(ctx context.Context, p Priority) error {
	w := &waiter{pri: p, wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.seq++
	w.seq = s.seq
	heap.Push(&s.queue, w)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if w.index >= 0 {
			heap.Remove(&s.queue, w.index)
			s.wakeHead()
		}
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		if s.passing || s.queue[0] != w {
			s.mu.Unlock()
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		now := s.clock.Now()
		at := s.earliest()
		if now.Before(at) {
			s.mu.Unlock()
			if err := s.clock.Sleep(ctx, at.Sub(now)); err != nil {
				return err
			}
			continue // a higher priority may have arrived, or a 429
		}
		if s.parent == nil {
			s.grant(w, now)
			s.last = p
			s.mu.Unlock()
			return nil
		}
		s.passing = true
		s.mu.Unlock()
		err := s.parent.WaitPriority(ctx, p)
		s.mu.Lock()
		s.passing = false
		now = s.clock.Now()
		if err == nil && !now.Before(s.blocked) {
			s.grant(w, now)
			s.last = p
			s.mu.Unlock()
			return nil
		}
		// Cancelled, or a 429 arrived while we waited on the parent (its
		// slot is lost): let the head, maybe us, try again.
		s.wakeHead()
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// earliest is the time of the next slot (s.mu held): unused slots
// accumulate up to Burst.
func (s *Scheduler) earliest() time.Time {
	at := s.tat.Add(-time.Duration(s.budget.Burst-1) * s.interval())
	if at.Before(s.blocked) {
		at = s.blocked
	}
	return at
}

// grant counts a slot taken at now and hands the turn on (s.mu held).
func (s *Scheduler) grant(w *waiter, now time.Time) {
	if s.tat.Before(now) {
		s.tat = now
	}
	s.tat = s.tat.Add(s.interval())
	heap.Remove(&s.queue, w.index)
	s.wakeHead()
}

// wakeHead tells the first waiter it may go (s.mu held).
func (s *Scheduler) wakeHead() {
	if len(s.queue) > 0 && !s.passing {
		select {
		case s.queue[0].wake <- struct{}{}:
		default:
		}
	}
}

// Penalize blocks every slot for d (a 429's retry_after). A global 429
// blocks the parent too.
func (s *Scheduler) Penalize(d time.Duration, global bool) {
	if global && s.parent != nil {
		s.parent.Penalize(d, true)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.clock.Now().Add(d); until.After(s.blocked) {
		s.blocked = until
	}
}

// Join registers a stream sharing the budget (and its parent's, for a
// Lane); the returned func leaves.
func (s *Scheduler) Join() (leave func()) {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
	up := func() {}
	if s.lane && s.parent != nil {
		up = s.parent.Join()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
			up()
		})
	}
}

// Lane returns a scheduler for one stream through s: it adds no budget of
// its own, joining it joins s, and it remembers the priority of its last
// grant (LastPriority), so the stream's Sender knows whether the request
// it is making is a refresh or one people wait for.
func (s *Scheduler) Lane() *Scheduler {
	l := NewScheduler(Budget{Rate: 1e9, Burst: 1}, s, s.clock)
	l.lane = true
	return l
}

// LastPriority is the priority of the last slot granted.
func (s *Scheduler) LastPriority() Priority {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Rate is the budget's current rate in requests per second.
func (s *Scheduler) Rate() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget.Rate
}

// SetRate changes the budget's rate (an adaptive budget). The slots taken
// but not yet earned back stay taken: what is used of the burst stays
// used, at the new spacing.
func (s *Scheduler) SetRate(r float64) {
	if r <= 0 {
		return
	}
	s.mu.Lock()
	now := s.clock.Now()
	if debt := s.tat.Sub(now); debt > 0 {
		s.tat = now.Add(time.Duration(float64(debt) * s.budget.Rate / r))
	}
	s.budget.Rate = r
	s.wakeHead()
	s.mu.Unlock()
}

// Hold blocks every slot for d and spends the burst, so that after the
// wait slots come one interval apart: a 429 whose window others filled
// (a limit shared with writes the scheduler does not see) frees its slots
// one by one, not all at once.
func (s *Scheduler) Hold(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := s.clock.Now().Add(d)
	if until.After(s.blocked) {
		s.blocked = until
	}
	if drained := until.Add(time.Duration(s.budget.Burst-1) * s.interval()); drained.After(s.tat) {
		s.tat = drained
	}
}

// Waiting is the number of requests queued for a slot now (a backlog).
func (s *Scheduler) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Blocked is when the last 429's wait ends (zero or past: none).
func (s *Scheduler) Blocked() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blocked
}

// Active is the number of streams sharing the budget now.
func (s *Scheduler) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Share is the interval each active stream gets: the budget's interval
// times the number of streams sharing it.
func (s *Scheduler) Share() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.active
	if n < 1 {
		n = 1
	}
	return time.Duration(n) * s.interval()
}

// waiter is one Wait call in a scheduler's queue.
type waiter struct {
	pri   Priority
	seq   uint64
	index int // in the heap; -1 once granted or gone
	wake  chan struct{}
}

// waitQueue is a heap: highest priority first, then arrival order.
type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if q[i].pri != q[j].pri {
		return q[i].pri > q[j].pri
	}
	return q[i].seq < q[j].seq
}
func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *waitQueue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	w.index = -1
	*q = old[:len(old)-1]
	return w
}

// Free is how many slots could be granted at once now, ignoring waiters
// and the parent: the unused part of the burst (0 while a 429 holds it).
// An adapter uses it to decide whether a channel can afford several new
// messages at once.
func (s *Scheduler) Free() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if now.Before(s.blocked) {
		return 0
	}
	debt := s.tat.Sub(now)
	if debt <= 0 {
		return s.budget.Burst
	}
	used := int((debt + s.interval() - 1) / s.interval())
	return max(0, s.budget.Burst-used)
}
