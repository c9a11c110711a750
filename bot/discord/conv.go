package discord

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// conv is a session's place: a thread (with its parent's webhooks) or a
// channel. It implements bot.Conversation.
type conv struct {
	a       *Adapter
	channel string // where messages go
	parent  string // the webhooks' channel; "" where webhooks cannot exist (DMs)
	thread  string // channel when it is a thread, else ""

	mu       sync.Mutex
	fallback bool
	finals   finals // closed messages whose final text is on its way
	groups   groups // concurrent stages merged into one message (merged.go)
}

var _ bot.Conversation = (*conv)(nil)

// newConv prepares a place: finds our webhooks in the parent channel (they
// are created when first needed), or falls back to bot messages (and says
// so once per channel).
func (a *Adapter) newConv(ctx context.Context, channel, parent, thread string) (*conv, error) {
	c := &conv{a: a, channel: channel, parent: parent, thread: thread, fallback: parent == ""}
	if parent == "" {
		return c, nil
	}
	if err := a.hooks.ensureListed(ctx, a.hooks.pool(parent)); err != nil {
		if !errors.Is(err, errNoWebhooks) {
			return nil, err
		}
		c.fallback = true
		a.announceFallback(ctx, c)
	}
	return c, nil
}

func (c *conv) isFallback() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fallback
}

func (c *conv) setFallback(ctx context.Context) {
	c.mu.Lock()
	was := c.fallback
	c.fallback = true
	c.mu.Unlock()
	if !was {
		c.a.announceFallback(ctx, c)
	}
}

func (a *Adapter) announceFallback(ctx context.Context, c *conv) {
	key := c.parent
	if key == "" {
		key = c.channel
	}
	if !a.announced.first(key) {
		return
	}
	a.log.Info("no Manage Webhooks permission, personas post as the bot", "channel", key)
	text := "I can't manage webhooks here, so the whole table speaks through me. " +
		"Give me the **Manage Webhooks** permission and each persona posts under its own name and avatar."
	if _, err := a.botMsgs.send(ctx, c.channel, botMessage{Content: text}, nil); err != nil {
		a.log.Warn("announce fallback", "err", err)
	}
}

// fallbackScheduler is the budget of the bot messages in this place.
func (c *conv) fallbackScheduler() *bot.Scheduler { return c.a.scheds.get("ch:" + c.channel) }

// Open starts a persona message streamed by a StreamWriter. With webhooks
// the message goes through the pool's least busy webhook (and is edited
// through it for good), paced by that webhook's scheduler.
func (c *conv) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	if st, ok, err := c.openSection(ctx, p); ok {
		return st, err
	}
	s := &sender{c: c, post: p, msgs: map[string]sentMsg{}, after: c.finals.before()}
	o := bot.WriterOptions{
		Limit:       maxContent,
		Placeholder: p.Placeholder,
		MinInterval: c.a.lim.EditInterval,
		Clock:       c.a.o.Clock,
		Logger:      c.a.log.With("channel", c.channel, "persona", p.From.ID),
		// A create that had to wait for its webhook or the token shows the
		// words that arrived meanwhile: under a full token budget that
		// saves a write per speaker and shows the first words at once.
		WordsInPlaceholder: true,
		OnCreate:           s.reportCreated,
	}
	c.a.o.Hooks.Apply(&o)
	if c.isFallback() {
		s.lane = c.fallbackScheduler().Lane()
		o.Scheduler = s.lane
		return &orderedStream{StreamWriter: bot.NewStreamWriter(ctx, s, o), f: &c.finals}, nil
	}
	pool := c.a.hooks.pool(c.parent)
	pool.pick.Lock() // the writer joins the chosen slot before the next choice
	defer pool.pick.Unlock()
	s.pool, s.slot = pool, pool.choose()
	s.lane = s.slot.sched.Lane()
	o.Scheduler = s.lane
	return &orderedStream{StreamWriter: bot.NewStreamWriter(ctx, s, o), f: &c.finals}, nil
}

