package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// screen is a chat platform whose messages survive the process that posted
// them: it creates a message at Open (showing the placeholder), shows
// partial text on Update and the final text on Close, and edits existing
// messages by ID (bot.Reattacher). While dead (the process was killed) it
// takes nothing more from that process.
type screen struct {
	mu    sync.Mutex
	msgs  []*screenMsg
	ids   map[string]*screenMsg
	asked int
}

type screenMsg struct {
	id   string
	kind bot.Kind
	text string
}

// screenConv is one process's connection to the screen.
type screenConv struct {
	s    *screen
	dead atomic.Bool
	// hold, when set, keeps a final from showing until the process dies
	// (a chat slower than the session).
	hold func(p bot.Post) bool
	// unsent: a held message is not even created (its placeholder was
	// still queued when the process died).
	unsent bool
}

type screenStream struct {
	c    *screenConv
	m    *screenMsg
	p    bot.Post
	held bool
}

var errDead = errors.New("process killed")

func newScreen() *screen { return &screen{ids: map[string]*screenMsg{}} }

func (c *screenConv) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	if c.dead.Load() {
		return nil, errDead
	}
	held := c.hold != nil && c.hold(p)
	if held && c.unsent {
		return &screenStream{c: c, p: p, held: true}, nil // its placeholder waits in a queue
	}
	c.s.mu.Lock()
	m := &screenMsg{id: fmt.Sprint(len(c.s.msgs) + 1), kind: p.Kind, text: p.Placeholder}
	c.s.msgs = append(c.s.msgs, m)
	c.s.ids[m.id] = m
	c.s.mu.Unlock()
	if p.Created != nil {
		p.Created(m.id)
	}
	return &screenStream{c: c, m: m, p: p, held: held}, nil
}

func (c *screenConv) Reattach(_ context.Context, p bot.Post, ids []string) (bot.Stream, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	m := c.s.ids[ids[0]]
	if m == nil {
		return nil, fmt.Errorf("no message %s", ids[0])
	}
	return &screenStream{c: c, m: m, p: p}, nil
}

func (c *screenConv) SendImage(context.Context, bot.Persona, bot.Attachment, string) error {
	if c.dead.Load() {
		return errDead
	}
	return nil
}

func (c *screenConv) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	c.s.mu.Lock()
	c.s.asked++
	c.s.mu.Unlock()
	return bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}, nil
}

func (st *screenStream) Update(text string) {
	if st.c.dead.Load() || st.held || strings.TrimSpace(text) == "" {
		return
	}
	st.c.s.mu.Lock()
	st.m.text = text
	st.c.s.mu.Unlock()
}

func (st *screenStream) Close(_ context.Context, final string) error {
	if st.c.dead.Load() || st.held {
		return errDead // a killed process shows nothing more
	}
	st.c.s.mu.Lock()
	st.m.text = final
	st.c.s.mu.Unlock()
	return nil
}

// killer is a model whose call picked by kill writes half a sentence,
// then signals killed and hangs until its process goes.
type killer struct {
	*scripted
	kill   func(req providers.Request) bool
	killed chan struct{}
	once   sync.Once
}

func (k *killer) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	if !k.kill(req) {
		return k.scripted.Stream(ctx, req, fn)
	}
	_ = fn(providers.Delta{Text: "Half a sentence, and then"})
	k.once.Do(func() { close(k.killed) })
	<-ctx.Done()
	return providers.Response{Provider: "fake"}, ctx.Err()
}

// mortalStore is the store as a killed process sees it: after kill, no
// write of that process lands.
type mortalStore struct {
	*memStore
	dead *atomic.Bool
}

func (m mortalStore) Append(ctx context.Context, id string, ev store.Event) (store.Event, error) {
	if m.dead.Load() {
		return ev, errDead
	}
	return m.memStore.Append(ctx, id, ev)
}

func (m mortalStore) SaveCheckpoint(ctx context.Context, id string, cp store.Checkpoint) error {
	if m.dead.Load() {
		return errDead
	}
	return m.memStore.SaveCheckpoint(ctx, id, cp)
}

func (m mortalStore) UpdateSession(ctx context.Context, s store.Session) error {
	if m.dead.Load() {
		return errDead
	}
	return m.memStore.UpdateSession(ctx, s)
}

