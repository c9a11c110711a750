package roundtable

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
)

// boardConv is a fakeConv that keeps every text the live board showed.
type boardConv struct {
	*fakeConv
	mu    sync.Mutex
	texts []string
}

type boardStream struct {
	bot.Stream
	c *boardConv
}

func (c *boardConv) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	st, err := c.fakeConv.Open(ctx, p)
	if err != nil || p.Kind != bot.KindBoard {
		return st, err
	}
	return &boardStream{Stream: st, c: c}, nil
}

func (s *boardStream) Update(text string) {
	s.c.mu.Lock()
	s.c.texts = append(s.c.texts, text)
	s.c.mu.Unlock()
	s.Stream.Update(text)
}

func (c *boardConv) shown() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.texts)
}

// A session waiting for a model slot shows its place in line on its board,
// and the line disappears once its calls run.
func TestBoardShowsPlaceInLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := providers.NewLimiter(1)
	// Another session holds the only slot and has one more call in line.
	release, err := lim.Acquire(providers.WithQueue(ctx, "other", nil))
	if err != nil {
		t.Fatal(err)
	}
	otherQueued := make(chan struct{})
	otherDone := make(chan struct{})
	go func() {
		defer close(otherDone)
		queued := sync.OnceFunc(func() { close(otherQueued) })
		r, err := lim.Acquire(providers.WithQueue(ctx, "other", func(int) { queued() }))
		if err != nil {
			t.Error(err)
			return
		}
		r()
	}()
	<-otherQueued

	conv := &boardConv{fakeConv: &fakeConv{}}
	s, err := New(ctx, testConfig(), testDeps(lim.Wrap(newScripted()), newMemStore()), conv, Start{Channel: "test:1", Topic: "lanterns"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	const waiting = "Waiting for a model slot: place 2"
	eventually.True(t, "the board to show "+waiting, func() bool {
		return slices.ContainsFunc(conv.shown(), func(s string) bool { return strings.Contains(s, waiting) })
	})
	release()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	<-otherDone
	if text := s.board.text(false); strings.Contains(text, "Waiting for a model slot") {
		t.Errorf("the board still shows a place in line after the session:\n%s", text)
	}
}

func TestMinPlace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		slots map[int]int
		want  int
	}{{nil, 0}, {map[int]int{2: 5}, 5}, {map[int]int{-1: 4, 0: 2, 3: 7}, 2}} {
		if got := minPlace(tc.slots); got != tc.want {
			t.Errorf("minPlace(%v) = %d, want %d", tc.slots, got, tc.want)
		}
	}
}