// SendImage posts a picture as the persona.
func (c *conv) SendImage(ctx context.Context, from bot.Persona, img bot.Attachment, caption string) error {
	if len(img.Data) > maxUpload {
		return fmt.Errorf("discord: image %s is %d bytes, over the upload cap", img.Name, len(img.Data))
	}
	files := func() []*discordgo.File {
		return []*discordgo.File{{Name: img.Name, ContentType: img.MIME, Reader: strings.NewReader(string(img.Data))}}
	}
	caption = truncate(caption, maxContent)
	if err := await(ctx, c.finals.before()); err != nil {
		return err
	}
	var slot *hookSlot
	sched := func() *bot.Scheduler {
		if c.isFallback() {
			return c.fallbackScheduler()
		}
		if slot == nil {
			slot = c.a.hooks.pool(c.parent).chooseSlot()
		}
		return slot.sched
	}
	return c.withRetry(ctx, sched, func(ctx context.Context) error {
		if c.isFallback() {
			_, err := c.a.botMsgs.post(ctx, c.channel, botMessage{Content: truncate("**"+displayName(from)+"** — "+caption, maxContent)}, files())
			return err
		}
		w, err := c.a.hooks.slotHook(ctx, c.a.hooks.pool(c.parent), slot)
		if err != nil {
			return err
		}
		err = c.a.pace.write(ctx, c.channel, false, bot.PriorityFirst, func(ctx context.Context) error {
			return slot.sched.WaitPriority(ctx, bot.PriorityFirst)
		}, func(ctx context.Context) error {
			_, err := c.a.hooks.execute(ctx, w, c.thread, c.render(from, caption, nil), files())
			return err
		})
		if isUnknownWebhook(err) {
			c.a.hooks.drop(c.parent, w.ID)
		}
		return err
	})
}

// withRetry runs a one-off request through the budget sched returns,
// riding out a bounded number of 429s and unknown-webhook recreations.
func (c *conv) withRetry(ctx context.Context, sched func() *bot.Scheduler, call func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		sch := sched()
		if err := sch.WaitPriority(ctx, bot.PriorityFirst); err != nil {
			return err
		}
		err = call(ctx)
		var rl *bot.RateLimitError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &rl):
			sch.Penalize(rl.RetryAfter, rl.Global)
		case errors.Is(err, errNoWebhooks):
			c.setFallback(ctx)
		case isUnknownWebhook(err):
		default:
			return err
		}
	}
	return err
}

// render is a webhook message as a persona.
func (c *conv) render(p bot.Persona, text string, buttons []bot.Button) webhookMessage {
	return webhookMessage{
		Content:    text,
		Username:   personaName(p),
		AvatarURL:  c.a.avatar(p),
		Flags:      discordgo.MessageFlagsSuppressEmbeds,
		Components: c.components(buttons),
	}
}

// embed is a persona's bot message in the fallback.
func (c *conv) embed(p bot.Persona, text string) []*discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Author:      &discordgo.MessageEmbedAuthor{Name: personaName(p), IconURL: c.a.avatar(p)},
		Description: text,
	}
	if v, err := strconv.ParseUint(strings.TrimPrefix(p.Color, "#"), 16, 32); err == nil {
		e.Color = int(v)
	}
	return []*discordgo.MessageEmbed{e}
}

func (c *conv) components(buttons []bot.Button) []discordgo.MessageComponent {
	if len(buttons) == 0 {
		return nil
	}
	var row []discordgo.MessageComponent
	for _, b := range buttons {
		style := discordgo.SecondaryButton
		if b.ID == "stop" {
			style = discordgo.DangerButton
		}
		row = append(row, discordgo.Button{Label: b.Label, Style: style, CustomID: customID(b.ID, c.channel)})
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: row}}
}

func (a *Adapter) avatar(p bot.Persona) string {
	if p.AvatarURL != "" {
		return p.AvatarURL
	}
	if a.o.AvatarURL != nil {
		return a.o.AvatarURL(p)
	}
	return ""
}

// personaName is a webhook username: emoji, name and role, without the
// words Discord refuses, at most 80 characters.
func personaName(p bot.Persona) string {
	n := strings.TrimSpace(p.Name)
	if p.Emoji != "" {
		n = p.Emoji + " " + n
	}
	if p.Role != "" && !p.Moderator {
		n += " · " + p.Role
	}
	n = truncate(sanitizeName(strings.TrimSpace(n)), 80)
	if n == "" {
		return webhookName
	}
	return n
}

func displayName(p bot.Persona) string { return sanitizeName(p.Name) }

// sanitizeName breaks "discord" and "clyde" (any case), which Discord
// refuses in webhook usernames.
func sanitizeName(s string) string {
	for _, w := range []struct{ bad, pos string }{{"discord", "o"}, {"clyde", "y"}} {
		for {
			i := strings.Index(strings.ToLower(s), w.bad)
			if i < 0 {
				break
			}
			j := i + strings.Index(w.bad, w.pos)
			repl := "0"
			if w.pos == "y" {
				repl = "i"
			}
			s = s[:j] + repl + s[j+1:]
		}
	}
	return s
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
