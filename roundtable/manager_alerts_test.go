package roundtable

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
)

func TestStatusShowsAlertsToAdminsAndStageAges(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	release := make(chan struct{})
	inDiscussion := make(chan struct{}, 1)
	e.model.fail = func(r providers.Request) error {
		if stageOf(r) == StageDiscussion {
			select {
			case inDiscussion <- struct{}{}:
			default:
			}
			<-release
		}
		return nil
	}
	m := e.manager("p1", nil)
	alerts := "2026-11-25 09:00:00Z rate_limited discord ×3 until 09:00:20Z"
	m.o.Alerts = func() string { return alerts }
	defer serve(t, m)()
	defer close(release)
	start(t, m, "test:1", "kites", ann, &fakeConv{})
	<-inDiscussion
	e.clock.Advance(90 * time.Second)
	if got := m.StageAges()[StageDiscussion]; got != 90*time.Second {
		t.Errorf("discussion age = %s, want 1m30s (%v)", got, m.StageAges())
	}

	ask := func(u bot.User) string {
		r, err := m.Handle(context.Background(), bot.Request{Command: bot.CmdStatus, Channel: "test:1", User: u})
		if err != nil {
			t.Fatal(err)
		}
		return r.Text
	}
	if got := ask(bot.User{ID: "a", Name: "Admin", Admin: true}); !strings.Contains(got, "Recent warnings") || !strings.Contains(got, alerts) {
		t.Errorf("admin status lacks the alerts: %q", got)
	}
	if got := ask(bot.User{ID: "u2", Name: "Bo"}); strings.Contains(got, "rate_limited") || strings.Contains(got, "warnings") {
		t.Errorf("a non-admin sees the alerts: %q", got)
	}
	alerts = ""
	if got := ask(bot.User{ID: "a", Name: "Admin", Admin: true}); !strings.Contains(got, "No warnings") {
		t.Errorf("admin status without alerts: %q", got)
	}
}
