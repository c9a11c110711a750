package discord

import (
	"context"
	"errors"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// TestResumeInADeletedChannelIsGone: a session whose channel or thread no
// longer exists cannot come back, and Resume says so with bot.ErrGone.
func TestResumeInADeletedChannelIsGone(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	if _, err := hs.a.Resume(context.Background(), chanKey(hs.channel)); err != nil {
		t.Fatalf("resume in a channel that exists: %v", err)
	}
	_, err := hs.a.Resume(context.Background(), chanKey("999999999999999999"))
	if !errors.Is(err, bot.ErrGone) {
		t.Fatalf("resume in a deleted channel: %v, want bot.ErrGone", err)
	}
}
