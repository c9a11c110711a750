package roundtable

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/transcript"
)

// mergingConv is a screenConv that shows a concurrent stage's speeches as
// one message with a section each (as a Telegram group does), tells each
// section the message's ID as a bot.MergedRef, and takes such a message
// over after a crash (bot.MergedReattacher).
type mergingConv struct {
	*screenConv
	secs *sectionBook // shared by every process: what each merged message's sections show

	mu   sync.Mutex
	open map[string]*screenMerged // Group → the merged message sections join
}

// sectionBook is the section texts of every merged message on the screen.
type sectionBook struct {
	mu   sync.Mutex
	secs map[string][]string // message ID → its sections' texts
}

type screenMerged struct {
	c    *mergingConv
	m    *screenMsg
	held bool // its final never shows (the chat was behind when the process died)
	ids  bot.MergedIDs

	mu   sync.Mutex
	secs []*screenSection
}

type screenSection struct {
	sm     *screenMerged
	seat   string
	text   string
	closed bool
}

var _ bot.MergedReattacher = (*mergingConv)(nil)

func (c *mergingConv) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	if p.Group == "" || p.Kind != bot.KindSpeech {
		return c.screenConv.Open(ctx, p)
	}
	if c.dead.Load() {
		return nil, errDead
	}
	c.mu.Lock()
	sm := c.open[p.Group]
	if sm == nil {
		c.s.mu.Lock()
		m := &screenMsg{id: fmt.Sprint(len(c.s.msgs) + 1), kind: bot.KindSpeech}
		c.s.msgs = append(c.s.msgs, m)
		c.s.ids[m.id] = m
		c.s.mu.Unlock()
		sm = &screenMerged{c: c, m: m, held: c.hold != nil && c.hold(p)}
		sm.ids.Created(m.id)
		if c.open == nil {
			c.open = map[string]*screenMerged{}
		}
		c.open[p.Group] = sm
	}
	c.mu.Unlock()
	sec := sm.join(p)
	sm.show()
	return sec, nil
}

func (c *mergingConv) ReattachMerged(_ context.Context, posts []bot.Post, ids []string) ([]bot.Stream, error) {
	c.s.mu.Lock()
	m := c.s.ids[ids[0]]
	c.s.mu.Unlock()
	if m == nil || len(ids) != 1 {
		return nil, fmt.Errorf("no merged message %v", ids)
	}
	sm := &screenMerged{c: c, m: m}
	var out []bot.Stream
	for _, p := range posts {
		out = append(out, sm.join(p))
	}
	sm.ids.Existing(ids)
	return out, nil
}

func (sm *screenMerged) join(p bot.Post) *screenSection {
	sec := &screenSection{sm: sm, seat: p.From.ID, text: p.Placeholder}
	sm.mu.Lock()
	sm.secs = append(sm.secs, sec)
	sm.mu.Unlock()
	sm.ids.Join(p.Created)
	return sec
}

// show puts the sections' texts on the screen.
func (sm *screenMerged) show() {
	if sm.c.dead.Load() {
		return
	}
	sm.mu.Lock() // held throughout: two shows never cross
	defer sm.mu.Unlock()
	var texts, parts []string
	for _, s := range sm.secs {
		texts = append(texts, s.text)
		parts = append(parts, s.seat+": "+s.text)
	}
	sm.c.s.mu.Lock()
	sm.m.text = strings.Join(parts, "\n\n")
	sm.c.s.mu.Unlock()
	sm.c.secs.mu.Lock()
	sm.c.secs.secs[sm.m.id] = texts
	sm.c.secs.mu.Unlock()
}

func (s *screenSection) Update(text string) {
	s.sm.mu.Lock()
	if !s.closed && strings.TrimSpace(text) != "" {
		s.text = text
	}
	s.sm.mu.Unlock()
	s.sm.show()
}

func (s *screenSection) Close(_ context.Context, final string) error {
	if s.sm.c.dead.Load() {
		return errDead
	}
	s.sm.mu.Lock()
	s.text, s.closed = final, true
	s.sm.mu.Unlock()
	if s.sm.held {
		return errDead // the chat never showed it before the process died
	}
	s.sm.show()
	return nil
}

