//go:build slow

package discord

import (
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
)

// The budget tests at full scale: Discord's reported per-channel limit
// as it is (30 creates per 60 s), the adapter's default limits, and a
// session of a real session's size (50 messages). They take a minute or
// two each, so they run with -tags slow:
//
//	go test -race -tags slow ./bot/discord -run FullSession -v

// fullSession runs a full-size session and returns its harness and thread.
func fullSession(t *testing.T, fl discordfake.Limits, topic string) (*harness, string, *scriptResult) {
	hs := newHarness(t, fl, nil)
	id, err := hs.fake.PostUser(hs.channel, hs.user, topic, true)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case r := <-hs.h.results:
		if r.Err != nil {
			t.Fatalf("script: %v", r.Err)
		}
		t.Logf("session took %s, %d messages, %d merged stages", time.Since(start).Round(time.Second), len(hs.fake.Messages(id)), mergedStages(hs, id))
		return hs, id, r
	case <-time.After(6 * time.Minute):
		t.Fatal("session did not finish")
		return nil, "", nil
	}
}

// TestFullSessionUnderDiscordsChannelLimit: at 300 and at 50 tokens/s, a
// full-size session finishes with no 429 and every final shown before the
// closing message.
func TestFullSessionUnderDiscordsChannelLimit(t *testing.T) {
	for _, model := range []string{"300 tokens/s", "50 tokens/s"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			hs, id, res := fullSession(t, discordfake.DiscordLimits(), "session full at "+model)
			checkSession(t, hs, id, res)
			if n := hs.fake.RateLimited(); n != 0 {
				t.Errorf("fake sent %d 429s (%d shared), want 0", n, hs.fake.SharedLimited(""))
			}
		})
	}
}

// TestFullSessionWithEditsCounted: with edits counted toward the channel
// limit, at most two 429s and nothing lost.
func TestFullSessionWithEditsCounted(t *testing.T) {
	for _, model := range []string{"300 tokens/s", "50 tokens/s"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			fl := discordfake.DiscordLimits()
			fl.ChannelCountsEdits = true
			hs, id, res := fullSession(t, fl, "session full with edits counted at "+model)
			checkSession(t, hs, id, res)
			if n := hs.fake.RateLimited(); n > 2 {
				t.Errorf("fake sent %d 429s (%d shared), want at most 2", n, hs.fake.SharedLimited(""))
			}
		})
	}
}
