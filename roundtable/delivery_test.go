package roundtable

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/transcript"
)

// slowChat is a chat that shows nothing while the session could still go
// on: a message's final text is shown (in the order the messages were
// closed) only while the board says the session waits for the chat, or
// once the board is closed. A session without backpressure would run to
// its end with everything still owed.
type slowChat struct {
	mu     sync.Mutex
	log    []string // "open <n> <kind>" and "shown <n>", in order
	seq    int
	queue  []*slowMsg
	board  string
	closed bool
	poke   chan struct{}
	owed   int // closed, not shown
}

type slowMsg struct {
	c    *slowChat
	n    int
	kind bot.Kind
	done chan struct{}
}

func newSlowChat() *slowChat { return &slowChat{poke: make(chan struct{}, 1)} }

func (c *slowChat) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Kind == bot.KindBoard {
		c.board = p.Placeholder
		return &slowBoard{c: c}, nil
	}
	c.seq++
	c.log = append(c.log, fmt.Sprintf("open %d %d", c.seq, p.Kind))
	return &slowMsg{c: c, n: c.seq, kind: p.Kind, done: make(chan struct{})}, nil
}

func (c *slowChat) SendImage(context.Context, bot.Persona, bot.Attachment, string) error { return nil }

func (c *slowChat) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	return bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}, nil
}

func (c *slowChat) wake() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (m *slowMsg) Update(string) {}

func (m *slowMsg) Close(ctx context.Context, _ string) error {
	m.c.mu.Lock()
	m.c.queue = append(m.c.queue, m)
	m.c.owed++
	m.c.mu.Unlock()
	m.c.wake()
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type slowBoard struct{ c *slowChat }

func (b *slowBoard) Update(text string) {
	b.c.mu.Lock()
	b.c.board = text
	b.c.mu.Unlock()
	b.c.wake()
}

func (b *slowBoard) Close(_ context.Context, final string) error {
	b.c.mu.Lock()
	b.c.board, b.c.closed = final, true
	b.c.mu.Unlock()
	b.c.wake()
	return nil
}

// deliver shows queued messages one by one while the gate is open, until
// ctx ends.
func (c *slowChat) deliver(ctx context.Context) {
	for {
		select {
		case <-c.poke:
		case <-ctx.Done():
			return
		}
		for {
			c.mu.Lock()
			open := c.closed || strings.Contains(c.board, "Waiting for the chat")
			if !open || len(c.queue) == 0 {
				c.mu.Unlock()
				break
			}
			m := c.queue[0]
			c.queue = c.queue[1:]
			c.owed--
			c.log = append(c.log, fmt.Sprintf("shown %d", m.n))
			c.mu.Unlock()
			close(m.done)
		}
	}
}

// lagCount is a LagObserver counting what it is told.
type lagCount struct {
	nopObserver
	mu    sync.Mutex
	count int
}

func (l *lagCount) ChatLag(time.Duration) { l.mu.Lock(); l.count++; l.mu.Unlock() }

func (l *lagCount) n() int { l.mu.Lock(); defer l.mu.Unlock(); return l.count }

// TestSessionWaitsForASlowChat: under a chat that shows nothing while the
// session could go on, every message of a stage is shown before the next
// stage's banner is opened, and no sequential speaker is called while
// more than the delivery window is owed.
func TestSessionWaitsForASlowChat(t *testing.T) {
	t.Parallel()
	for _, window := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("window %d", window), func(t *testing.T) {
			t.Parallel()
			chat := newSlowChat()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go chat.deliver(ctx)
			m := newScripted()
			var worst int
			m.override = func(req providers.Request) (string, bool) {
				if st := stageOf(req); st != StageDiscussion && st != StageSwitch && st != StageWorkshop {
					return "", false // a concurrent stage's early finishers are owed while the others speak
				}
				chat.mu.Lock()
				worst = max(worst, chat.owed)
				chat.mu.Unlock()
				return "", false
			}
			cfg := testConfig()
			cfg.DeliveryWindow = window
			deps := testDeps(m, newMemStore())
			lags := &lagCount{}
			deps.Observer = lags
			s, err := runSession(t, cfg, deps, chat, Start{Topic: "a lantern"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if want := len(deps.Store.(*memStore).eventsOf(s.ID(), transcript.EventSpeech)); lags.n() != want || want == 0 {
				t.Errorf("chat lag observed %d times for %d speeches", lags.n(), want)
			}
			if worst > window {
				t.Errorf("a model call started while %d messages were owed (window %d)", worst, window)
			}
			chat.mu.Lock()
			defer chat.mu.Unlock()
			shown := map[int]bool{}
			opened := []int{}
			banners := 0
			for _, e := range chat.log {
				var n, kind int
				if _, err := fmt.Sscanf(e, "shown %d", &n); err == nil {
					shown[n] = true
					continue
				}
				fmt.Sscanf(e, "open %d %d", &n, &kind)
				if bot.Kind(kind) == bot.KindBanner {
					banners++
					for _, o := range opened {
						if !shown[o] {
							t.Fatalf("banner %d opened while message %d of the previous stage was not shown:\n%s", banners, o, strings.Join(chat.log, "\n"))
						}
					}
				}
				opened = append(opened, n)
			}
			if banners < 10 || len(shown) != len(opened) {
				t.Errorf("%d banners, %d of %d messages shown", banners, len(shown), len(opened))
			}
		})
	}
}