// TestResumeSettlesMergedStages kills a session whose concurrent stage is
// shown as one merged message, once with the message's final still owed
// and once with a section half written, and resumes it: the merged message
// is completed in place (every decided speech shown once, in it), a cut
// off section says so, and nothing of it is posted again beside it.
func TestResumeSettlesMergedStages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// kill picks the model calls that write half a sentence and
		// hang; the process is killed once the first has, and logged
		// speeches are recorded.
		kill   func(req providers.Request) bool
		logged int
		hold   func(p bot.Post) bool
	}{
		{"final owed", func(req providers.Request) bool {
			return stageOf(req) == StageDiscussion && strings.Contains(req.Tag, "craftsman")
		}, 0, func(p bot.Post) bool { return p.Group != "" }},
		{"sections half written", func(req providers.Request) bool {
			return stageOf(req) == StageIntro && !strings.Contains(req.Tag, "/craftsman/") && !strings.Contains(req.Tag, "/consumer_1/")
		}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scr := newScreen()
			book := &sectionBook{secs: map[string][]string{}}
			mem := newMemStore()
			conv1 := &mergingConv{screenConv: &screenConv{s: scr, hold: tc.hold}, secs: book}
			killed := make(chan struct{})
			m1 := &killer{scripted: uniqueSpeech(newScripted()), kill: tc.kill, killed: killed}
			cfg := testConfig()
			cfg.DeliveryWindow = 3
			deps1 := testDeps(m1, mem)
			deps1.Store = mortalStore{memStore: mem, dead: &conv1.dead}
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
			if tc.logged > 0 {
				// The speeches that finish are logged before the kill:
				// a concurrent step killed between a speech's final and
				// its log entry runs again whole, which is another issue.
				eventually.Within(t, 20*time.Second, "the finished speeches logged", func() bool {
					return len(mem.eventsOf(s1.ID(), transcript.EventSpeech)) >= tc.logged
				})
			}
			conv1.dead.Store(true) // SIGKILL: the chat and the store stop at once
			cancel1()
			<-done1

			conv2 := &mergingConv{screenConv: &screenConv{s: scr}, secs: book}
			s2, err := Resume(context.Background(), cfg, testDeps(uniqueSpeech(newScripted()), mem), conv2, s1.ID())
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if err := s2.Run(context.Background()); err != nil {
				t.Fatalf("resumed Run: %v", err)
			}
			checkMergedChat(t, scr, book, mem, s1.ID())
		})
	}
}

// checkMergedChat: every recorded speech is shown once (a merged message's
// section counts as its own text); no placeholder or cut-off text is left;
// no section of a merged message shows part of a speech
// (the plain stages' speeches all begin with "Speech ").
func checkMergedChat(t *testing.T, scr *screen, book *sectionBook, mem *memStore, id string) {
	t.Helper()
	scr.mu.Lock()
	defer scr.mu.Unlock()
	book.mu.Lock()
	defer book.mu.Unlock()
	var dump strings.Builder
	shown := map[string]int{}
	var units []string
	merged := 0
	for _, m := range scr.msgs {
		fmt.Fprintf(&dump, "%s [%d] %.200q\n", m.id, m.kind, m.text)
		if secs, ok := book.secs[m.id]; ok {
			fmt.Fprintf(&dump, "   sections %q\n", secs)
			merged++
			units = append(units, secs...)
			continue
		}
		units = append(units, m.text)
	}
	for _, u := range units {
		shown[u]++
		if strings.TrimSpace(u) == "…" || u == "" || strings.HasPrefix(u, "Half a sentence") {
			t.Errorf("%q is left on screen\n%s", u, dump.String())
		}
	}
	if merged == 0 {
		t.Fatalf("no merged message was shown\n%s", dump.String())
	}
	logged := map[string]bool{}
	for _, ev := range mem.eventsOf(id, transcript.EventSpeech) {
		if ev.Stage != StageIntro && ev.Stage != StageDiscussion && ev.Stage != StageSwitch && ev.Stage != StageWorkshop {
			continue
		}
		logged[ev.Text] = true
		if n := shown[ev.Text]; n != 1 {
			t.Errorf("%s's %s speech %q is shown %d times\n%s", ev.Seat, ev.Stage, ev.Text, n, dump.String())
		}
	}
	for mid, secs := range book.secs {
		for _, s := range secs {
			if strings.HasPrefix(s, "Speech ") && !logged[s] {
				t.Errorf("merged message %s shows %q, neither a recorded speech nor a cut-off line\n%s", mid, s, dump.String())
			}
		}
	}
}
