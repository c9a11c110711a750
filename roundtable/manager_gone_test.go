package roundtable

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/storetest"
)

// TestOrphanWhoseConversationIsGoneIsAbandoned: when the resumer says the
// conversation is gone for good, the orphan is marked failed and never
// tried again; after another resume error it is tried again once the
// lease taken for the attempt expires (and not before).
func TestOrphanWhoseConversationIsGoneIsAbandoned(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	ctx := context.Background()
	for _, id := range []string{"gone", "flaky"} {
		if err := e.store.CreateSession(ctx, storetest.NewSession(e.clock, id, "test:"+id)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AcquireLease(ctx, "test:"+id, id, "crashed", 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var calls sync.Map // channel → *atomic.Int32
	m := e.manager("p1", func(_ context.Context, ch string) (bot.Conversation, error) {
		n, _ := calls.LoadOrStore(ch, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if ch == "test:gone" {
			return nil, fmt.Errorf("thread deleted: %w", bot.ErrGone)
		}
		return nil, fmt.Errorf("the platform is down")
	})
	scan := func(after time.Duration) {
		e.clock.Advance(after)
		m.resumeOrphans(ctx, &sync.WaitGroup{})
	}
	scan(31 * time.Second) // the crashed owner's lease expired
	scan(time.Second)      // the attempt's lease still holds
	scan(31 * time.Second) // now it expired too
	count := func(ch string) int32 {
		n, ok := calls.Load(ch)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}
	if got := count("test:gone"); got != 1 {
		t.Errorf("a gone conversation was tried %d times, want once", got)
	}
	if got := count("test:flaky"); got != 2 {
		t.Errorf("a failing resume was tried %d times, want at every scan (2)", got)
	}
	if st := status(e.store, "gone"); st != store.StatusFailed {
		t.Errorf("gone session status = %s, want failed", st)
	}
	if st := status(e.store, "flaky"); st != store.StatusRunning {
		t.Errorf("flaky session status = %s, want still running", st)
	}
}
