package discord

import (
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// A message that does not mention the bot reaches the manager only with
// DISCORD_MESSAGE_CONTENT and only in a session thread (as an unaddressed
// mention the manager turns into an interjection); anywhere else it costs
// no call at all, so no store round trip either.
func TestPlainMessagesCountOnlyInSessionThreads(t *testing.T) {
	t.Parallel()
	hs := newScaledHarness(t, discordfake.Limits{}, &fastLimits, 1, func(hs *harness) { hs.messageContent = true })
	hs.mention("quick plain lantern")
	thread := ""
	for _, r := range hs.h.requests(bot.CmdStart) {
		thread = strings.TrimPrefix(r.Channel, "discord:")
	}
	if thread == "" || thread == hs.channel {
		t.Fatalf("no session thread (start channel %q)", thread)
	}
	calls := func() int {
		hs.h.mu.Lock()
		defer hs.h.mu.Unlock()
		return len(hs.h.reqs)
	}
	before := calls()
	if _, err := hs.fake.PostUser(hs.channel, hs.user, "chatter in the channel", false); err != nil {
		t.Fatal(err)
	}
	if _, err := hs.fake.PostUser(thread, hs.user, "make it blue", false); err != nil {
		t.Fatal(err)
	}
	hs.eventually("the thread's plain message as an interjection", func() bool { return len(hs.h.requests(bot.CmdSay)) == 1 })
	say := hs.h.requests(bot.CmdSay)[0]
	if say.Text != "make it blue" || !say.Unaddressed || say.Channel != "discord:"+thread {
		t.Errorf("say = %+v", say)
	}
	// A bare mention in the channel asks for help. The channel's events are
	// handled in order, so once the help request is in, the chatter before
	// it has been handled too: it must not have reached the handler.
	if _, err := hs.fake.PostUser(hs.channel, hs.user, "", true); err != nil {
		t.Fatal(err)
	}
	hs.eventually("the help request", func() bool { return len(hs.h.requests(bot.CmdHelp)) == 1 })
	if n := calls() - before; n != 2 {
		t.Errorf("%d requests reached the handler, want the thread's message and the help only", n)
	}
}
