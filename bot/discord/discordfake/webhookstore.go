package discordfake

import "sync"

// webhookStore holds the channel webhooks, under its own lock.
type webhookStore struct {
	ids *snowflakes

	mu      sync.Mutex
	byID    map[string]*Webhook
	creates int
}

// webhook returns a copy of a webhook.
func (s *webhookStore) webhook(id string) (Webhook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.byID[id]
	if !ok {
		return Webhook{}, false
	}
	return *h, true
}

// create makes a webhook of app in channel; false when the channel has
// MaxWebhooksPerChannel already (every integration's count).
func (s *webhookStore) create(channel, app, name string) (Webhook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.byID {
		if h.ChannelID == channel {
			n++
		}
	}
	if n >= MaxWebhooksPerChannel {
		return Webhook{}, false
	}
	h := &Webhook{ID: s.ids.newID(), Token: "tok" + s.ids.newID(), ChannelID: channel, ApplicationID: app, Name: name}
	s.byID[h.ID] = h
	s.creates++
	return *h, true
}

// Webhooks returns a channel's webhooks.
func (s *webhookStore) Webhooks(channelID string) []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Webhook
	for _, w := range s.byID {
		if w.ChannelID == channelID {
			out = append(out, *w)
		}
	}
	return out
}

// MaxWebhooksPerChannel is Discord's cap: creating one more answers 400
// with code 30007, "Maximum number of webhooks reached".
const MaxWebhooksPerChannel = 15

// AddWebhook registers a webhook as if made before the test (by another
// integration when ApplicationID is not the bot's, or by an earlier run of
// the bot when it is); ID and Token are made when empty. It does not count
// in WebhookCreates.
func (s *webhookStore) AddWebhook(h Webhook) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.ID == "" {
		h.ID = s.ids.newID()
	}
	if h.Token == "" {
		h.Token = "tok" + s.ids.newID()
	}
	if h.Name == "" {
		h.Name = "Other"
	}
	hh := h
	s.byID[h.ID] = &hh
	return h
}

// WebhookCreates counts webhooks created so far.
func (s *webhookStore) WebhookCreates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// DeleteWebhook removes a webhook, as a moderator would.
func (s *webhookStore) DeleteWebhook(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}
