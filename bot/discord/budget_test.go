package discord

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// Tests of the per-channel budget run Discord's limits with the channel's
// limit scaled from 30 per 60 s to 10 per 6 s (12 when edits count) and
// the adapter's channel budget scaled alike, so a session that needs the
// budget's pacing takes seconds, not minutes.
const scaledWindow = 6 * time.Second

// budgetTime is how much faster than the wall clock the budget tests run
// (the fake and the adapter on one scaled clock): the channel's window of
// 6 s passes in 1.2 s. Not faster: a request's way from the adapter to the
// fake takes wall time, which the scale multiplies, and the budgets'
// margin (under a write of the window) must cover it under load.
const budgetTime = 5

func scaledFake(countEdits bool) discordfake.Limits {
	l := discordfake.DiscordLimits()
	l.ChannelWindow = scaledWindow
	l.ChannelCountsEdits = countEdits
	l.ChannelMessages = 10
	if countEdits {
		l.ChannelMessages = 12 // so that the edits of a concurrent stage overflow it
	}
	return l
}

func scaledAdapter(countEdits bool) *Limits {
	l := DefaultLimits()
	// As DefaultLimits under Discord's 30 per 60 s: the window two writes
	// under the fake's and a sixtieth longer, spent at its own rate after a
	// small burst.
	l.ChannelWindow = Window{Limit: 8, Per: scaledWindow + scaledWindow/60}
	if countEdits {
		l.ChannelWindow.Limit = 10
	}
	l.Channel = bot.Budget{Rate: float64(l.ChannelWindow.Limit) / l.ChannelWindow.Per.Seconds(), Burst: 2}
	l.ChannelMin = l.Channel.Rate / 8
	l.GroupHorizon = DefaultGroupHorizon / 10 // the budget is scaled tenfold
	return &l
}

// Model speeds of the session script: the time between two of a speech's
// 20 updates for a ~75-token speech at 300 and at 50 tokens/s.
const (
	fastModel = 12 * time.Millisecond
	realModel = 75 * time.Millisecond
)

// sessionShape is how much a session script says: a board, stages
// concurrent stages of six, rounds rounds of six sequential speeches and
// a closing message, each speech updated 20 times, pace apart.
type sessionShape struct {
	stages, rounds int
	pace           time.Duration
}

// shapeOf reads the shape from a session's topic: "full" is the size of
// a real session (five concurrent stages, three rounds: 50 messages);
// "50 tokens/s" a real model's speed.
func shapeOf(topic string) sessionShape {
	sh := sessionShape{stages: 2, rounds: 1, pace: fastModel}
	if strings.Contains(topic, "full") {
		sh.stages, sh.rounds = 5, 3
	}
	if strings.Contains(topic, "50 tokens/s") {
		sh.pace = realModel
	}
	return sh
}

