package discord

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// A people's turn asked by another replica (adapter b, which resumed the
// session: same token, no gateway here) is answered through this one: a
// press and the keywords modal reach the handler as CmdAnswer with the
// question's message ID, the relay hands them to b's conversation, and the
// question is updated in place from its own text.
func TestAnswersToAnotherReplicasQuestion(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	b, err := New(Config{Token: testToken, APIURL: hs.fake.URL(), GuildID: hs.guild}, newTestHandler(),
		Options{Clock: hs.clock, Limits: &fastLimits})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := b.Resume(context.Background(), chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	hs.h.mu.Lock()
	hs.h.relay = func(req bot.Request) error {
		if !conv.(bot.Answerable).SubmitAnswer(req.Ref, *req.Answer) {
			return bot.ErrNoQuestion
		}
		return nil
	}
	hs.h.mu.Unlock()
	original := []string{"red", "lantern"}
	ask := func() (chan bot.Answer, discordfake.Message) {
		answers := make(chan bot.Answer, 1)
		go func() {
			ans, err := conv.AskKeywords(context.Background(), bot.Question{Text: "Your turn", Keywords: original, Timeout: time.Hour})
			if err != nil {
				t.Errorf("ask: %v", err)
			}
			answers <- ans
		}()
		q := hs.findMessage(hs.channel, "b's question", func(m discordfake.Message) bool {
			return strings.Contains(string(m.Components), "tr:keep:")
		})
		return answers, q
	}
	bob := discordfake.User{ID: hs.fake.NewID(), Name: "bob"}

	answers, q := ask()
	_, _ = hs.fake.Click(hs.channel, q.ID, "tr:keep:"+hs.channel, bob)
	if a := <-answers; a.Action != bot.ActionKeep || a.By != "bob" || !slices.Equal(a.Keywords, original) {
		t.Errorf("relayed keep → %+v", a)
	}
	hs.eventually("the question updated in place", func() bool {
		m, _ := hs.fake.Message(q.ID)
		return !strings.Contains(string(m.Components), "tr:") && strings.Contains(m.Content, "Kept by bob") &&
			strings.Contains(m.Content, "red · lantern")
	})
	reqs := hs.h.requests(bot.CmdAnswer)
	if len(reqs) != 1 || reqs[0].Ref != q.ID || reqs[0].Channel != chanKey(hs.channel) {
		t.Fatalf("CmdAnswer requests: %+v", reqs)
	}

	answers, q = ask()
	tok, _ := hs.fake.Click(hs.channel, q.ID, "tr:edit:"+hs.channel, bob)
	in := hs.interaction(tok, func(in discordfake.Interaction) bool { return len(in.Callbacks) > 0 })
	if in.Callbacks[0] != 9 || !strings.Contains(mustJSON(in.Modal), "red, lantern") {
		t.Fatalf("edit answered %v with %v, want the modal prefilled from the message", in.Callbacks, in.Modal)
	}
	_, _ = hs.fake.SubmitModal(hs.channel, q.ID, "tr:kw:"+hs.channel, map[string]string{"keywords": "paper, moon"}, bob)
	if a := <-answers; a.Action != bot.ActionEdit || strings.Join(a.Keywords, "|") != "paper|moon" {
		t.Errorf("relayed edit → %+v", a)
	}

	// Nobody has the question open any more: the press is told so.
	tok, _ = hs.fake.Click(hs.channel, q.ID, "tr:skip:"+hs.channel, bob)
	in = hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil })
	if !in.Ephemeral || in.Original.Content != questionClosedMessage {
		t.Errorf("stale press answered %q", in.Original.Content)
	}
}
