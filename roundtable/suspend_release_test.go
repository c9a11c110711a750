package roundtable

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

// heldBoardConv is a chat whose board cannot be written any more (its
// budget is blocked, as after a Telegram 429 with a long retry_after): the
// board's Close waits for its context and records the deadline it got.
type heldBoardConv struct {
	fakeConv
	mu       sync.Mutex
	deadline time.Duration // how long the board's Close was allowed to wait
	closed   chan struct{}
}

type heldBoard struct {
	bot.Stream
	c *heldBoardConv
}

func (c *heldBoardConv) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	st, err := c.fakeConv.Open(ctx, p)
	if err != nil || p.Kind != bot.KindBoard {
		return st, err
	}
	return &heldBoard{Stream: st, c: c}, nil
}

func (b *heldBoard) Close(ctx context.Context, _ string) error {
	dl, ok := ctx.Deadline()
	b.c.mu.Lock()
	b.c.deadline = -1
	if ok {
		b.c.deadline = time.Until(dl)
	}
	b.c.mu.Unlock()
	close(b.c.closed)
	<-ctx.Done()
	return ctx.Err()
}

// TestSuspendDoesNotWaitOutTheBoard: a session suspended by a shutdown
// while its board's last refresh is held by the chat's budget gives the
// board only releaseWait, so the shutdown is not held for the budget
// (it was 30 s, beyond serve's grace); the session is still suspended,
// checkpointed and running for whoever resumes it.
func TestSuspendDoesNotWaitOutTheBoard(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	inDiscussion := make(chan struct{})
	var once sync.Once
	e.model.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, StageDiscussion+"/") {
			once.Do(func() { close(inDiscussion) })
			return errHold
		}
		return nil
	}
	conv := &heldBoardConv{closed: make(chan struct{})}
	m := e.manager("p1", nil)
	stop := serve(t, m)
	id := start(t, m, "test:held", "umbrellas", ann, conv)
	<-inDiscussion
	stop() // SIGTERM; returns once the session has stopped
	select {
	case <-conv.closed:
	default:
		t.Fatal("the suspended session did not close its board")
	}
	conv.mu.Lock()
	wait := conv.deadline
	conv.mu.Unlock()
	if wait < 0 || wait > releaseWait {
		t.Errorf("the board's Close could wait %v, want at most releaseWait (%v)", wait, releaseWait)
	}
	if st := status(e.store, id); st != store.StatusRunning {
		t.Errorf("status after suspend = %s, want running (for takeover)", st)
	}
}
