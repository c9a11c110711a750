package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
)

// newManualClock is a clock that stands still until the test advances it:
// a Sleep blocks until Advance passes its deadline, so the order in which
// waiters are served is decided by the scheduler alone, never by timing.
func newManualClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// queued is how many waiters a scheduler holds.
func (s *Scheduler) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func TestSchedulerServesHigherPriorityFirst(t *testing.T) {
	clock := newManualClock()
	s := NewScheduler(Budget{Rate: 1, Burst: 1}, nil, clock)
	if err := s.Wait(context.Background()); err != nil { // the slot of t0
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	start := func(name string, p Priority, queued int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.WaitPriority(context.Background(), p); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, fmt.Sprintf("%s@%s", name, clock.Now().Format("05")))
			mu.Unlock()
		}()
		eventually.True(t, "s.queued() == queued", func() bool { return s.queued() == queued })
	}
	start("refresh1", PriorityRefresh, 1)
	start("refresh2", PriorityRefresh, 2)
	start("first", PriorityFirst, 3)
	start("urgent", PriorityUrgent, 4)
	for i := 1; i <= 4; i++ {
		eventually.True(t, "clock.Sleepers() > 0", func() bool { return clock.Sleepers() > 0 })
		clock.Advance(time.Second)
		eventually.True(t, "s.queued() == 4-i", func() bool { return s.queued() == 4-i })
	}
	wg.Wait()
	want := "[urgent@01 first@02 refresh1@03 refresh2@04]"
	if got := fmt.Sprint(order); got != want {
		t.Fatalf("grants %s, want %s (by priority, then arrival, one per second)", got, want)
	}
}

func TestSchedulerCountsSlotsWhenGrantedUnderAParent(t *testing.T) {
	clock := newFakeClock()
	global := NewScheduler(Budget{Rate: 100, Burst: 1}, nil, clock)
	hook := NewScheduler(Budget{Rate: 2, Burst: 1}, global, clock) // 500 ms
	// The token is blocked for 400 ms (a global 429): the webhook's first
	// request waits for it, the next one does not.
	global.Penalize(400*time.Millisecond, false)
	var grants []time.Time
	for i := 0; i < 3; i++ {
		if err := hook.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, clock.Now())
	}
	for i := 1; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-1]); gap < 500*time.Millisecond {
			t.Fatalf("webhook grants %d and %d %s apart, its budget is 2/s: waiting on the token squeezed them", i-1, i, gap)
		}
	}
}

func TestSchedulerCancelledWaiterHandsOn(t *testing.T) {
	clock := newManualClock()
	s := NewScheduler(Budget{Rate: 1, Burst: 1}, nil, clock)
	_ = s.Wait(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.WaitPriority(ctx, PriorityUrgent) }()
	eventually.True(t, "s.queued() == 1 && clock.Sleepers() == 1", func() bool { return s.queued() == 1 && clock.Sleepers() == 1 })
	done := make(chan error, 1)
	go func() { done <- s.Wait(context.Background()) }()
	eventually.True(t, "s.queued() == 2", func() bool { return s.queued() == 2 })
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled Wait returned nil")
	}
	eventually.True(t, "s.queued() == 1 && clock.Sleepers() == 1", func() bool { return s.queued() == 1 && clock.Sleepers() == 1 })
	clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// logSender writes to a shared log, so the order of several writers'
// requests can be checked.
type logSender struct {
	name string
	mu   *sync.Mutex
	log  *[]string
}

func (s *logSender) Send(_ context.Context, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.log = append(*s.log, s.name+" send "+text)
	return s.name, nil
}

func (s *logSender) Edit(_ context.Context, _, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.log = append(*s.log, s.name+" edit "+text)
	return nil
}

