package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

// TestControlJumpsTheSpeechQueue queues a long backlog of speech in a slow
// group, then sends /status, a non-starter's /stop and ⏹, and the
// starter's /stop: every one is answered (the refusals with their reason)
// while most of the backlog is still waiting.
func TestControlJumpsTheSpeechQueue(t *testing.T) {
	hs := newHarness(t, setup{fakeLimits: telegramfake.TelegramLimits()})
	const n = 12
	queued := make(chan struct{})
	hs.h.setScript(func(ctx context.Context, req bot.Request) {
		defer close(queued)
		for i := range n {
			st, err := req.Conv.Open(ctx, bot.Post{From: moderator, Kind: bot.KindNotice})
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			st.Update(fmt.Sprintf("notice %d begins", i))
			st.(bot.AsyncCloser).CloseThen(context.Background(), fmt.Sprintf("notice %d is complete", i), nil)
		}
	})
	hs.h.mu.Lock()
	hs.h.reply = func(req bot.Request) bot.Reply {
		switch {
		case req.Command == bot.CmdStop && req.User.ID != "501":
			return bot.Reply{Text: "Only Ann can stop this table."}
		case req.Command == bot.CmdStop:
			return bot.Reply{Text: "Stopping the table."}
		}
		return bot.Reply{Text: "ok: " + string(req.Command)}
	}
	hs.h.mu.Unlock()
	hs.say(groupChat, ann, "/roundtable backlog")
	<-queued
	hs.eventually("the backlog started", func() bool { return len(hs.findText(groupChat, "notice 0")) == 1 })
	first := hs.findText(groupChat, "notice 0")[0]
	hs.say(groupChat, ann, "/status")
	hs.say(groupChat, bob, "/stop")
	cb := hs.fake.Press(mainToken, groupChat, bob, first.ID, "b:stop")
	hs.say(groupChat, ann, "/stop")
	hs.eventually("all answered", func() bool {
		_, pressed := hs.fake.Answered(cb)
		return pressed && len(hs.findText(groupChat, "ok: status")) == 1 &&
			len(hs.findText(groupChat, "Only Ann")) == 1 && len(hs.findText(groupChat, "Stopping the table")) == 1
	})
	complete := len(hs.findText(groupChat, "is complete"))
	if complete >= n/2 {
		t.Errorf("answers came after %d of %d queued messages were complete: they waited behind speech", complete, n)
	}
	if txt, _ := hs.fake.Answered(cb); !strings.Contains(txt, "Only Ann") {
		t.Errorf("⏹ by a non-starter answered %q, want the refusal", txt)
	}
	hs.eventually("backlog delivered", func() bool { return len(hs.findText(groupChat, "is complete")) == n })
}
