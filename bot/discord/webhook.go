package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

const webhookName = "TableRound"

// errNoWebhooks means we may not manage webhooks in a channel: personas
// fall back to bot messages.
var errNoWebhooks = errors.New("discord: no Manage Webhooks permission")

// codeMaxWebhooks is Discord's "Maximum number of webhooks reached" (15
// per channel).
const codeMaxWebhooks = 30007

// hookPool is our webhooks in one parent channel: up to Limits.Webhooks
// slots, each with its own scheduler (Discord's 5-per-2-s bucket is per
// webhook) under the token's global one. A slot's webhook is found among
// the channel's webhooks (ours from an earlier run) or created the first
// time a message is sent through the slot, and recreated after a 404.
// Threads use their parent channel's pool (with thread_id).
type hookPool struct {
	parent string
	slots  []*hookSlot

	setup sync.Mutex // serialises listing and creating webhooks
	pick  sync.Mutex // choosing a slot and joining its scheduler go together

	mu     sync.Mutex // guards the fields below and every slot's hook
	listed bool
	full   bool   // Discord refused another webhook (30007): use the ones we have
	picks  uint64 // a counter for the slots' last pick
}

// hookSlot is one webhook of a pool.
type hookSlot struct {
	index  int
	sched  *bot.Scheduler
	hook   *discordgo.Webhook // nil until found or created (pool.mu)
	picked uint64             // when last chosen (pool.pick)
}

// webhooks are the adapter's webhook pools, one per parent channel, and
// the calls made through them.
type webhooks struct {
	n      int // webhooks per channel (Limits.Webhooks)
	rest   *rest
	who    *identity
	scheds *schedBook
	log    *slog.Logger
	pools  poolBook
}

// pool returns a parent channel's webhook pool; nothing is fetched yet.
func (a *webhooks) pool(parent string) *hookPool {
	return a.pools.get(parent, func() *hookPool {
		p := &hookPool{parent: parent}
		for i := range a.n {
			p.slots = append(p.slots, &hookSlot{index: i, sched: a.scheds.get(fmt.Sprintf("hook:%s#%d", parent, i))})
		}
		return p
	})
}

// choose picks the slot for a new message (p.pick held): the one with the
// fewest messages streaming through it, preferring a webhook that exists
// over creating one, then the one least recently picked. After Discord
// refused another webhook only slots with a webhook are chosen.
func (p *hookPool) choose() *hookSlot {
	p.mu.Lock()
	full := p.full
	has := make([]bool, len(p.slots))
	anyHook := false
	for i, s := range p.slots {
		has[i] = s.hook != nil
		anyHook = anyHook || has[i]
	}
	p.picks++
	now := p.picks
	p.mu.Unlock()
	var best *hookSlot
	bestActive, bestNew := 0, false
	for i, s := range p.slots {
		if full && anyHook && !has[i] {
			continue
		}
		active, isNew := s.sched.Active(), !has[i]
		better := best == nil || active < bestActive ||
			active == bestActive && (!isNew && bestNew || isNew == bestNew && s.picked < best.picked)
		if better {
			best, bestActive, bestNew = s, active, isNew
		}
	}
	best.picked = now
	return best
}

// chooseSlot picks a slot for a one-off message.
func (p *hookPool) chooseSlot() *hookSlot {
	p.pick.Lock()
	defer p.pick.Unlock()
	return p.choose()
}

// ensureListed finds our webhooks in the parent channel once per process
// (reusing those an earlier run created, by application or bot ID).
// errNoWebhooks without the permission.
func (a *webhooks) ensureListed(ctx context.Context, p *hookPool) error {
	p.setup.Lock()
	defer p.setup.Unlock()
	return a.listLocked(ctx, p)
}

// listLocked lists the channel's webhooks (p.setup held).
func (a *webhooks) listLocked(ctx context.Context, p *hookPool) error {
	p.mu.Lock()
	listed := p.listed
	p.mu.Unlock()
	if listed {
		return nil
	}
	var list []*discordgo.Webhook
	if err := a.rest.setupCall(ctx, http.MethodGet, discordgo.EndpointChannelWebhooks(p.parent), jsonBody{}, &list); err != nil {
		if isForbidden(err) {
			return errNoWebhooks
		}
		return fmt.Errorf("list webhooks: %w", err)
	}
	app, me := a.who.app(), a.who.bot()
	var ours []*discordgo.Webhook
	for _, w := range list {
		if w.Token != "" && (app != "" && w.ApplicationID == app || me != "" && w.User != nil && w.User.ID == me) {
			ours = append(ours, w)
		}
	}
	slices.SortFunc(ours, func(x, y *discordgo.Webhook) int { return cmpSnowflake(x.ID, y.ID) })
	p.mu.Lock()
	for i, w := range ours {
		if i < len(p.slots) && p.slots[i].hook == nil {
			p.slots[i].hook = w
			a.scheds.alias(w.ID, p.slots[i].sched)
		}
	}
	p.listed = true
	p.mu.Unlock()
	if len(ours) > 0 {
		a.log.Debug("webhooks reused", "channel", p.parent, "count", min(len(ours), len(p.slots)))
	}
	return nil
}