// TestResumeSettlesTheChat kills a session's process (its store writes and
// chat calls stop landing at once) with a backlog the chat had not shown
// and with a speech half written, then resumes it in a new process on the
// same chat: the chat ends up showing what the log says, every speech
// once, with no placeholder left and the old board closed.
func TestResumeSettlesTheChat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// kill is called on every model call of the first process; it
		// returns true to kill the process there.
		kill   func(req providers.Request) bool
		hold   func(p bot.Post) bool
		unsent bool
	}{
		{"backlog", func(req providers.Request) bool {
			return stageOf(req) == StageDiscussion && strings.Contains(req.Tag, "consumer_2")
		}, func(p bot.Post) bool { return p.Kind == bot.KindSpeech }, false},
		{"backlog never sent", func(req providers.Request) bool {
			return stageOf(req) == StageSwitch && strings.Contains(req.Tag, "designer")
		}, func(p bot.Post) bool { return p.Kind == bot.KindSpeech }, true},
		{"half-written speech", func(req providers.Request) bool {
			return stageOf(req) == StageWorkshop && strings.Contains(req.Tag, "manufacturer")
		}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scr := newScreen()
			mem := newMemStore()
			var dead atomic.Bool
			conv1 := &screenConv{s: scr, hold: tc.hold, unsent: tc.unsent}
			killed := make(chan struct{})
			m1 := &killer{scripted: uniqueSpeech(newScripted()), kill: tc.kill, killed: killed}
			cfg := testConfig()
			cfg.DeliveryWindow = 3 // let a backlog build up before the kill
			deps1 := testDeps(m1, mem)
			deps1.Store = mortalStore{memStore: mem, dead: &dead}
			s1, err := New(context.Background(), cfg, deps1, conv1, Start{Topic: "a kite", Channel: "test:1"})
			if err != nil {
				t.Fatal(err)
			}
			ctx1, cancel1 := context.WithCancel(context.Background())
			done1 := make(chan error, 1)
			go func() { done1 <- s1.Run(ctx1) }()
			select {
			case <-killed:
			case err := <-done1:
				t.Fatalf("the first process ended before the kill: %v", err)
			}
			dead.Store(true) // SIGKILL: nothing more of process 1 lands
			conv1.dead.Store(true)
			cancel1()
			<-done1

			scr.mu.Lock()
			before := len(scr.msgs)
			scr.mu.Unlock()
			conv2 := &screenConv{s: scr}
			s2, err := Resume(context.Background(), cfg, testDeps(uniqueSpeech(newScripted()), mem), conv2, s1.ID())
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if err := s2.Run(context.Background()); err != nil {
				t.Fatalf("resumed Run: %v", err)
			}
			if before == 0 {
				t.Fatal("nothing was posted before the kill")
			}
			checkChatEqualsLog(t, scr, mem, s1.ID())
		})
	}
}

var speechNo atomic.Int64

// uniqueSpeech makes every speech of the plain-text stages unique, so a
// speech shown twice can be told from two speakers saying the same.
func uniqueSpeech(m *scripted) *scripted {
	m.override = func(req providers.Request) (string, bool) {
		switch stageOf(req) {
		case StageIntro, StageDiscussion, StageSwitch, StageWorkshop:
			return fmt.Sprintf("Speech %d (%s): a few words on the topic.", speechNo.Add(1), req.Tag), true
		}
		return "", false
	}
	return m
}

// checkChatEqualsLog: every recorded speech is shown in exactly one
// message; no message is left showing a placeholder; exactly one board
// is live at the end and every other says it moved.
func checkChatEqualsLog(t *testing.T, scr *screen, mem *memStore, id string) {
	t.Helper()
	scr.mu.Lock()
	defer scr.mu.Unlock()
	var dump strings.Builder
	for _, m := range scr.msgs {
		fmt.Fprintf(&dump, "%s [%d] %.70q\n", m.id, m.kind, m.text)
	}
	shown := map[string]int{}
	boards, moved := 0, 0
	for _, m := range scr.msgs {
		shown[m.text]++
		if strings.TrimSpace(m.text) == "…" || m.text == "" {
			t.Errorf("message %s still shows a placeholder\n%s", m.id, dump.String())
		}
		if strings.HasPrefix(m.text, "Half a sentence") {
			t.Errorf("message %s is left cut off\n%s", m.id, dump.String())
		}
		if m.kind == bot.KindBoard {
			boards++
			if strings.Contains(m.text, "has moved") {
				moved++
			}
		}
	}
	if boards != 2 || moved != 1 {
		t.Errorf("%d boards, %d marked as moved; want 2 and 1\n%s", boards, moved, dump.String())
	}
	speeches := 0
	for _, ev := range mem.eventsOf(id, transcript.EventSpeech) {
		switch ev.Stage {
		case StageIntro, StageDiscussion, StageSwitch, StageWorkshop:
		default:
			continue // shown through a display function
		}
		speeches++
		if n := shown[ev.Text]; n != 1 {
			t.Errorf("%s's %s speech is shown %d times\n%s", ev.Seat, ev.Stage, n, dump.String())
		}
	}
	if speeches < 30 {
		t.Errorf("only %d speeches in the log", speeches)
	}
}
