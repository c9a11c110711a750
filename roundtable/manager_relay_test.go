package roundtable

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
)

// memRelay is an in-process Relay between managers: a channel's holder is
// the manager that runs it.
type memRelay struct {
	mu       sync.Mutex
	managers map[string]*Manager
	serving  map[string]func(context.Context, []byte) []byte
	fail     bool
}

func (r *memRelay) Holder(_ context.Context, channel string) (store.Lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for owner, m := range r.managers {
		if m.live(channel) != nil {
			return store.Lease{Channel: channel, Owner: owner, Token: 1}, nil
		}
	}
	return store.Lease{}, store.ErrNotFound
}

func (r *memRelay) Call(ctx context.Context, owner string, body []byte) ([]byte, error) {
	r.mu.Lock()
	h, fail := r.serving[owner], r.fail
	r.mu.Unlock()
	if fail || h == nil {
		return nil, errors.New("no answer")
	}
	return h(ctx, body), nil
}

func (r *memRelay) ServeRelay(ctx context.Context, owner string, h func(context.Context, []byte) []byte) error {
	r.mu.Lock()
	r.serving[owner] = h
	r.mu.Unlock()
	<-ctx.Done()
	return nil
}

// answerConv takes relayed answers to its question "q1".
type answerConv struct {
	*fakeConv
	mu  sync.Mutex
	got []bot.Answer
}

func (c *answerConv) SubmitAnswer(ref string, ans bot.Answer) bool {
	if ref != "q1" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, ans)
	return true
}

func TestCommandsReachTheReplicaRunningTheSession(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	defer close(e.holdDiscussion())
	relay := &memRelay{managers: map[string]*Manager{}, serving: map[string]func(context.Context, []byte) []byte{}}
	m1, m2 := e.manager("p1", nil), e.manager("p2", nil)
	m1.o.Relay, m2.o.Relay = relay, relay
	relay.managers["p1"], relay.managers["p2"] = m1, m2
	defer serve(t, m1)()
	defer serve(t, m2)()
	eventually.True(t, "both relays serving", func() bool {
		relay.mu.Lock()
		defer relay.mu.Unlock()
		return len(relay.serving) == 2
	})
	conv := &answerConv{fakeConv: &fakeConv{}}
	id := start(t, m1, "test:1", "kites", ann, conv)
	ctx := context.Background()

	// A mention on either replica is an interjection: p2 relays it to p1.
	for _, m := range []*Manager{m1, m2} {
		r, err := m.Handle(ctx, bot.Request{Command: bot.CmdMention, Channel: "test:1", User: ann, Text: "hello table",
			Open: func(context.Context) (bot.Conversation, string, error) {
				t.Error("a mention where a session runs must not open a conversation")
				return nil, "", errors.New("no")
			}})
		if err != nil || !strings.Contains(r.Text, "Passed to the table") {
			t.Fatalf("mention through %s = %q, %v", m.o.Owner, r.Text, err)
		}
	}
	r, err := m2.Handle(ctx, bot.Request{Command: bot.CmdSay, Channel: "test:1", User: ann, Text: "red please"})
	if err != nil || !strings.Contains(r.Text, "Passed to the table") {
		t.Fatalf("say through p2 = %q, %v", r.Text, err)
	}
	r, err = m2.Handle(ctx, bot.Request{Command: bot.CmdStatus, Channel: "test:1", User: ann})
	if err != nil || !strings.Contains(r.Text, id) {
		t.Fatalf("status through p2 = %q, %v", r.Text, err)
	}
	keep := &bot.Answer{Action: bot.ActionKeep, By: "Bob"}
	if _, err := m2.Handle(ctx, bot.Request{Command: bot.CmdAnswer, Channel: "test:1", Answer: keep, Ref: "q1"}); err != nil {
		t.Fatalf("answer through p2: %v", err)
	}
	if _, err := m2.Handle(ctx, bot.Request{Command: bot.CmdAnswer, Channel: "test:1", Answer: keep, Ref: "old"}); !errors.Is(err, bot.ErrNoQuestion) {
		t.Fatalf("answer to a closed question = %v, want ErrNoQuestion", err)
	}
	conv.mu.Lock()
	if len(conv.got) != 1 || conv.got[0].By != "Bob" {
		t.Errorf("answers reaching the session's conversation: %+v", conv.got)
	}
	conv.mu.Unlock()

	// The replica holding the session does not answer: a kind reply, no hang.
	relay.mu.Lock()
	relay.fail = true
	relay.mu.Unlock()
	r, err = m2.Handle(ctx, bot.Request{Command: bot.CmdStop, Channel: "test:1", User: ann})
	if err != nil || !strings.Contains(r.Text, "did not answer") {
		t.Fatalf("stop with the relay down = %q, %v", r.Text, err)
	}
	relay.mu.Lock()
	relay.fail = false
	relay.mu.Unlock()

	// Only the starter (or an admin) may stop it, wherever the command lands.
	r, _ = m2.Handle(ctx, bot.Request{Command: bot.CmdStop, Channel: "test:1", User: bot.User{ID: "u2", Name: "Bob"}})
	if !strings.Contains(r.Text, "Only Ann") {
		t.Fatalf("stop by someone else through p2 = %q", r.Text)
	}
	r, _ = m2.Handle(ctx, bot.Request{Command: bot.CmdStop, Channel: "test:1", User: ann})
	if !strings.Contains(r.Text, "Stopping roundtable "+id) {
		t.Fatalf("stop through p2 = %q", r.Text)
	}
	eventually.True(t, "the session to stop", func() bool { return status(e.store, id) == store.StatusStopped })
}
