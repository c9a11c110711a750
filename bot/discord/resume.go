package discord

import (
	"context"
	"fmt"
	"strings"

	"github.com/tableround/tableround/bot"
)

// Resume returns the conversation of a session's channel ("discord:<id>")
// so a session whose process died continues where it was: in its thread
// (which becomes a session thread again, so mentions there are
// interjections) or in its channel.
func (a *Adapter) Resume(ctx context.Context, channel string) (bot.Conversation, error) {
	id, ok := strings.CutPrefix(channel, platformPrefix)
	if !ok || id == "" {
		return nil, fmt.Errorf("resume %q: not a Discord channel", channel)
	}
	c, err := a.placeIn(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", channel, err)
	}
	if c.thread != "" {
		a.rememberThread(c.thread, c.parent)
	}
	return c, nil
}

const platformPrefix = "discord:"
