package telegram

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

// tableScript is a session as the engine drives one: a live board with a
// Stop button, six concurrent speeches in one Group, a sequential speech,
// the people's turn, and the board's final edit.
func tableScript(t *testing.T, hs *harness, answers chan<- bot.Answer, ask bool) func(ctx context.Context, req request) {
	return func(ctx context.Context, req request) {
		c := req.Conv
		sleep := func(d time.Duration) { _ = hs.clock.Sleep(ctx, d) }
		b, err := c.Open(ctx, bot.Post{From: moderator, Kind: bot.KindBoard, Placeholder: "Board: starting",
			Buttons: []bot.Button{{ID: "stop", Label: "⏹ Stop"}}})
		if err != nil {
			t.Errorf("open board: %v", err)
			return
		}
		var wg sync.WaitGroup
		for _, p := range seats {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := c.Open(ctx, bot.Post{From: p, Kind: bot.KindSpeech, Group: "intro"})
				if err != nil {
					t.Errorf("open %s: %v", p.ID, err)
					return
				}
				final := speech(p, 40)
				words := strings.Fields(final)
				for i := 1; i <= 20; i++ {
					st.Update(strings.Join(words[:len(words)*i/20], " "))
					b.Update("Board: intro, " + p.ID)
					sleep(150 * time.Millisecond)
				}
				if err := st.Close(ctx, final); err != nil {
					t.Errorf("close %s: %v", p.ID, err)
				}
			}()
		}
		wg.Wait()
		b.Update("Board: discussion")
		st, err := c.Open(ctx, bot.Post{From: seats[4], Kind: bot.KindSpeech})
		if err != nil {
			t.Errorf("open sequential: %v", err)
			return
		}
		final := speech(seats[4], 60)
		words := strings.Fields(final)
		for i := 1; i <= 10; i++ {
			st.Update(strings.Join(words[:len(words)*i/10], " "))
			sleep(300 * time.Millisecond)
		}
		if err := st.Close(ctx, final); err != nil {
			t.Errorf("close sequential: %v", err)
		}
		if ask {
			ans, err := c.AskKeywords(ctx, bot.Question{Text: "Your turn", Keywords: []string{"red", "lantern"}, Timeout: 20 * time.Second})
			if err != nil {
				t.Errorf("ask: %v", err)
			}
			answers <- ans
		}
		if err := b.Close(ctx, "Board: done"); err != nil {
			t.Errorf("close board: %v", err)
		}
		answers <- bot.Answer{Action: "done"}
	}
}

func TestGroupRoundtableSixPersonasWithinLimits(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{fakeLimits: telegramfake.TelegramLimits()})
	answers := make(chan bot.Answer, 2)
	hs.h.setScript(tableScript(t, hs, answers, false))
	hs.say(groupChat, ann, "/roundtable@"+botName+" paper lanterns")
	<-answers

	starts := hs.h.requests(bot.CmdStart)
	if len(starts) != 1 || starts[0].Text != "paper lanterns" || starts[0].Channel != "telegram:-1001" || !starts[0].User.Admin {
		t.Fatalf("start requests = %+v", starts)
	}
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("fake sent %d 429s", n)
	}
	if b := hs.fake.Broken(); len(b) != 0 {
		t.Errorf("rules broken: %q", b)
	}
	merged := hs.findText(groupChat, header(seats[0]))
	if len(merged) != 1 {
		t.Fatalf("want one merged message with %q, got %d", header(seats[0]), len(merged))
	}
	for _, p := range seats {
		want := header(p) + body(speech(p, 40))
		if !strings.Contains(merged[0].Text, want) {
			t.Errorf("merged message lacks the final section of %s:\n%s", p.ID, merged[0].Text)
		}
	}
	seq := hs.findText(groupChat, body(speech(seats[4], 60)))
	if len(seq) != 1 || seq[0].Text != header(seats[4])+body(speech(seats[4], 60)) {
		t.Errorf("sequential speech = %+v", seq)
	}
	if !seq[0].NoLinkPreview {
		t.Errorf("link preview not disabled")
	}
	if d := hs.fake.Drafts(groupChat); len(d) != 0 {
		t.Errorf("drafts used in a group: %d", len(d))
	}
	boards := hs.findText(groupChat, "Board: done")
	if len(boards) != 1 {
		t.Fatalf("board not found")
	}
	mh := boards[0].MarkupHistory
	for i, has := range mh[:len(mh)-1] {
		if !has {
			t.Errorf("board write %d of %d dropped the Stop keyboard", i, len(mh))
		}
	}
	if mh[len(mh)-1] {
		t.Errorf("final board still has the Stop button")
	}
}

func TestGroupPlainMessagesAndOtherBotsIgnored(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	hs.say(groupChat, ann, "just chatting about lanterns")
	hs.say(groupChat, ann, "/roundtable@other_bot lanterns")
	hs.say(groupChat, ann, "/weather")
	hs.say(groupChat, ann, "/status")
	hs.eventually("status", func() bool { return len(hs.h.requests(bot.CmdStatus)) == 1 })
	if r := hs.h.requests(""); len(r) != 1 {
		t.Errorf("requests = %+v", r)
	}
}

