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
)

// wholeSession plays a whole session's writes as the engine makes them
// (DESIGN §2, MAX_TURNS=2, a photo): the live board edited throughout, a
// banner per stage, the five concurrent stages (six speeches each, one
// Group), twelve discussion turns, six role switches, six workshop turns,
// the final design and the closing notice. Speech streams at about 40
// tokens a second of the clock; a finished speech's final text is
// delivered while the next one streams, as roundtable's closeLater does.
// It returns every final speech text it sent.
func wholeSession(t *testing.T, hs *harness, done chan<- []string) func(ctx context.Context, req request) {
	return func(ctx context.Context, req request) {
		c := req.Conv
		var mu sync.Mutex
		var finals []string
		board, err := c.Open(ctx, bot.Post{From: moderator, Kind: bot.KindBoard, Placeholder: "Board: opening",
			Buttons: []bot.Button{{ID: "stop", Label: "⏹ Stop"}}})
		if err != nil {
			t.Errorf("open board: %v", err)
			done <- nil
			return
		}
		var closing sync.WaitGroup
		speak := func(p bot.Persona, group, stage string, n int) {
			st, err := c.Open(ctx, bot.Post{From: p, Kind: bot.KindSpeech, Group: group})
			if err != nil {
				t.Errorf("open %s in %s: %v", p.ID, stage, err)
				return
			}
			final := fmt.Sprintf("%s on %s: %s", p.ID, stage, speech(p, n))
			words := strings.Fields(final)
			for i := 1; i <= len(words); i += 4 { // 4 words a chunk, 10 chunks a second
				st.Update(strings.Join(words[:i], " "))
				_ = hs.clock.Sleep(ctx, 100*time.Millisecond)
			}
			mu.Lock()
			finals = append(finals, final)
			mu.Unlock()
			closing.Add(1)
			go func() { // delivered while the session goes on
				defer closing.Done()
				if err := st.Close(ctx, final); err != nil {
					t.Errorf("close %s in %s: %v", p.ID, stage, err)
				}
			}()
		}
		banner := func(stage string) {
			closing.Wait() // the next stage only once the chat has the last one
			board.Update("Board: " + stage)
			b, err := c.Open(ctx, bot.Post{From: moderator, Kind: bot.KindBanner, Placeholder: "Stage: " + stage})
			if err == nil {
				err = b.Close(ctx, "Stage: "+stage)
			}
			if err != nil {
				t.Errorf("banner %s: %v", stage, err)
			}
		}
		concurrent := func(stage string, n int) {
			banner(stage)
			var wg sync.WaitGroup
			for _, p := range seats {
				wg.Add(1)
				go func() {
					defer wg.Done()
					speak(p, stage, stage, n)
				}()
			}
			wg.Wait()
		}
		sequential := func(stage string, rounds, n int) {
			banner(stage)
			for r := range rounds {
				for _, p := range seats {
					board.Update(fmt.Sprintf("Board: %s, round %d, %s speaks", stage, r+1, p.ID))
					speak(p, "", stage, n)
				}
			}
		}
		concurrent("introductions", 40)
		concurrent("image stories", 40)
		sequential("discussion", 2, 60)
		concurrent("keywords", 10)
		concurrent("voting", 20)
		sequential("role switch", 1, 40)
		sequential("workshop", 1, 60)
		concurrent("design cards", 40)
		banner("final design")
		speak(seats[4], "", "final design", 60)
		closing.Wait()
		n, err := c.Open(ctx, bot.Post{From: moderator, Kind: bot.KindNotice, Placeholder: "Thanks"})
		if err == nil {
			err = n.Close(ctx, "Closing: thank you all")
		}
		if err != nil {
			t.Errorf("closing notice: %v", err)
		}
		if err := board.Close(ctx, "Board: done"); err != nil {
			t.Errorf("close board: %v", err)
		}
		done <- finals
	}
}

// TestWholeSessionWithinTelegramsBudgets runs a whole session's writes in
// a private chat against the fake at Telegram's budgets (1 per second per
// chat with bursts of 3, 30 per second per bot; drafts and private edits
// counted): no 429, and every speech's final text is in the chat when the
// closing notice is. The group case (20 per minute, edits included) takes
// twice as long and runs with -tags slow (budget_slow_test.go).
func TestWholeSessionWithinTelegramsBudgets(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a whole session at Telegram's pace: ~7 s")
	}
	wholeSessionWithinBudgets(t, "private", dmChat, "/roundtable paper lanterns")
}

// wholeSessionWithinBudgets plays wholeSession in chat and checks it.
func wholeSessionWithinBudgets(t *testing.T, name string, chat int64, text string) {
	hs := newHarness(t, setup{fakeLimits: telegramfake.TelegramLimits()})
	done := make(chan []string, 1)
	hs.h.setScript(wholeSession(t, hs, done))
	hs.say(chat, ann, text)
	finals := <-done
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("fake sent %d 429s", n)
	}
	if b := hs.fake.Broken(); len(b) != 0 {
		t.Errorf("rules broken: %q", b)
	}
	if len(finals) != 6*5+12+6+6+1 {
		t.Fatalf("%d speeches, want 55", len(finals))
	}
	var all strings.Builder
	for _, m := range hs.botMessages(chat) {
		all.WriteString(m.Text + "\n")
	}
	for _, f := range finals {
		if !strings.Contains(all.String(), body(f)) {
			t.Errorf("final text missing from the chat: %.60s…", f)
		}
	}
	if d := hs.fake.Drafts(chat); (len(d) > 0) != (chat > 0) {
		t.Errorf("%d drafts in a %s chat", len(d), name)
	}
}
