package discord

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

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
	if err != nil { // a deleted channel or thread is bot.ErrGone: the session is abandoned
		return nil, fmt.Errorf("resume %s: %w", channel, gone(err))
	}
	if c.thread != "" {
		a.threads.remember(c.thread, c.parent)
	}
	return c, nil
}

const platformPrefix = "discord:"

var _ bot.Reattacher = (*conv)(nil)

// reportCreated tells the post's Created about a new message as
// "<webhook ID>/<message ID>" ("/<message ID>" for a bot message): a
// webhook's message can only be edited through that webhook.
func (s *sender) reportCreated(id string) {
	if s.post.Created == nil {
		return
	}
	s.mu.Lock()
	w := s.msgs[id].hook
	s.mu.Unlock()
	hook := ""
	if w != nil {
		hook = w.ID
	}
	s.post.Created(hook + "/" + id)
}

// Reattach takes over messages a previous process posted in this place
// (bot.Reattacher; refs as reportCreated made them): each is edited
// through the webhook that wrote it, one of ours found among the channel's
// webhooks, or as a bot message.
func (c *conv) Reattach(ctx context.Context, p bot.Post, refs []string) (bot.Stream, error) {
	s := &sender{c: c, post: p, msgs: map[string]sentMsg{}, sent: len(refs)}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		hook, id, ok := strings.Cut(ref, "/")
		if !ok || id == "" {
			return nil, fmt.Errorf("reattach %q: not a message reference", ref)
		}
		ids = append(ids, id)
		if hook == "" {
			continue // a bot message: edited as one
		}
		w, slot, err := c.ourHook(ctx, hook)
		if err != nil {
			return nil, fmt.Errorf("reattach message %s: %w", id, err)
		}
		s.msgs[id] = sentMsg{hook: w}
		if s.slot == nil {
			s.pool, s.slot = c.a.hooks.pool(c.parent), slot
		}
	}
	o := bot.WriterOptions{
		Limit:       maxContent,
		Placeholder: p.Placeholder,
		MinInterval: c.a.lim.EditInterval,
		Clock:       c.a.o.Clock,
		Logger:      c.a.log.With("channel", c.channel, "persona", p.From.ID),
		OnCreate:    s.reportCreated,
		Existing:    ids,
		Scheduler:   c.fallbackScheduler(),
	}
	if s.slot != nil {
		o.Scheduler = s.slot.sched
	}
	return bot.NewStreamWriter(ctx, s, o), nil
}

// ourHook finds webhook id among our webhooks of the place's parent.
func (c *conv) ourHook(ctx context.Context, id string) (*discordgo.Webhook, *hookSlot, error) {
	if c.parent == "" {
		return nil, nil, fmt.Errorf("webhook %s: no webhooks here: %w", id, bot.ErrGone)
	}
	p := c.a.hooks.pool(c.parent)
	if err := c.a.hooks.ensureListed(ctx, p); err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.slots {
		if s.hook != nil && s.hook.ID == id {
			return s.hook, s, nil
		}
	}
	return nil, nil, fmt.Errorf("webhook %s is not one of ours any more: %w", id, bot.ErrGone)
}
