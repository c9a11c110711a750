package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/clock"
)

// In a private chat, a sequential speech that streams slowly (here 10
// tokens a second for 4 s) shows a draft preview with its first words
// within a second of its first token, within the chat's budget (the chat
// has just taken another message), and ends as one real message. The
// fake and the adapter share a manual clock that moves 100 ms per token,
// and only once the adapter has nothing left to do at the present time:
// the test measures the adapter's pacing, never the machine's speed.
func TestPrivateDraftShownWithinASecond(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Time{})
	hs := newHarness(t, setup{clock: clk, fakeLimits: telegramfake.TelegramLimits()})
	c := hs.a.conv(dmChat)
	ctx := context.Background()

	// The previous message: it spends part of the chat's budget.
	prev, err := c.Open(ctx, bot.Post{From: moderator, Kind: bot.KindNotice, Placeholder: "The discussion begins."})
	if err != nil {
		t.Fatal(err)
	}
	hs.closeOnClock(clk, prev, "The discussion begins.")

	st, err := c.Open(ctx, bot.Post{From: seats[0], Kind: bot.KindSpeech, Placeholder: "…"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*draftStream); !ok {
		t.Fatalf("a sequential speech in a private chat streams as %T, want a draft", st)
	}
	var words []string
	for i := range 40 {
		words = append(words, fmt.Sprintf("word%02d", i))
	}
	shown := func(text string) bool {
		for _, d := range hs.fake.Drafts(dmChat) {
			if strings.Contains(d.Text, text) {
				return true
			}
		}
		return false
	}
	first := clk.Now()
	var firstShown time.Time
	for i := range words {
		text := strings.Join(words[:i+1], " ")
		st.Update(text)
		// Time moves on only once the adapter waits for it (asleep on the
		// clock) or has shown all it has.
		hs.eventually("the adapter idle", func() bool { return clk.Sleepers() > 0 || shown(text) })
		if firstShown.IsZero() && shown(words[0]) {
			firstShown = clk.Now()
		}
		clk.Advance(100 * time.Millisecond)
	}
	if firstShown.IsZero() {
		t.Fatalf("no draft showed the speech's first words in %s of streaming; drafts: %+v", clk.Now().Sub(first), hs.fake.Drafts(dmChat))
	}
	if d := firstShown.Sub(first); d > time.Second {
		t.Errorf("the first words showed in a draft %s after the first token, want within 1s", d)
	}
	final := strings.Join(words, " ") + "."
	hs.closeOnClock(clk, st, final)
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("the fake answered %d 429s", n)
	}
	if b := hs.fake.Broken(); len(b) != 0 {
		t.Errorf("rules broken: %q", b)
	}
}

// Closing a speech streamed as a draft sends its final message at once:
// the preview is dropped, not closed, so the final waits for none of the
// preview's pacing and no slot of the chat's budget is spent on it. The
// clock stands still through the close.
func TestDraftCloseWaitsForNothingOfThePreview(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Time{})
	hs := newHarness(t, setup{clock: clk, fakeLimits: telegramfake.TelegramLimits()})
	st, err := hs.a.conv(dmChat).Open(context.Background(), bot.Post{From: seats[0], Kind: bot.KindSpeech, Placeholder: "…"})
	if err != nil {
		t.Fatal(err)
	}
	shown := func(text string) bool {
		for _, d := range hs.fake.Drafts(dmChat) {
			if strings.Contains(d.Text, text) {
				return true
			}
		}
		return false
	}
	st.Update("first words")
	hs.eventually("the first words in a draft", func() bool {
		if clk.Sleepers() > 0 {
			clk.Advance(100 * time.Millisecond)
		}
		return shown("first words")
	})
	clk.Advance(time.Minute) // the chat's budget is whole again
	st.Update("first words and more")
	hs.eventually("the newest words in a draft", func() bool {
		// The preview may have gone to sleep on the clock after the
		// minute passed (its next edit's slot): move time on for it.
		if !shown("first words and more") && clk.Sleepers() > 0 {
			clk.Advance(100 * time.Millisecond)
		}
		return shown("first words and more")
	})
	// One slot is left, and the preview's last edit was just now.
	done := make(chan error, 1)
	go func() { done <- st.Close(context.Background(), "first words and more, whole.") }()
	hs.eventually("the final sent without the clock moving", func() bool {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("close: %v", err)
			}
			return true
		default:
			return false
		}
	})
	if got := hs.findText(dmChat, "first words and more, whole."); len(got) != 1 {
		t.Errorf("the final text is in %d messages, want 1", len(got))
	}
}

// closeOnClock closes st with final, moving the manual clock on while the
// close waits for it.
func (hs *harness) closeOnClock(clk *clock.Manual, st bot.Stream, final string) {
	hs.t.Helper()
	done := make(chan error, 1)
	go func() { done <- st.Close(context.Background(), final) }()
	var err error
	hs.eventually("the final text delivered", func() bool {
		select {
		case err = <-done:
			return true
		default:
		}
		if clk.Sleepers() > 0 {
			clk.Advance(100 * time.Millisecond)
		}
		return false
	})
	if err != nil {
		hs.t.Fatalf("close: %v", err)
	}
}
