package providers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/providertest"
)

// places records the places in line one call was told.
type places struct {
	mu  sync.Mutex
	got []int
}

func (p *places) onWait(n int) {
	p.mu.Lock()
	p.got = append(p.got, n)
	p.mu.Unlock()
}

func (p *places) all() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

func (p *places) last() int {
	got := p.all()
	if len(got) == 0 {
		return -1
	}
	return got[len(got)-1]
}

// With LLM_CONCURRENCY=2, three sessions of six concurrent calls each never
// have more than two requests open at the provider, and every call ends.
func TestLimiterCapsCallsInFlight(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	fake.Barrier(2) // each request waits until two are open: the cap is used, never exceeded
	lim := providers.NewLimiter(2)
	model := lim.Wrap(client(t, fake))

	var wg sync.WaitGroup
	errs := make(chan error, 18)
	for s := range 3 {
		ctx := providers.WithQueue(context.Background(), fmt.Sprintf("session-%d", s), nil)
		for seat := range 6 {
			wg.Go(func() {
				r := req
				r.Tag = fmt.Sprintf("s%d/seat%d", s, seat)
				if _, err := model.Stream(ctx, r, func(providers.Delta) error { return nil }); err != nil {
					errs <- fmt.Errorf("%s: %w", r.Tag, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(fake.Requests()); got != 18 {
		t.Errorf("provider saw %d requests, want 18", got)
	}
	if got := fake.MaxOpen(); got != 2 {
		t.Errorf("at most %d requests were open at once, want exactly 2", got)
	}
	if lim.InFlight() != 0 || lim.Waiting() != 0 {
		t.Errorf("after the calls: %d in flight, %d waiting; want 0 and 0", lim.InFlight(), lim.Waiting())
	}
}

// heldModel starts a call by announcing its tag, then holds it until the
// test closes the tag's channel.
type heldModel struct {
	started chan string
	release map[string]chan struct{}
}

func (h *heldModel) Stream(ctx context.Context, r providers.Request, _ providers.StreamFunc) (providers.Response, error) {
	h.started <- r.Tag
	select {
	case <-h.release[r.Tag]:
		return providers.Response{Text: "ok"}, nil
	case <-ctx.Done():
		return providers.Response{}, ctx.Err()
	}
}

func newHeld(tags ...string) *heldModel {
	h := &heldModel{started: make(chan string, len(tags)), release: map[string]chan struct{}{}}
	for _, tag := range tags {
		h.release[tag] = make(chan struct{})
	}
	return h
}

// Waiting calls are served round-robin by session: a session with many
// calls in line cannot starve the others.
func TestLimiterServesSessionsRoundRobin(t *testing.T) {
	h := newHeld("A1", "A2", "A3", "A4", "B1", "B2", "C1")
	lim := providers.NewLimiter(2)
	model := lim.Wrap(h)
	pl := map[string]*places{}
	var wg sync.WaitGroup
	call := func(tag string) {
		pl[tag] = &places{}
		ctx := providers.WithQueue(context.Background(), tag[:1], pl[tag].onWait)
		wg.Go(func() {
			if _, err := model.Stream(ctx, providers.Request{Tag: tag}, nil); err != nil {
				t.Errorf("%s: %v", tag, err)
			}
		})
	}
	// A1 and A2 take both slots.
	call("A1")
	call("A2")
	for range 2 {
		<-h.started
	}
	// The others queue one by one, each first told its place.
	for _, c := range []struct {
		tag   string
		place int
	}{{"A3", 1}, {"A4", 2}, {"B1", 2}, {"B2", 4}, {"C1", 3}} {
		call(c.tag)
		eventually.True(t, c.tag+" to queue", func() bool { return len(pl[c.tag].all()) > 0 })
		if got := pl[c.tag].all()[0]; got != c.place {
			t.Errorf("%s was first told place %d, want %d", c.tag, got, c.place)
		}
	}
	if len(pl["A1"].all())+len(pl["A2"].all()) != 0 {
		t.Errorf("calls that got a slot at once were told places: %v %v", pl["A1"].all(), pl["A2"].all())
	}
	// Places after everyone queued: one call per session per round.
	want := map[string]int{"A3": 1, "B1": 2, "C1": 3, "A4": 4, "B2": 5}
	for tag, place := range want {
		eventually.True(t, fmt.Sprintf("%s at place %d", tag, place), func() bool { return pl[tag].last() == place })
	}
	// Each release hands the slot to the next session in turn.
	for _, step := range []struct{ release, next string }{
		{"A1", "A3"}, {"A2", "B1"}, {"A3", "C1"}, {"B1", "A4"}, {"C1", "B2"},
	} {
		close(h.release[step.release])
		if got := <-h.started; got != step.next {
			t.Fatalf("after %s finished, %s got the slot; want %s", step.release, got, step.next)
		}
	}
	for _, tag := range []string{"A4", "B2"} {
		close(h.release[tag])
	}
	wg.Wait()
	for tag := range want {
		if got := pl[tag].last(); got != 0 {
			t.Errorf("%s was last told place %d, want 0 once it ran", tag, got)
		}
	}
	if lim.InFlight() != 0 {
		t.Errorf("%d calls still in flight", lim.InFlight())
	}
}

// A call cancelled while waiting returns ctx's error and frees its place.
func TestLimiterCancelWhileWaiting(t *testing.T) {
	h := newHeld("run", "later")
	lim := providers.NewLimiter(1)
	model := lim.Wrap(h)
	done := make(chan error, 3)
	go func() {
		_, err := model.Stream(context.Background(), providers.Request{Tag: "run"}, nil)
		done <- err
	}()
	<-h.started

	gone, later := &places{}, &places{}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := model.Stream(providers.WithQueue(ctx, "x", gone.onWait), providers.Request{Tag: "gone"}, nil)
		done <- err
	}()
	eventually.True(t, "the first waiter to queue", func() bool { return gone.last() == 1 })
	go func() {
		_, err := model.Stream(providers.WithQueue(context.Background(), "y", later.onWait), providers.Request{Tag: "later"}, nil)
		done <- err
	}()
	eventually.True(t, "the second waiter to queue", func() bool { return later.last() == 2 })

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call returned %v, want context.Canceled", err)
	}
	if got := gone.last(); got != 0 {
		t.Errorf("cancelled call was last told place %d, want 0", got)
	}
	eventually.True(t, "the second waiter to move up", func() bool { return later.last() == 1 })
	if lim.Waiting() != 1 {
		t.Errorf("%d calls waiting, want 1", lim.Waiting())
	}

	close(h.release["run"])
	if got := <-h.started; got != "later" {
		t.Fatalf("%s got the slot, want later", got)
	}
	close(h.release["later"])
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if lim.InFlight() != 0 || lim.Waiting() != 0 {
		t.Errorf("%d in flight, %d waiting; want 0 and 0", lim.InFlight(), lim.Waiting())
	}
}

func TestLimiterCancelledContextDoesNotQueue(t *testing.T) {
	lim := providers.NewLimiter(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lim.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on a cancelled context: %v", err)
	}
	release, err := lim.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // a second call is harmless
	if lim.InFlight() != 0 {
		t.Errorf("%d in flight after release", lim.InFlight())
	}
}