func TestStreamWriterFirstWordsAndPlaceholdersGoBeforeRefreshes(t *testing.T) {
	clock := newManualClock()
	sched := NewScheduler(Budget{Rate: 1, Burst: 1}, nil, clock)
	var mu sync.Mutex
	var log []string
	entries := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(log)
	}
	open := func(name string) *StreamWriter {
		return NewStreamWriter(context.Background(), &logSender{name: name, mu: &mu, log: &log}, WriterOptions{Clock: clock, Scheduler: sched})
	}
	// Advance grants the slot of the only waiter in the queue and waits
	// until its request is logged.
	step := func(queued, logged int) {
		t.Helper()
		eventually.True(t, "sched.queued() == queued && clock.Sleepers() > 0", func() bool { return sched.queued() == queued && clock.Sleepers() > 0 })
		clock.Advance(time.Second)
		eventually.True(t, "entries() == logged", func() bool { return entries() == logged })
	}

	a := open("A") // its placeholder takes the first slot at once
	eventually.True(t, "entries() == 1", func() bool { return entries() == 1 })
	a.Update("a1")
	step(1, 2) // A's first words
	a.Update("a2")
	eventually.True(t, "sched.queued() == 1 && clock.Sleepers() == 1", func() bool { return sched.queued() == 1 && clock.Sleepers() == 1 }) // A's refresh waits
	b := open("B")
	step(2, 3) // B's placeholder overtakes A's refresh
	step(1, 4) // then A's refresh
	a.Update("a3")
	eventually.True(t, "sched.queued() == 1 && clock.Sleepers() == 1", func() bool { return sched.queued() == 1 && clock.Sleepers() == 1 })
	b.Update("b1")
	step(2, 5) // B's first words overtake A's refresh
	step(1, 6)
	b.Update("b2")
	eventually.True(t, "sched.queued() == 1 && clock.Sleepers() == 1", func() bool { return sched.queued() == 1 && clock.Sleepers() == 1 }) // B's refresh waits
	closed := make(chan error, 1)
	go func() { closed <- a.Close(context.Background(), "a final") }()
	step(2, 7) // A's final overtakes B's refresh
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	step(1, 8)
	go func() { closed <- b.Close(context.Background(), "b final") }()
	step(1, 9)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	want := []string{"A send …", "A edit a1", "B send …", "A edit a2", "B edit b1", "A edit a3", "A edit a final", "B edit b2", "B edit b final"}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("requests\n%q\nwant\n%q", log, want)
	}
}

func TestStreamWriterWordsInPlaceholder(t *testing.T) {
	for _, merge := range []bool{false, true} {
		t.Run(fmt.Sprint("merge=", merge), func(t *testing.T) {
			clock := newManualClock()
			sched := NewScheduler(Budget{Rate: 1, Burst: 1}, nil, clock)
			_ = sched.Wait(context.Background()) // the budget is spent: the create waits
			var mu sync.Mutex
			var log []string
			w := NewStreamWriter(context.Background(), &logSender{name: "A", mu: &mu, log: &log},
				WriterOptions{Clock: clock, Scheduler: sched, WordsInPlaceholder: merge})
			eventually.True(t, "sched.queued() == 1 && clock.Sleepers() == 1", func() bool { return sched.queued() == 1 && clock.Sleepers() == 1 })
			w.Update("first words") // the first token arrives while the create waits
			closed := make(chan error, 1)
			go func() { closed <- w.Close(context.Background(), "first words") }()
			for {
				select {
				case err := <-closed:
					if err != nil {
						t.Fatal(err)
					}
					want := []string{"A send …", "A edit first words"}
					if merge {
						want = []string{"A send first words"} // one write, the words at once
					}
					mu.Lock()
					defer mu.Unlock()
					if fmt.Sprint(log) != fmt.Sprint(want) {
						t.Fatalf("requests %q, want %q", log, want)
					}
					return
				default:
				}
				if clock.Sleepers() > 0 {
					clock.Advance(time.Second)
				}
				time.Sleep(time.Millisecond) // polling the writer, not synchronising
			}
		})
	}
}
