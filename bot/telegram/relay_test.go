package telegram

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

// A question asked by another replica (adapter b, on the same bot token)
// is answered on this one (the harness's adapter, which polls): the press
// and the keyword reply reach the handler as CmdAnswer with the question's
// message ID, and the handler — the relay — hands them to b's
// conversation, whose AskKeywords returns them.
func TestAnswersToAnotherReplicasQuestion(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	b, err := New(Config{Token: mainToken, APIURL: hs.fake.URL()}, newTestHandler(),
		Options{Logger: slog.New(slog.DiscardHandler), Clock: hs.clock})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := b.Resume(context.Background(), channel(groupChat))
	if err != nil {
		t.Fatal(err)
	}
	relayTo := conv.(bot.Answerable)
	hs.h.mu.Lock()
	hs.h.reply = func(req bot.Request) bot.Reply {
		if req.Command == bot.CmdAnswer && !relayTo.SubmitAnswer(req.Ref, *req.Answer) {
			return bot.Reply{Text: "closed"}
		}
		return bot.Reply{}
	}
	hs.h.mu.Unlock()

	ask := func() (chan bot.Answer, telegramfake.Message) {
		answers := make(chan bot.Answer, 1)
		go func() {
			ans, err := conv.AskKeywords(context.Background(), bot.Question{Text: "Your turn",
				Keywords: []string{"red", "lantern"}, Timeout: 10 * time.Minute})
			if err != nil {
				t.Errorf("ask: %v", err)
			}
			answers <- ans
		}()
		var q telegramfake.Message
		hs.eventually("b's question", func() bool {
			for _, m := range hs.findText(groupChat, "Reply to this message") {
				if m.Markup != nil {
					q = m
					return true
				}
			}
			return false
		})
		return answers, q
	}

	answers, q := ask()
	cb := hs.fake.Press(mainToken, groupChat, bob, q.ID, dataSkip)
	if a := <-answers; a.Action != bot.ActionSkip || a.By != "Bob" {
		t.Errorf("relayed press → %+v", a)
	}
	hs.eventually("the press answered", func() bool { _, ok := hs.fake.Answered(cb); return ok })
	if got, _ := hs.fake.Answered(cb); got != "Thanks!" {
		t.Errorf("toast %q, want Thanks!", got)
	}
	reqs := hs.h.requests(bot.CmdAnswer)
	if len(reqs) != 1 || reqs[0].Ref != strconv.Itoa(q.ID) || reqs[0].Channel != channel(groupChat) {
		t.Fatalf("CmdAnswer requests: %+v", reqs)
	}

	answers, q = ask()
	hs.fake.Send(mainToken, telegramfake.In{Chat: groupChat, From: bob, Text: "paper, moon", ReplyTo: q.ID})
	if a := <-answers; a.Action != bot.ActionEdit || strings.Join(a.Keywords, "|") != "paper|moon" {
		t.Errorf("relayed reply → %+v", a)
	}
	if n := len(hs.h.requests(bot.CmdSay)) + len(hs.h.requests(bot.CmdStart)); n != 0 {
		t.Errorf("a keyword reply became %d other requests", n)
	}

	// A press on a question nobody has open any more is refused kindly.
	hs.h.mu.Lock()
	hs.h.reply = func(bot.Request) bot.Reply { return bot.Reply{} }
	hs.h.fail = func(bot.Request) error { return bot.ErrNoQuestion }
	hs.h.mu.Unlock()
	cb = hs.fake.Press(mainToken, groupChat, bob, q.ID, dataKeep)
	hs.eventually("the stale press answered", func() bool { _, ok := hs.fake.Answered(cb); return ok })
	if got, _ := hs.fake.Answered(cb); got != "This question is closed." {
		t.Errorf("stale press toast %q", got)
	}
}
