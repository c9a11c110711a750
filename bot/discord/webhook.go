package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/bwmarrin/discordgo"
)

const webhookName = "TableRound"

// errNoWebhooks means we may not manage webhooks in a channel: personas
// fall back to bot messages.
var errNoWebhooks = errors.New("discord: no Manage Webhooks permission")

// hookEntry is our webhook in one parent channel. mu serialises finding or
// creating it, so a channel gets exactly one.
type hookEntry struct {
	mu   sync.Mutex
	hook *discordgo.Webhook
}

// webhook returns our webhook in a parent channel: cached, else found
// among the channel's webhooks, else created. errNoWebhooks without the
// permission.
func (a *Adapter) webhook(ctx context.Context, parent string) (*discordgo.Webhook, error) {
	a.mu.Lock()
	e, ok := a.hooks[parent]
	if !ok {
		e = &hookEntry{}
		a.hooks[parent] = e
	}
	a.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hook != nil {
		return e.hook, nil
	}
	defer func() {
		if e.hook != nil {
			a.aliasScheduler(e.hook.ID, parent)
		}
	}()
	var list []*discordgo.Webhook
	if err := a.setupCall(ctx, http.MethodGet, discordgo.EndpointChannelWebhooks(parent), jsonBody{}, &list); err != nil {
		if isForbidden(err) {
			return nil, errNoWebhooks
		}
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	app, me := a.app(), a.id()
	for _, w := range list {
		if w.Token != "" && (w.ApplicationID == app || (w.User != nil && w.User.ID == me)) {
			e.hook = w
			return w, nil
		}
	}
	body, _ := jsonOf(map[string]string{"name": webhookName})
	w := &discordgo.Webhook{}
	if err := a.setupCall(ctx, http.MethodPost, discordgo.EndpointChannelWebhooks(parent), body, w); err != nil {
		if isForbidden(err) {
			return nil, errNoWebhooks
		}
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	a.log.Info("webhook created", "channel", parent, "webhook", w.ID)
	e.hook = w
	return w, nil
}

// dropWebhook forgets a webhook Discord says is unknown (never reuse a
// webhook that returned 404).
func (a *Adapter) dropWebhook(parent, id string) {
	a.mu.Lock()
	e := a.hooks[parent]
	a.mu.Unlock()
	if e == nil {
		return
	}
	e.mu.Lock()
	if e.hook != nil && e.hook.ID == id {
		e.hook = nil
	}
	e.mu.Unlock()
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
func (a *Adapter) execute(ctx context.Context, w *discordgo.Webhook, thread string, m webhookMessage, files []*discordgo.File) (*discordgo.Message, error) {
	m.AllowedMentions = noMentions()
	var body jsonBody
	var err error
	if len(files) > 0 {
		body.ct, body.data, err = discordgo.MultipartBodyWithJSON(m, files)
	} else {
		body, err = jsonOf(m)
	}
	if err != nil {
		return nil, fmt.Errorf("encode webhook message: %w", err)
	}
	msg := &discordgo.Message{}
	if err := a.call(ctx, http.MethodPost, hookURL(w, "", thread), body, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// editHook edits a webhook message (per-message, no shared bucket).
func (a *Adapter) editHook(ctx context.Context, w *discordgo.Webhook, thread, msgID string, m webhookMessage) error {
	m.AllowedMentions = noMentions()
	body, err := jsonOf(m)
	if err != nil {
		return fmt.Errorf("encode webhook edit: %w", err)
	}
	return a.call(ctx, http.MethodPatch, hookURL(w, msgID, thread), body, nil)
}
