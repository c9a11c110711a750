package roundtable

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
)

// holdDiscussion makes sessions wait at their first discussion turn until
// the returned channel is closed, so they keep running meanwhile; a
// manager stopping meanwhile ends the wait when its grace runs out.
func (e *managerEnv) holdDiscussion() chan struct{} {
	release := make(chan struct{})
	e.model.hold = func(r providers.Request) <-chan struct{} {
		if stageOf(r) == StageDiscussion {
			return release
		}
		return nil
	}
	return release
}

// opener counts how often a request's place was opened.
type opener struct {
	n       atomic.Int32
	channel string
}

func (o *opener) open(context.Context) (bot.Conversation, string, error) {
	o.n.Add(1)
	return &fakeConv{}, o.channel, nil
}

func TestManagerDecidesWhatAMentionIs(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	defer close(e.holdDiscussion())
	m := e.manager("p1", nil)
	defer serve(t, m)()
	ctx := context.Background()

	// No session in the channel: the mention starts one, in the place the
	// adapter opens (a thread: another channel).
	thread := &opener{channel: "test:thread"}
	r, err := m.Handle(ctx, bot.Request{Command: bot.CmdMention, Channel: "test:parent", User: ann, Text: "kites", Open: thread.open})
	if err != nil || !strings.Contains(r.Text, "Starting roundtable") || thread.n.Load() != 1 {
		t.Fatalf("mention in a quiet channel = %q, %v (opened %d)", r.Text, err, thread.n.Load())
	}
	// In the session's place a mention is an interjection: nothing opens.
	again := &opener{channel: "test:other"}
	r, err = m.Handle(ctx, bot.Request{Command: bot.CmdMention, Channel: "test:thread", User: ann, Text: "red!", Open: again.open})
	if err != nil || !strings.Contains(r.Text, "Passed to the table") || again.n.Load() != 0 {
		t.Fatalf("mention in the session = %q, %v (opened %d)", r.Text, err, again.n.Load())
	}
	// A plain message counts only where a session runs, and is otherwise
	// ignored without a word.
	r, err = m.Handle(ctx, bot.Request{Command: bot.CmdMention, Unaddressed: true, Channel: "test:quiet", User: ann, Text: "hi", Open: again.open})
	if err != nil || r.Text != "" || again.n.Load() != 0 {
		t.Fatalf("plain message elsewhere = %q, %v (opened %d)", r.Text, err, again.n.Load())
	}
	r, err = m.Handle(ctx, bot.Request{Command: bot.CmdMention, Unaddressed: true, Channel: "test:thread", User: ann, Text: "blue"})
	if err != nil || !strings.Contains(r.Text, "Passed to the table") {
		t.Fatalf("plain message in the session = %q, %v", r.Text, err)
	}
}

