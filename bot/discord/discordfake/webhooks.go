package discordfake

import (
	"net/http"
)

// execute serves POST /webhooks/{id}/{token}: a channel webhook, or an
// interaction followup when id is the application.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, auth, id, token string) {
	p, files, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == s.appID {
		in, ok := s.interactions.get(token)
		if !ok || len(in.Callbacks) == 0 {
			writeErr(w, http.StatusNotFound, 10015, "Unknown Webhook")
			return
		}
		if !s.checkWrite(w, "POST /webhooks/{app}/{token}", p, true, files) {
			return
		}
		m := s.newMessage(in.ChannelID, s.bot.ID, s.bot.Name)
		m.apply(p, files)
		s.interactions.update(token, func(in *Interaction) { in.Followups = append(in.Followups, m) })
		writeJSON(w, m.json(s.bot.ID))
		return
	}
	h, ok := s.webhook(id)
	if !ok {
		writeErr(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	if h.Token != token {
		writeErr(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token")
		return
	}
	channel := h.ChannelID
	if t := r.URL.Query().Get("thread_id"); t != "" {
		if c, ok := s.channel(t); !ok || c.ParentID != h.ChannelID {
			writeErr(w, http.StatusBadRequest, 10003, "Unknown Channel")
			return
		}
		channel = t
	}
	if !s.admit(w, admission{token: auth, hook: id, persona: true, channel: channel}) || !s.checkWrite(w, "POST /webhooks/{id}/{token}", p, true, files) {
		return
	}
	name, _ := p["username"].(string)
	if name == "" {
		name = h.Name
	}
	m := s.newMessage(channel, h.ID, name)
	m.WebhookID = h.ID
	m.AvatarURL, _ = p["avatar_url"].(string)
	m.apply(p, files)
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, m.json(s.bot.ID))
}

// editWebhookMessage serves PATCH /webhooks/{id}/{token}/messages/{id},
// including an interaction's @original.
func (s *Server) editWebhookMessage(w http.ResponseWriter, r *http.Request, auth, id, token, msg string) {
	p, files, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == s.appID {
		in, ok := s.interactions.get(token)
		if !ok || in.Original == nil || msg != "@original" {
			writeErr(w, http.StatusNotFound, 10008, "Unknown Message")
			return
		}
		if !s.checkWrite(w, "PATCH /webhooks/{app}/{token}/messages/@original", p, false, files) {
			return
		}
		in.Original.Edits++
		in.Original.apply(p, files)
		writeJSON(w, in.Original.json(s.bot.ID))
		return
	}
	h, ok := s.webhook(id)
	if !ok {
		writeErr(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	if h.Token != token {
		writeErr(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token")
		return
	}
	channel := h.ChannelID
	if t := r.URL.Query().Get("thread_id"); t != "" {
		channel = t
	}
	m := s.messages[msg]
	if m != nil && m.WebhookID != "" && m.WebhookID != id {
		// Discord only lets the webhook that created a message edit it.
		s.violate("PATCH /webhooks/{id}/{token}/messages/{id}: message %s edited through webhook %s, created by %s", msg, id, m.WebhookID)
	}
	if m == nil || m.WebhookID != id || m.ChannelID != channel {
		writeErr(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	if !s.admit(w, admission{token: auth, hook: id, edit: m.ID, persona: true, channel: channel}) || !s.checkWrite(w, "PATCH /webhooks/{id}/{token}/messages/{id}", p, false, files) {
		return
	}
	m.Edits++
	m.apply(p, files)
	writeJSON(w, m.json(s.bot.ID))
}

// callback serves an interaction's first (and only) response.
func (s *Server) callback(w http.ResponseWriter, r *http.Request, id, token string) {
	p, files, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.interactions.get(token)
	if !ok || in.ID != id {
		writeErr(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	}
	if len(in.Callbacks) > 0 {
		writeErr(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	typ, _ := p["type"].(float64)
	data, _ := p["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	flags, _ := data["flags"].(float64)
	route := "POST /interactions/{id}/{token}/callback"
	switch int(typ) {
	case 4:
		if !s.checkWrite(w, route, data, true, files) {
			return
		}
		in.Original = s.newMessage(in.ChannelID, s.bot.ID, s.bot.Name)
		in.Original.apply(data, files)
		in.Ephemeral = int(flags)&64 != 0
	case 5: // deferred: the original exists once edited, outside the channel's list
		in.Original = &Message{ID: s.newID(), ChannelID: in.ChannelID, AuthorID: s.bot.ID, Username: s.bot.Name, Created: s.o.Now()}
		in.Ephemeral = int(flags)&64 != 0
	case 6:
	case 7:
		m := s.messages[in.source]
		if m == nil {
			writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: no message to update")
			return
		}
		if !s.checkWrite(w, route, data, false, files) {
			return
		}
		m.Edits++
		m.apply(data, files)
	case 9:
		if len(in.Callbacks) > 0 {
			writeErr(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
			return
		}
		in.Modal = data
	default:
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: type")
		return
	}
	in.Callbacks = append(in.Callbacks, int(typ))
	s.interactions.update(token, func(stored *Interaction) {
		stored.Callbacks, stored.Original, stored.Ephemeral, stored.Modal = in.Callbacks, in.Original, in.Ephemeral, in.Modal
	})
	w.WriteHeader(http.StatusNoContent)
}