// slotHook is the webhook to send a new message of slot s through: the
// slot's own, created when it has none. When Discord refuses another
// webhook in the channel (its cap of 15 counts other integrations' too),
// the pool keeps the ones it has and s borrows one of them. errNoWebhooks
// without the permission or any webhook at all.
func (a *webhooks) slotHook(ctx context.Context, p *hookPool, s *hookSlot) (*discordgo.Webhook, error) {
	p.mu.Lock()
	w := s.hook
	p.mu.Unlock()
	if w != nil {
		return w, nil
	}
	p.setup.Lock()
	defer p.setup.Unlock()
	if err := a.listLocked(ctx, p); err != nil {
		return nil, err
	}
	p.mu.Lock()
	w, full := s.hook, p.full
	p.mu.Unlock()
	if w != nil {
		return w, nil
	}
	if !full {
		body, _ := jsonOf(map[string]string{"name": webhookName})
		nw := &discordgo.Webhook{}
		err := a.rest.setupCall(ctx, http.MethodPost, discordgo.EndpointChannelWebhooks(p.parent), body, nw)
		switch _, code := errCode(err); {
		case err == nil:
			a.log.Info("webhook created", "channel", p.parent, "webhook", nw.ID, "slot", s.index)
			p.mu.Lock()
			s.hook = nw
			p.mu.Unlock()
			a.scheds.alias(nw.ID, s.sched)
			return nw, nil
		case isForbidden(err):
			return nil, errNoWebhooks
		case code == codeMaxWebhooks:
			a.log.Warn("the channel has Discord's maximum of webhooks, using the ones we have", "channel", p.parent)
			p.mu.Lock()
			p.full = true
			p.mu.Unlock()
		default:
			return nil, fmt.Errorf("create webhook: %w", err)
		}
	}
	// Borrow the webhook of the least busy slot that has one.
	var best *hookSlot
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.slots {
		if o.hook != nil && (best == nil || o.sched.Active() < best.sched.Active()) {
			best = o
		}
	}
	if best == nil {
		return nil, errNoWebhooks
	}
	return best.hook, nil
}

// dropWebhook forgets a webhook Discord says is unknown (never reuse a
// webhook that returned 404); its slot creates a new one when next used.
func (a *webhooks) drop(parent, id string) {
	p := a.pool(parent)
	p.mu.Lock()
	for _, s := range p.slots {
		if s.hook != nil && s.hook.ID == id {
			s.hook = nil
			p.full = false
		}
	}
	p.mu.Unlock()
	a.scheds.drop(id)
}

// cmpSnowflake orders Discord IDs by age.
func cmpSnowflake(x, y string) int {
	if len(x) != len(y) {
		return len(x) - len(y)
	}
	return strings.Compare(x, y)
}

// hookURL is the execute URL (msgID empty) or a message's URL of a
// webhook, with wait and thread_id.
func hookURL(w *discordgo.Webhook, msgID, thread string) string {
	q := url.Values{}
	u := discordgo.EndpointWebhookToken(w.ID, w.Token)
	if msgID == "" {
		q.Set("wait", "true")
	} else {
		u = discordgo.EndpointWebhookMessage(w.ID, w.Token, msgID)
	}
	if thread != "" {
		q.Set("thread_id", thread)
	}
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// noMentions is sent on every create, edit and interaction response.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// webhookMessage is the body of an execute or an edit.
type webhookMessage struct {
	Content         string                            `json:"content,omitempty"`
	Username        string                            `json:"username,omitempty"`
	AvatarURL       string                            `json:"avatar_url,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Components      []discordgo.MessageComponent      `json:"components,omitempty"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Flags           discordgo.MessageFlags            `json:"flags,omitempty"`
}

// execute posts through a webhook (files as multipart) and returns the
// message (wait=true).
func (a *webhooks) execute(ctx context.Context, w *discordgo.Webhook, thread string, m webhookMessage, files []*discordgo.File) (*discordgo.Message, error) {
	m.AllowedMentions = noMentions()
	body, err := bodyOf(m, files)
	if err != nil {
		return nil, fmt.Errorf("encode webhook message: %w", err)
	}
	msg := &discordgo.Message{}
	if err := a.rest.call(ctx, http.MethodPost, hookURL(w, "", thread), body, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// editHook edits a webhook message (per-message, no shared bucket).
func (a *webhooks) edit(ctx context.Context, w *discordgo.Webhook, thread, msgID string, m webhookMessage) error {
	m.AllowedMentions = noMentions()
	body, err := jsonOf(m)
	if err != nil {
		return fmt.Errorf("encode webhook edit: %w", err)
	}
	return a.rest.call(ctx, http.MethodPatch, hookURL(w, msgID, thread), body, nil)
}