// A start the manager refuses never opens its place, so no empty thread
// holds the refusal.
func TestRefusedStartOpensNothing(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	defer close(e.holdDiscussion())
	m := e.manager("p1", nil, func(o *ManagerOptions) { o.UserSessionLimit, o.MaxSessions = 1, 2 })
	defer serve(t, m)()
	ctx := context.Background()
	start(t, m, "test:1", "kites", ann, &fakeConv{})

	cases := []struct {
		name, want string
		req        bot.Request
	}{
		{"over the person's limit", "limit", bot.Request{Command: bot.CmdMention, Channel: "test:2", User: ann, Text: "again"}},
		{"one runs here", "already running", bot.Request{Command: bot.CmdStart, Channel: "test:1", User: bot.User{ID: "u9"}, Text: "x"}},
		{"no topic", "topic", bot.Request{Command: bot.CmdStart, Channel: "test:3", User: bot.User{ID: "u9"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &opener{channel: "test:new"}
			c.req.Open = o.open
			r, err := m.Handle(ctx, c.req)
			if err != nil || !strings.Contains(r.Text, c.want) || o.n.Load() != 0 {
				t.Fatalf("reply %q, %v; opened %d times", r.Text, err, o.n.Load())
			}
		})
	}
	// Busy: the process runs MAX_SESSIONS.
	start(t, m, "test:4", "kites", bot.User{ID: "u2", Name: "Bo"}, &fakeConv{})
	o := &opener{channel: "test:new"}
	r, _ := m.Handle(ctx, bot.Request{Command: bot.CmdStart, Channel: "test:5", User: bot.User{ID: "u3"}, Text: "x", Open: o.open})
	if !strings.Contains(r.Text, "as many roundtables") || o.n.Load() != 0 {
		t.Fatalf("busy: %q, opened %d", r.Text, o.n.Load())
	}
	// A place that cannot be opened gives the start back to the person.
	fail := func(context.Context) (bot.Conversation, string, error) { return nil, "", errors.New("no permission") }
	m2 := e.manager("p2", nil, func(o *ManagerOptions) { o.UserSessionLimit = 1 })
	defer serve(t, m2)()
	u := bot.User{ID: "u7", Name: "Cy"}
	if r, _ := m2.Handle(ctx, bot.Request{Command: bot.CmdStart, Channel: "test:6", User: u, Text: "x", Open: fail}); strings.Contains(r.Text, "Starting") {
		t.Fatalf("failed open started: %q", r.Text)
	}
	start(t, m2, "test:6", "kites", u, &fakeConv{})
}

// Handle only inspects a photo: the session prepares it as its first
// step, so the start is answered, and a /stop acknowledged, while the
// decode is still running.
func TestPhotoIsPreparedByTheSession(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var inspected atomic.Int32
	deps := Deps{Chat: e.model, Now: e.clock.Now,
		Inspect: func(data []byte) error {
			inspected.Add(1)
			if string(data) == "not a photo" {
				return errors.New("unknown format")
			}
			return nil
		},
		Prepare: func(ctx context.Context, data []byte) (PreparedImage, error) {
			close(entered)
			<-release // a slow HEIC decode
			return PreparedImage{MIME: "image/jpeg", Data: data, Width: 4, Height: 3}, nil
		}}
	m := NewManager(testConfig(), deps, e.store, ManagerOptions{Owner: "p1", ScanEvery: time.Hour})
	defer serve(t, m)()
	ctx := context.Background()

	r, _ := m.Handle(ctx, bot.Request{Command: bot.CmdStart, Channel: "test:x", User: ann, Text: "t",
		Image: &bot.Attachment{Data: []byte("not a photo")}, Open: bot.OpenIn(&fakeConv{}, "test:x")})
	if strings.Contains(r.Text, "Starting") || inspected.Load() != 1 {
		t.Fatalf("a photo refused by its header started: %q", r.Text)
	}
	r, err := m.Handle(ctx, bot.Request{Command: bot.CmdStart, Channel: "test:1", User: ann,
		Image: &bot.Attachment{Data: []byte("raw HEIC")}, Open: bot.OpenIn(&fakeConv{}, "test:1")})
	if err != nil || !strings.Contains(r.Text, "Starting roundtable") {
		t.Fatalf("photo start: %q, %v", r.Text, err)
	}
	id := strings.TrimSuffix(strings.Fields(r.Text)[3], "…")
	<-entered // the session is preparing the photo
	r, err = m.Handle(ctx, bot.Request{Command: bot.CmdStatus, Channel: "test:1", User: ann})
	if err != nil || !strings.Contains(r.Text, id) {
		t.Fatalf("status while preparing: %q, %v", r.Text, err)
	}
	r, err = m.Handle(ctx, bot.Request{Command: bot.CmdStop, Channel: "test:1", User: ann})
	if err != nil || !strings.Contains(r.Text, "Stopping") {
		t.Fatalf("stop while preparing: %q, %v", r.Text, err)
	}
	// Both answers came while Prepare was blocked: had Handle waited for
	// the decode, the test would hang here instead.
	close(release)
	eventually.True(t, "the session to stop", func() bool { return status(e.store, id) == "stopped" })
}
