package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

// all is every text the conversation was given, closed messages' finals.
func (c *fakeConv) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.posts {
		b.WriteString(p.p.Placeholder + "\n" + p.final + "\n")
	}
	return b.String()
}

// Starts sent at once from twelve groups by one person race for the
// store's count: exactly the limit start.
func TestUserLimitHoldsAgainstConcurrentStarts(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	e.model.fail = func(req providers.Request) error { // sessions wait in their intros: none ends meanwhile
		if stageOf(req) == StageIntro {
			return errors.New("hold until cancelled")
		}
		return nil
	}
	m := e.manager("p1", nil)
	defer serve(t, m)()
	var wg sync.WaitGroup
	replies := make([]string, 12)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := fmt.Sprintf("test:g%d", i)
			r, err := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: ch,
				User: bot.User{ID: "u1", Name: "Ann", Admin: true}, Text: "t", Open: bot.OpenIn(&fakeConv{}, ch)})
			if err != nil {
				t.Error(err)
			}
			replies[i] = r.Text
		}()
	}
	wg.Wait()
	started, refused := 0, 0
	for _, r := range replies {
		switch {
		case strings.Contains(r, "Starting roundtable"):
			started++
		case strings.Contains(r, "You can start again at 10:00 UTC (in 60 min)"):
			refused++
		default:
			t.Errorf("unexpected reply %q", r)
		}
	}
	if started != 2 || refused != 10 {
		t.Fatalf("%d started and %d refused, want 2 and 10 (replies %q)", started, refused, replies)
	}
}

// A group admin and a person in their private chat are counted like
// everyone; only an operator (OPERATOR_IDS) is exempt. The count follows
// the person across chats of a platform, not across platforms' IDs.
func TestUserLimitExemptsOnlyOperators(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	m := e.manager("p1", nil, func(o *ManagerOptions) {
		o.UserSessionLimit = 1
		o.Operators = map[string]bool{"test:op": true}
	})
	defer serve(t, m)()
	try := func(ch string, u bot.User) string {
		r, err := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: ch, User: u, Text: "t", Open: bot.OpenIn(&fakeConv{}, ch)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Text
	}
	admin := bot.User{ID: "42", Name: "Owner", Admin: true}
	if r := try("test:group1", admin); !strings.Contains(r, "Starting") {
		t.Fatalf("first start: %q", r)
	}
	if r := try("test:42", admin); !strings.Contains(r, "limit") { // their private chat
		t.Fatalf("an admin in a private chat was exempt: %q", r)
	}
	if r := try("other:group2", admin); !strings.Contains(r, "Starting") {
		t.Fatalf("the same ID on another platform shares the count: %q", r)
	}
	for i := range 3 {
		if r := try(fmt.Sprintf("test:op%d", i), bot.User{ID: "op", Name: "Op"}); !strings.Contains(r, "Starting") {
			t.Fatalf("operator start %d: %q", i, r)
		}
	}
}

// A start that does not happen (an unknown pack) does not count.
func TestUserLimitGivesBackFailedStarts(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	m := e.manager("p1", nil, func(o *ManagerOptions) { o.UserSessionLimit = 1 })
	defer serve(t, m)()
	r, _ := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: "test:a", User: ann, Text: "t",
		Open: bot.OpenIn(&fakeConv{}, "test:a"), Options: map[string]string{"pack": "no-such-pack"}})
	if strings.Contains(r.Text, "Starting") {
		t.Fatalf("bad pack started: %q", r.Text)
	}
	start(t, m, "test:b", "t", ann, &fakeConv{})
}

// The model calls of a person's sessions are counted too: the session that
// reaches USER_CALL_LIMIT ends politely, saying when they can start again,
// and no call beyond the limit reaches the model.
func TestUserCallLimitEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	m := e.manager("p1", nil, func(o *ManagerOptions) { o.UserCallLimit = 9 })
	defer serve(t, m)()
	conv := &fakeConv{}
	id := start(t, m, "test:a", "t", ann, conv)
	eventually.True(t, "session ends", func() bool { s := status(e.store, id); return s != store.StatusRunning && s != "" })
	if s := status(e.store, id); s != store.StatusStopped {
		t.Fatalf("status %s, want stopped", s)
	}
	e.model.mu.Lock()
	calls := len(e.model.reqs)
	e.model.mu.Unlock()
	if calls != 9 {
		t.Fatalf("%d model calls, want the 9 allowed", calls)
	}
	if all := conv.all(); !strings.Contains(all, "reached 9 model calls in an hour; they can start again at 10:00 UTC") {
		t.Fatalf("the chat was not told why: %s", all)
	}
	// With no call left, a new start is refused, saying when, and costs
	// no session.
	r, _ := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: "test:b", User: ann, Text: "t", Open: bot.OpenIn(&fakeConv{}, "test:b")})
	if !strings.Contains(r.Text, "used their 9 model calls") || !strings.Contains(r.Text, "10:00 UTC (in 60 min)") {
		t.Fatalf("start without calls left: %q", r.Text)
	}
	q, err := e.store.TakeQuota(context.Background(), "user:sessions:test:u1", "probe", 2, time.Hour)
	if err != nil || !q.Allowed || q.Used != 2 {
		t.Fatalf("sessions counted after the refused start: %+v %v (want 1 + this probe)", q, err)
	}
}

// A resumed session still counts its calls against the person who started
// it, on whichever process resumes it.
func TestUserCallLimitFollowsAResumedSession(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	limit := func(o *ManagerOptions) { o.UserCallLimit = 40 }
	held := make(chan struct{})
	var once sync.Once
	e.model.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, StageDiscussion+"/") {
			once.Do(func() { close(held) })
			return errHold
		}
		return nil
	}
	m1 := e.manager("p1", nil, limit)
	stop1 := serve(t, m1)
	id := start(t, m1, "test:r", "umbrellas", ann, &fakeConv{})
	<-held
	stop1() // suspended mid-discussion
	e.model.fail = nil
	// Meanwhile the person's other sessions use up the hour's calls.
	for {
		q, err := e.store.TakeQuota(context.Background(), "user:calls:test:u1", NewID(), 40, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !q.Allowed {
			break
		}
	}
	second := &fakeConv{}
	m2 := e.manager("p2", func(context.Context, string) (bot.Conversation, error) { return second, nil }, limit)
	defer serve(t, m2)()
	e.clock.Advance(31 * time.Second)
	m2.resumeOrphans(context.Background(), &sync.WaitGroup{})
	eventually.True(t, "the resumed session to end", func() bool { return status(e.store, id) == store.StatusStopped })
	if all := second.all(); !strings.Contains(all, "reached 40 model calls in an hour") {
		t.Fatalf("the resumed session's chat was not told why: %s", all)
	}
}