// sessionScript plays a session as the roundtable does: a board, two
// concurrent stages of six, a round of six sequential speeches, each
// closed without waiting (CloseThen), then a closing message closed with
// a wait: 20 messages, and with their edits more than the channel's
// window holds.
func sessionScript(ctx context.Context, c bot.Conversation, res *scriptResult, sh sessionShape, clk bot.Clock) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	closeAsync := func(st bot.Stream, final string) {
		wg.Add(1)
		st.(bot.AsyncCloser).CloseThen(ctx, final, func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			wg.Done()
		})
	}
	speak := func(key string, p bot.Post, final string) (bot.Stream, error) {
		st, err := c.Open(ctx, p)
		if err != nil {
			return nil, err
		}
		res.Finals[key] = final
		for j := 1; j <= 20; j++ {
			st.Update(final[:len(final)*j/20])
			_ = clk.Sleep(ctx, sh.pace) // the model's speed
		}
		return st, nil
	}
	board, err := speak("board", bot.Post{From: moderator, Kind: bot.KindBoard}, "**Roundtable**\nstage: opening")
	if err != nil {
		return err
	}
	closeAsync(board, res.Finals["board"])
	for stage := range sh.stages {
		streams := make([]bot.Stream, len(testPersonas))
		for i, p := range testPersonas {
			if streams[i], err = c.Open(ctx, bot.Post{From: p, Group: fmt.Sprint("stage", stage)}); err != nil {
				return err
			}
		}
		for _, p := range testPersonas {
			final := fmt.Sprintf("stage %d: %s", stage, finalText(p))
			res.Finals[fmt.Sprintf("s%d/%s", stage, p.ID)] = final
		}
		// The six speak at once.
		for j := 1; j <= 20; j++ {
			for i, p := range testPersonas {
				final := res.Finals[fmt.Sprintf("s%d/%s", stage, p.ID)]
				streams[i].Update(final[:len(final)*j/20])
			}
			_ = clk.Sleep(ctx, sh.pace)
		}
		for i, p := range testPersonas {
			closeAsync(streams[i], res.Finals[fmt.Sprintf("s%d/%s", stage, p.ID)])
		}
	}
	for round := range sh.rounds {
		for _, p := range testPersonas {
			final := fmt.Sprintf("round %d: %s", round, finalText(p))
			st, err := speak(fmt.Sprintf("r%d/%s", round, p.ID), bot.Post{From: p}, final)
			if err != nil {
				return err
			}
			closeAsync(st, final)
		}
	}
	closing, err := speak("closing", bot.Post{From: moderator}, "**Closing**: "+strings.Repeat("thank you all. ", 6))
	if err != nil {
		return err
	}
	if err := closing.Close(ctx, res.Finals["closing"]); err != nil {
		return err
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSession: every final shown, in exactly one message, and shown
// before the closing message appeared; no message shown twice. A
// concurrent stage's finals may share a merged message.
func checkSession(t *testing.T, hs *harness, thread string, res *scriptResult) {
	t.Helper()
	msgs := hs.fake.Messages(thread)
	var closing *discordfake.Message
	for i := range msgs {
		if msgs[i].Content == res.Finals["closing"] {
			closing = &msgs[i]
		}
	}
	if closing == nil {
		t.Fatalf("no closing message among %d", len(msgs))
	}
	opened := closing.Writes[0]
	contents := map[string]int{}
	for _, m := range msgs {
		if m.WebhookID != "" {
			contents[m.Content]++
		}
	}
	for c, n := range contents {
		if n > 1 {
			t.Errorf("%d messages show %q", n, c)
		}
	}
	for key, final := range res.Finals {
		var holders []discordfake.Message
		for _, m := range msgs {
			if m.WebhookID != "" && strings.Contains(m.Content, final) {
				holders = append(holders, m)
			}
		}
		if len(holders) != 1 {
			t.Errorf("%s: final shown in %d messages, want 1", key, len(holders))
			continue
		}
		m := holders[0]
		if m.ID == closing.ID {
			continue
		}
		shown := int64(-1)
		for i, h := range m.History {
			if strings.Contains(h, final) {
				shown = m.Writes[i]
				break
			}
		}
		if shown < 0 || shown > opened {
			t.Errorf("%s's final (write %d) is not shown before the closing message (write %d)", key, shown, opened)
		}
	}
	hs.noViolations()
}

// mergedStages counts the merged messages of concurrent stages that show
// every persona's section under its bold header.
func mergedStages(hs *harness, thread string) int {
	n := 0
	for _, m := range hs.fake.Messages(thread) {
		if m.Username != personaName(stageVoice()) {
			continue
		}
		all := true
		for _, p := range testPersonas {
			all = all && strings.Contains(m.Content, "**"+personaName(p)+"**\n")
		}
		if all {
			n++
		}
	}
	return n
}

// TestSessionUnderTheChannelLimitTakesNo429: a whole session, with a
// fast model and with a real one, under the channel's limit: no 429,
// every final shown before the closing message, the concurrent stages
// merged (the channel cannot afford six messages at once). "defaults" is
// the same session under Discord's own figures (30 per 60 s) paced by
// DefaultLimits, ten times faster than the wall clock.
func TestSessionUnderTheChannelLimitTakesNo429(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"300 tokens/s", "50 tokens/s", "defaults"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			var hs *harness
			if model == "defaults" {
				hs = newFastHarness(t, discordfake.DiscordLimits(), nil)
			} else {
				hs = newScaledHarness(t, scaledFake(false), scaledAdapter(false), budgetTime)
			}
			thread, res := hs.mention("session under the channel limit at " + model)
			checkSession(t, hs, thread, res)
			if n := hs.fake.RateLimited(); n != 0 {
				t.Errorf("fake sent %d 429s (%d shared), want 0", n, hs.fake.SharedLimited(""))
			}
			merged := mergedStages(hs, thread)
			t.Logf("%d messages, %d merged stages", len(hs.fake.Messages(thread)), merged)
			if model != "defaults" && merged != 2 {
				t.Errorf("%d merged stage messages, want 2 (both concurrent stages)", merged)
			}
		})
	}
}