func TestCommandsMentionsAndReplies(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	cases := []struct {
		text string
		cmd  bot.Command
		want string
		opt  string
	}{
		{"/stop", bot.CmdStop, "", ""},
		{"/status@" + botName, bot.CmdStatus, "", ""},
		{"/export md", bot.CmdExport, "", "md"},
		{"/export@" + botName + " html", bot.CmdExport, "", "html"},
		{"/export json abc123", bot.CmdExport, "abc123", "json"},
		{"/export abc123 HTML", bot.CmdExport, "abc123", "html"},
		{"/export abc123", bot.CmdExport, "abc123", ""},
		{"/personas", bot.CmdPersonas, "", ""},
		{"/forget", bot.CmdForget, "", ""},
		{"/help", bot.CmdHelp, "", ""},
		{"/start", bot.CmdHelp, "", ""},
		{"/say make it blue", bot.CmdSay, "make it blue", ""},
		{"@" + botName + " a tea set", bot.CmdStart, "a tea set", ""},
	}
	for i, c := range cases {
		hs.say(groupChat, bob, c.text)
		hs.eventually(c.text, func() bool { return len(hs.h.requests("")) == i+1 })
		r := hs.h.requests("")[i]
		if r.Command != c.cmd || r.Text != c.want || r.Options["format"] != c.opt || r.User.Admin {
			t.Errorf("%q → %+v", c.text, r)
		}
	}
	// A reply to the bot starts a session; no session runs yet.
	replies := hs.findText(groupChat, "ok: ")
	hs.fake.Send(mainToken, telegramfake.In{Chat: groupChat, From: bob, Text: "ceramic cups", ReplyTo: replies[0].ID})
	hs.eventually("reply", func() bool { return len(hs.h.requests(bot.CmdStart)) == 2 })
	if r := hs.h.requests(bot.CmdStart)[1]; r.Text != "ceramic cups" || r.Conv == nil {
		t.Errorf("reply → %+v", r)
	}
	if got := hs.fake.Commands(mainToken, "all_group_chats"); len(got) == 0 || got[0].Command != "roundtable" {
		t.Errorf("group commands = %+v", got)
	}
	if got := hs.fake.Commands(mainToken, "all_private_chats"); len(got) != len(botCommands) {
		t.Errorf("private commands = %+v", got)
	}
}

func TestMentionDuringSessionIsInterjection(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	release := make(chan struct{})
	hs.h.setScript(func(ctx context.Context, req request) {
		b, _ := req.Conv.Open(ctx, bot.Post{From: moderator, Kind: bot.KindBoard, Placeholder: "Board"})
		<-release
		_ = b.Close(ctx, "Board: done")
	})
	hs.say(groupChat, ann, "/roundtable lanterns")
	hs.eventually("board", func() bool { return len(hs.findText(groupChat, "Board")) == 1 })
	hs.say(groupChat, bob, "@"+botName+" make it red")
	hs.eventually("say", func() bool { return len(hs.h.requests(bot.CmdSay)) == 1 })
	if r := hs.h.requests(bot.CmdSay)[0]; r.Text != "make it red" {
		t.Errorf("say = %+v", r)
	}
	close(release)
}

func TestPerChatOrder(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	const n = 30
	for i := range n {
		hs.say(dmChat, ann, "/say "+strings.Repeat("x", i+1))
	}
	hs.eventually("all says", func() bool { return len(hs.h.requests(bot.CmdSay)) == n })
	for i, r := range hs.h.requests(bot.CmdSay) {
		if len(r.Text) != i+1 {
			t.Fatalf("say %d has text %q: out of order", i, r.Text)
		}
	}
}

func TestDuplicateUpdateHandledOnce(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	_, uid := hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Text: "/status"})
	hs.fake.Duplicate(mainToken, uid)
	hs.say(dmChat, ann, "/personas")
	hs.eventually("personas", func() bool { return len(hs.h.requests(bot.CmdPersonas)) == 1 })
	// /status and /personas are control, each in its own goroutine: the
	// dispatcher de-duplicated before it handed /personas on, so once the
	// work in flight is done, every copy of /status that passed has run.
	hs.a.queues.Wait()
	if n := len(hs.h.requests(bot.CmdStatus)); n != 1 {
		t.Errorf("status handled %d times", n)
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{allowed: []int64{dmChat}})
	hs.say(groupChat, ann, "/status")
	hs.say(dmChat, ann, "/personas")
	hs.eventually("personas", func() bool { return len(hs.h.requests(bot.CmdPersonas)) == 1 })
	if n := len(hs.h.requests(bot.CmdStatus)); n != 0 {
		t.Errorf("a chat outside the allow-list was served")
	}
}
