package discord

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// sender is the bot.Sender of one persona message: webhook execute and
// per-message PATCH (never discordgo's shared webhook-edit bucket) through
// its slot of the channel's webhook pool, or bot messages with an embed
// author in the fallback. Every message is edited through the webhook that
// created it.
type sender struct {
	c    *conv
	post bot.Post
	pool *hookPool // nil in the fallback
	slot *hookSlot
	lane *bot.Scheduler // the writer's: tells the priority of the request being made
	// after are the finals of messages closed before this one was opened:
	// its first create waits for them (see finals).
	after []chan struct{}

	mu   sync.Mutex
	sent int
	msgs map[string]sentMsg // message ID → how it was written
}

// sentMsg is what a sender knows of a message it wrote: the webhook that
// wrote it (nil: a bot message), and the message it was posted anew as
// after that webhook was deleted ("" when not).
type sentMsg struct {
	hook   *discordgo.Webhook
	repost string
}

var _ bot.Sender = (*sender)(nil)

func (s *sender) Send(ctx context.Context, text string) (string, error) {
	s.mu.Lock()
	first := s.sent == 0
	s.mu.Unlock()
	var buttons []bot.Button
	if first {
		buttons = s.post.Buttons
		if err := s.awaitEarlier(ctx); err != nil {
			return "", err
		}
	}
	id, err := s.create(ctx, text, buttons)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
	return id, nil
}

// awaitEarlier waits for the finals of the messages closed before this
// one was opened; when it had to wait, the slot the writer took is stale
// and is taken again, so the webhook's requests stay spaced.
func (s *sender) awaitEarlier(ctx context.Context) error {
	c := s.c
	start := c.a.o.Clock.Now()
	if err := await(ctx, s.after); err != nil {
		return err
	}
	if c.a.o.Clock.Now().Sub(start) < 20*time.Millisecond {
		return nil
	}
	sched := c.fallbackScheduler()
	if s.slot != nil && !c.isFallback() {
		sched = s.slot.sched
	}
	return sched.WaitPriority(ctx, bot.PriorityFirst)
}

// create posts a new message, recreating the webhook once if Discord says
// it is unknown, and falling back to bot messages without the permission.
func (s *sender) create(ctx context.Context, text string, buttons []bot.Button) (string, error) {
	c := s.c
	for attempt := 0; ; attempt++ {
		if c.isFallback() {
			comps := c.components(buttons)
			m := botMessage{Embeds: c.embed(s.post.From, text)}
			if comps != nil {
				m.Components = &comps
			}
			msg, err := c.a.botMsgs.post(ctx, c.channel, m, nil)
			if err != nil {
				return "", gone(err)
			}
			return msg.ID, nil
		}
		if s.slot == nil { // Open always chooses one outside the fallback; be safe
			s.pool = c.a.hooks.pool(c.parent)
			s.slot = s.pool.chooseSlot()
		}
		w, err := c.a.hooks.slotHook(ctx, s.pool, s.slot)
		if errors.Is(err, errNoWebhooks) {
			c.setFallback(ctx)
			continue
		}
		if err != nil {
			return "", err
		}
		var msg *discordgo.Message
		slot := s.slot
		err = c.a.pace.write(ctx, c.channel, false, bot.PriorityFirst, func(ctx context.Context) error {
			return slot.sched.WaitPriority(ctx, bot.PriorityFirst)
		}, func(ctx context.Context) error {
			var err error
			msg, err = c.a.hooks.execute(ctx, w, c.thread, c.render(s.post.From, text, buttons), nil)
			return err
		})
		if isUnknownWebhook(err) && attempt == 0 {
			c.a.log.Warn("webhook is gone, recreating it", "channel", c.parent)
			c.a.hooks.drop(c.parent, w.ID)
			continue
		}
		if err != nil {
			return "", gone(err)
		}
		s.mu.Lock()
		s.msgs[msg.ID] = sentMsg{hook: w}
		s.mu.Unlock()
		return msg.ID, nil
	}
}

func (s *sender) Edit(ctx context.Context, id, text string) error {
	c := s.c
	s.mu.Lock()
	if r := s.msgs[id].repost; r != "" {
		id = r
	}
	w := s.msgs[id].hook
	s.mu.Unlock()
	pri := bot.PriorityRefresh
	if s.lane != nil {
		pri = s.lane.LastPriority()
	}
	if w == nil { // a bot message (fallback)
		return gone(c.a.botMsgs.patch(ctx, pri, c.channel, id, botMessage{Embeds: c.embed(s.post.From, text)}))
	}
	slot := s.slot
	err := c.a.pace.write(ctx, c.channel, true, pri, func(ctx context.Context) error {
		return slot.sched.WaitPriority(ctx, pri)
	}, func(ctx context.Context) error {
		return c.a.hooks.edit(ctx, w, c.thread, id, webhookMessage{Content: text, Flags: discordgo.MessageFlagsSuppressEmbeds})
	})
	if !isUnknownWebhook(err) {
		return gone(err)
	}
	// The webhook was deleted: its messages cannot be edited any more.
	// Post the text anew through a fresh webhook and edit that from now on.
	c.a.hooks.drop(c.parent, w.ID)
	nid, err := s.create(ctx, text, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for old, m := range s.msgs {
		if m.repost == id {
			m.repost = nid
			s.msgs[old] = m
		}
	}
	m := s.msgs[id]
	m.repost = nid
	s.msgs[id] = m
	s.mu.Unlock()
	return nil
}
