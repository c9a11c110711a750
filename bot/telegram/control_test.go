package telegram

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/clock"
)

// TestControlJumpsTheSpeechQueue queues a long backlog of speech in a
// group whose budget is spent, then sends /status, a non-starter's /stop
// and ⏹, and the starter's /stop: every one is answered (the refusals with
// their reason) ahead of the backlog. The fake and the adapter share a
// manual clock that moves only once the three answers are in line, so
// which write goes first is the scheduler's choice, never the machine's
// speed.
func TestControlJumpsTheSpeechQueue(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Time{})
	hs := newHarness(t, setup{clock: clk, fakeLimits: telegramfake.TelegramLimits()})
	const n = 12
	queued := make(chan struct{})
	hs.h.setScript(func(ctx context.Context, req request) {
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
		case req.Command == bot.CmdStart:
			return bot.Reply{} // no answer: the backlog is all that waits
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
	sched := hs.a.pace.scheduler(hs.a.main, groupChat)
	// The group's burst is spent on the first notice and the clock stands
	// still: the rest of the backlog waits in line.
	hs.eventually("the backlog in line", func() bool { return len(hs.botMessages(groupChat)) > 0 && sched.Waiting() > 0 })
	first := hs.botMessages(groupChat)[0]
	hs.say(groupChat, ann, "/status")
	hs.say(groupChat, bob, "/stop")
	cb := hs.fake.Press(mainToken, groupChat, bob, first.ID, "b:stop")
	hs.say(groupChat, ann, "/stop")
	hs.eventually("⏹ answered and the three answers in line", func() bool {
		_, pressed := hs.fake.Answered(cb)
		return pressed && sched.WaitingAt(bot.PriorityUrgent) == 3
	})
	hs.eventually("all answered", func() bool {
		if sched.WaitingAt(bot.PriorityUrgent) > 0 {
			clk.Advance(time.Second) // time moves only while an answer waits for its slot
		}
		return len(hs.findText(groupChat, "ok: status")) == 1 &&
			len(hs.findText(groupChat, "Only Ann")) == 1 && len(hs.findText(groupChat, "Stopping the table")) == 1
	})
	complete := len(hs.findText(groupChat, "is complete"))
	if complete >= n/2 {
		t.Errorf("answers came after %d of %d queued messages were complete: they waited behind speech", complete, n)
	}
	if txt, _ := hs.fake.Answered(cb); !strings.Contains(txt, "Only Ann") {
		t.Errorf("⏹ by a non-starter answered %q, want the refusal", txt)
	}
	hs.eventually("backlog delivered", func() bool {
		clk.Advance(5 * time.Second)
		return len(hs.findText(groupChat, "is complete")) == n
	})
	if v := hs.fake.Broken(); len(v) > 0 {
		t.Errorf("the fake's limits were broken: %v", v)
	}
}

// A message left half written by a process that died is completed in
// place by a new process that reattaches to it by the ID the first one
// reported; so is the old board, whose Stop button goes.
func TestReattachCompletesCutOffMessages(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	ctx1, kill := context.WithCancel(context.Background())
	var mu sync.Mutex
	ids := map[bot.Kind][]string{}
	created := func(k bot.Kind) func(string) {
		return func(id string) { mu.Lock(); ids[k] = append(ids[k], id); mu.Unlock() }
	}
	c1 := hs.a.conv(groupChat)
	board, err := c1.Open(ctx1, bot.Post{From: moderator, Kind: bot.KindBoard, Placeholder: "Board: discussion",
		Buttons: []bot.Button{{ID: "stop", Label: "⏹ Stop"}}, Created: created(bot.KindBoard)})
	if err != nil {
		t.Fatal(err)
	}
	board.Update("Board: discussion, Bayar speaking")
	st, err := c1.Open(ctx1, bot.Post{From: seats[0], Kind: bot.KindSpeech, Placeholder: "…", Created: created(bot.KindSpeech)})
	if err != nil {
		t.Fatal(err)
	}
	st.Update("Half a sentence, and then")
	hs.eventually("both messages and their IDs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ids[bot.KindBoard]) == 1 && len(ids[bot.KindSpeech]) == 1 && len(hs.findText(groupChat, "Half a sentence")) == 1
	})
	kill() // the first process is gone
	before := len(hs.botMessages(groupChat))

	c2 := hs.a.conv(groupChat)
	const final = "Half a sentence, and then the whole of it."
	for kind, text := range map[bot.Kind]string{bot.KindSpeech: final, bot.KindBoard: "This board has moved"} {
		re, err := c2.Reattach(context.Background(), bot.Post{From: map[bot.Kind]bot.Persona{bot.KindSpeech: seats[0], bot.KindBoard: moderator}[kind], Kind: kind}, ids[kind])
		if err != nil {
			t.Fatal(err)
		}
		if err := re.Close(context.Background(), text); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(hs.botMessages(groupChat)); n != before {
		t.Errorf("reattaching added %d messages", n-before)
	}
	if got := hs.findText(groupChat, final); len(got) != 1 || fmt.Sprint(got[0].ID) != ids[bot.KindSpeech][0] {
		t.Errorf("the cut-off speech was not completed in place: %+v", got)
	}
	moved := hs.findText(groupChat, "This board has moved")
	if len(moved) != 1 || moved[0].Markup != nil && strings.Contains(string(moved[0].Markup), "stop") {
		t.Errorf("the old board: %+v", moved)
	}
}
