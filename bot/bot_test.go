package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/eventually"
)

// fakeClock advances only when someone sleeps: Sleep moves time forward
// at once, so pacing is exact and tests never wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept = append(c.slept, d)
	}
	return nil
}

func TestSplit(t *testing.T) {
	long := strings.Repeat("word ", 30)
	cases := []struct {
		name  string
		text  string
		limit int
		check func(t *testing.T, parts []string)
	}{
		{"short stays whole", "hello", 20, func(t *testing.T, p []string) {
			if len(p) != 1 || p[0] != "hello" {
				t.Fatalf("%q", p)
			}
		}},
		{"paragraph boundary preferred", "first paragraph here.\n\nsecond paragraph is longer than that", 40, func(t *testing.T, p []string) {
			if p[0] != "first paragraph here." {
				t.Fatalf("%q", p)
			}
		}},
		{"sentence boundary", "One sentence. Two sentences here. Three more words", 36, func(t *testing.T, p []string) {
			if p[0] != "One sentence. Two sentences here." {
				t.Fatalf("%q", p)
			}
		}},
		{"cjk sentence", strings.Repeat("剪纸很美。", 10), 23, func(t *testing.T, p []string) {
			for _, s := range p[:len(p)-1] {
				if !strings.HasSuffix(s, "。") {
					t.Fatalf("cut mid-sentence: %q", p)
				}
			}
		}},
		{"code fence closed and reopened", "intro\n```go\n" + strings.Repeat("x := 1\n", 10) + "```\nend", 40, func(t *testing.T, p []string) {
			for _, s := range p {
				if strings.Count(s, "```")%2 != 0 {
					t.Fatalf("unbalanced fence in %q", s)
				}
			}
			if !strings.HasPrefix(p[1], "```go\n") {
				t.Fatalf("fence not reopened with its language: %q", p[1])
			}
		}},
		{"no word is lost", long, 32, func(t *testing.T, p []string) {
			if got := strings.Join(strings.Fields(strings.Join(p, " ")), " "); got != strings.TrimSpace(long) {
				t.Fatalf("text changed: %q", got)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts := Split(c.text, c.limit, nil)
			for _, p := range parts {
				if RuneLen(p) > c.limit {
					t.Fatalf("part over the limit (%d > %d): %q", RuneLen(p), c.limit, p)
				}
			}
			c.check(t, parts)
		})
	}
	// Telegram counts UTF-16 units: an emoji is two.
	if parts := Split(strings.Repeat("😀", 20), 16, UTF16Len); len(parts) != 3 || UTF16Len(parts[0]) > 16 {
		t.Fatalf("utf16 split: %q", parts)
	}
}

// sender records platform calls and can fail them.
type sender struct {
	mu    sync.Mutex
	clock *fakeClock
	sent  []string
	edits map[string][]string
	times []time.Time
	fail  func(op string, n int) error
	n     int
}

func (s *sender) Send(_ context.Context, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.fail != nil {
		if err := s.fail("send", s.n); err != nil {
			return "", err
		}
	}
	id := string(rune('a' + len(s.sent)))
	s.sent = append(s.sent, text)
	s.edits[id] = append(s.edits[id], text)
	s.times = append(s.times, s.clock.Now())
	return id, nil
}

func (s *sender) Edit(_ context.Context, id, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.fail != nil {
		if err := s.fail("edit", s.n); err != nil {
			return err
		}
	}
	s.edits[id] = append(s.edits[id], text)
	s.times = append(s.times, s.clock.Now())
	return nil
}

func (s *sender) last(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.edits[id]
	return e[len(e)-1]
}

func newSender(c *fakeClock) *sender { return &sender{clock: c, edits: map[string][]string{}} }

func TestStreamWriterDeliversFinalTextAndPaces(t *testing.T) {
	clock := newFakeClock()
	s := newSender(clock)
	gate := make(chan struct{})
	var edits atomic.Int32
	s.fail = func(op string, _ int) error {
		if op == "edit" {
			if edits.Add(1) == 1 {
				<-gate // the platform is slow: every update meanwhile must coalesce
			}
		}
		return nil
	}
	w := NewStreamWriter(context.Background(), s, WriterOptions{Limit: 2000, MinInterval: time.Second, Clock: clock})
	w.Update("token ")
	eventually.True(t, "edits.Load() == 1", func() bool { return edits.Load() == 1 })
	text := "token "
	for i := 0; i < 200; i++ {
		text += "token "
		w.Update(text)
	}
	close(gate)
	if err := w.Close(context.Background(), text+"end."); err != nil {
		t.Fatal(err)
	}
	if got := s.last("a"); got != text+"end." {
		t.Fatalf("final text %q", got)
	}
	if s.sent[0] != "…" {
		t.Fatalf("placeholder %q", s.sent[0])
	}
	// placeholder, the held edit, one edit for the 200 updates, the final
	if n := len(s.edits["a"]); n > 4 {
		t.Fatalf("%d writes for 200 updates: updates were not coalesced", n)
	}
	for i := 1; i < len(s.times); i++ {
		if gap := s.times[i].Sub(s.times[i-1]); gap < time.Second {
			t.Fatalf("writes %d and %d only %s apart", i-1, i, gap)
		}
	}
}

func TestStreamWriterSplitsLongText(t *testing.T) {
	clock := newFakeClock()
	s := newSender(clock)
	w := NewStreamWriter(context.Background(), s, WriterOptions{Limit: 50, Clock: clock})
	text := strings.Repeat("A sentence of words. ", 10)
	w.Update(text)
	if err := w.Close(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	var joined []string
	for _, id := range w.IDs() {
		joined = append(joined, s.last(id))
	}
	if len(joined) < 4 || strings.Join(strings.Fields(strings.Join(joined, " ")), " ") != strings.TrimSpace(text) {
		t.Fatalf("parts %q", joined)
	}
}

func TestStreamWriterHonours429AndKeepsText(t *testing.T) {
	clock := newFakeClock()
	s := newSender(clock)
	s.fail = func(op string, n int) error {
		if n >= 2 && n <= 4 {
			return &RateLimitError{RetryAfter: 3 * time.Second}
		}
		return nil
	}
	sched := NewScheduler(Budget{Rate: 100, Burst: 1}, nil, clock)
	var retries, delivered, deliveries atomic.Int32
	o := WriterOptions{Limit: 2000, Clock: clock, Scheduler: sched}
	WriterHooks{OnRetry: func() { retries.Add(1) },
		OnDelivered: func(n int) { deliveries.Add(1); delivered.Store(int32(n)) }}.Apply(&o)
	w := NewStreamWriter(context.Background(), s, o)
	w.Update("partial")
	if err := w.Close(context.Background(), "complete text"); err != nil {
		t.Fatal(err)
	}
	if got := s.last("a"); got != "complete text" {
		t.Fatalf("final %q", got)
	}
	if retries.Load() != 3 || deliveries.Load() != 1 || int(delivered.Load()) != len(s.edits["a"])-1 {
		t.Errorf("hooks: %d retries (want 3), %d deliveries after %d edits (want 1 after %d)",
			retries.Load(), deliveries.Load(), delivered.Load(), len(s.edits["a"])-1)
	}
	waited := time.Duration(0)
	for _, d := range clock.slept {
		waited += d
	}
	if waited < 9*time.Second {
		t.Fatalf("waited %s for three 429s of 3 s each", waited)
	}
}

func TestStreamWriterGoneEndsTheStream(t *testing.T) {
	clock := newFakeClock()
	s := newSender(clock)
	s.fail = func(op string, n int) error {
		if op == "edit" {
			return ErrGone
		}
		return nil
	}
	w := NewStreamWriter(context.Background(), s, WriterOptions{Clock: clock})
	w.Update("text")
	if err := w.Close(context.Background(), "final"); !errors.Is(err, ErrGone) {
		t.Fatalf("Close = %v, want ErrGone", err)
	}
}

func TestStreamWriterFinalSurvivesCancel(t *testing.T) {
	clock := newFakeClock()
	s := newSender(clock)
	ctx, cancel := context.WithCancel(context.Background())
	w := NewStreamWriter(ctx, s, WriterOptions{Clock: clock})
	w.Update("half a sent")
	cancel() // /stop
	if err := w.Close(context.Background(), "half a sent… (stopped)"); err != nil {
		t.Fatal(err)
	}
	if got := s.last("a"); got != "half a sent… (stopped)" {
		t.Fatalf("final %q", got)
	}
}

// TestStreamWriterCloseThen: the final text is delivered without the
// caller waiting, and done is called once: with nil when shown, with the
// context's error when ctx ends first, with ErrGone for a deleted message.
func TestStreamWriterCloseThen(t *testing.T) {
	t.Run("shown", func(t *testing.T) {
		s := newSender(newFakeClock())
		w := NewStreamWriter(context.Background(), s, WriterOptions{Clock: s.clock})
		w.Update("half")
		got := make(chan error, 2)
		w.CloseThen(context.Background(), "whole text", func(err error) { got <- err })
		if err := <-got; err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
		if last := s.last("a"); last != "whole text" {
			t.Fatalf("final %q", last)
		}
		w.CloseThen(context.Background(), "again", func(err error) { got <- err }) // after the end: at once
		if err := <-got; err != nil || len(got) != 0 {
			t.Fatalf("second CloseThen: %v, %d more", err, len(got))
		}
	})
	t.Run("ctx ends first", func(t *testing.T) {
		s := newSender(newFakeClock())
		release := make(chan struct{})
		s.fail = func(op string, _ int) error {
			if op == "edit" {
				<-release // the platform hangs on the final edit
			}
			return nil
		}
		w := NewStreamWriter(context.Background(), s, WriterOptions{Clock: s.clock})
		eventually.True(t, "len(w.IDs()) == 1", func() bool { return len(w.IDs()) == 1 })
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int32
		got := make(chan error, 2)
		w.CloseThen(ctx, "final", func(err error) { calls.Add(1); got <- err })
		cancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Fatalf("done(%v), want context.Canceled", err)
		}
		close(release)
		if err := w.Close(context.Background(), ""); err != nil { // waits for the writer's end
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("done called %d times, want once", n)
		}
	})
	t.Run("gone", func(t *testing.T) {
		s := newSender(newFakeClock())
		s.fail = func(op string, _ int) error {
			if op == "edit" {
				return ErrGone
			}
			return nil
		}
		w := NewStreamWriter(context.Background(), s, WriterOptions{Clock: s.clock})
		got := make(chan error, 1)
		w.CloseThen(context.Background(), "final", func(err error) { got <- err })
		if err := <-got; !errors.Is(err, ErrGone) {
			t.Fatalf("done(%v), want ErrGone", err)
		}
	})
	var _ AsyncCloser = (*StreamWriter)(nil)
}

func TestSchedulerIsFairAndPaced(t *testing.T) {
	clock := newFakeClock()
	global := NewScheduler(Budget{Rate: 10, Burst: 1}, nil, clock)
	ch := NewScheduler(Budget{Rate: 2, Burst: 1}, global, clock)
	var mu sync.Mutex
	var grants []time.Time
	for i := 0; i < 6; i++ {
		if err := ch.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		grants = append(grants, clock.Now())
		mu.Unlock()
	}
	for i := 1; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-1]); gap < 500*time.Millisecond {
			t.Fatalf("grants %d and %d %s apart, budget is 2/s", i-1, i, gap)
		}
	}
	// A 429 blocks the channel for its retry_after.
	before := clock.Now()
	ch.Penalize(5*time.Second, false)
	if err := ch.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if clock.Now().Sub(before) < 5*time.Second {
		t.Fatalf("slot granted %s after a 5 s penalty", clock.Now().Sub(before))
	}
	leave := ch.Join()
	ch.Join()
	if got := ch.Share(); got != time.Second {
		t.Fatalf("two streams on 2/s share %s each, want 1s", got)
	}
	leave()
	leave() // twice is harmless
	if got := ch.Share(); got != 500*time.Millisecond {
		t.Fatalf("share after leaving %s", got)
	}
}