// TestSessionLearnsThatEditsCount: with edits counted toward the
// channel's limit (undocumented either way), a session with a fast and
// with a real model takes at most two 429s, learns from the first that
// edits count, and loses nothing.
func TestSessionLearnsThatEditsCount(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"300 tokens/s", "50 tokens/s"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			hs := newScaledHarness(t, scaledFake(true), scaledAdapter(true), budgetTime)
			thread, res := hs.mention("session with edits counted at " + model)
			checkSession(t, hs, thread, res)
			n := hs.fake.RateLimited()
			t.Logf("429s: %d (shared %d), channel rate now %.2f/s", n, hs.fake.SharedLimited(""), hs.a.Pacing(thread).Rate)
			if n > 2 {
				t.Errorf("fake sent %d 429s, want at most 2 (the adapter learns that edits count)", n)
			}
			if n > 0 && !hs.a.pace.editsCount() {
				t.Error("a shared 429 came, and the adapter did not learn that edits count")
			}
		})
	}
}

// TestSharedLimitHoldsOnlyItsChannel: a shared 429 with Discord's 45 s
// retry_after, injected into one session's thread mid-stream, holds that
// thread alone: a session in another thread of the same channel, through
// the same webhooks, streams to its end meanwhile, and the held thread's
// texts all arrive after the wait, each message once. The 45 s pass on
// the clock the fake and the adapter share (testClock.jump), not in real
// time.
func TestSharedLimitHoldsOnlyItsChannel(t *testing.T) {
	t.Parallel()
	hs := newScaledHarness(t, scaledFake(false), scaledAdapter(false), budgetTime)
	other := hs.channel
	held, err := hs.fake.PostUser(hs.channel, hs.user, "table in the held channel", true)
	if err != nil {
		t.Fatal(err)
	}
	hs.findMessage(held, "the held session's first message", func(m discordfake.Message) bool { return m.WebhookID != "" })
	const hold = 45 * time.Second
	hs.fake.BlockChannel(held, hold)
	free, err := hs.fake.PostUser(other, hs.user, "quick in another channel", true)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]*scriptResult{}
	r := hs.h.result(t)
	results[strings.TrimPrefix(r.Req.Channel, "discord:")] = r
	if _, ok := results[free]; !ok {
		t.Fatalf("the held session finished first, within its hold")
	}
	hs.eventually("the held thread on hold", func() bool { return !hs.a.Pacing(held).Until.IsZero() })
	if n := len(hs.h.results); n != 0 {
		t.Fatalf("%d more sessions finished before the hold's 45 s passed", n)
	}
	before := len(hs.fake.Messages(held))
	hs.clock.jump(hold)
	r = hs.h.result(t)
	results[strings.TrimPrefix(r.Req.Channel, "discord:")] = r
	if len(hs.fake.Messages(held)) <= before {
		t.Errorf("no message of the held session arrived after the wait")
	}
	for ch, r := range results {
		for id, final := range r.Finals {
			n := 0
			for _, m := range hs.fake.Messages(ch) {
				if m.WebhookID != "" && strings.Contains(m.Content, final) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s in %s: final shown in %d messages, want 1", id, ch, n)
			}
		}
	}
	if hs.fake.SharedLimited(held) == 0 || hs.fake.SharedLimited(free) != 0 {
		t.Errorf("shared 429s: held %d, free %d; want some and none", hs.fake.SharedLimited(held), hs.fake.SharedLimited(free))
	}
	hs.noViolations()
}
