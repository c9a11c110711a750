package discordfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serve routes /api/v9 (or v10) REST calls, the gateway and attachments.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/ws" || path == "/ws/":
		s.serveGateway(w, r)
		return
	case strings.HasPrefix(path, "/attachments/"), strings.HasPrefix(path, "/media-proxy/attachments/"):
		if !strings.HasPrefix(path, "/media-proxy/") {
			s.count("GET /attachments")
		}
		f, ok := s.attachment(path[strings.Index(path, "/attachments/")+len("/attachments/"):])
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(path, "/media-proxy/") {
			s.serveMediaProxy(w, r, f)
			return
		}
		w.Header().Set("Content-Type", f.ContentType)
		_, _ = w.Write(f.Data)
		return
	}
	for _, v := range []string{"/api/v9", "/api/v10", "/api"} {
		if strings.HasPrefix(path, v+"/") {
			path = strings.TrimPrefix(path, v)
			break
		}
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	route, args := routeOf(seg)
	s.count(r.Method + " " + route)
	auth := r.Header.Get("Authorization")
	if s.o.Token != "" && auth != "" && auth != "Bot "+s.o.Token {
		writeErr(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		return
	}
	if auth != "" && !admitsItself[r.Method+" "+route] {
		// Every request carrying the bot's authorization counts toward
		// the token's global limit, reads included.
		if !s.admit(w, admission{token: auth}) {
			return
		}
	}
	switch r.Method + " " + route {
	case "GET /gateway", "GET /gateway/bot":
		writeJSON(w, map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws", "shards": 1,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})
	case "GET /users/@me":
		writeJSON(w, map[string]any{"id": s.bot.ID, "username": s.bot.Name, "bot": true})
	case "PUT /applications/{id}/commands", "PUT /applications/{id}/guilds/{id}/commands":
		s.servePut(w, r, args)
	case "GET /channels/{id}":
		s.serveGet(w, args[0])
	case "POST /channels/{id}/messages":
		s.createBotMessage(w, r, auth, args[0])
	case "PATCH /channels/{id}/messages/{id}":
		s.editBotMessage(w, r, auth, args[0], args[1])
	case "POST /channels/{id}/messages/{id}/threads":
		s.startThread(w, r, auth, args[0], args[1])
	case "GET /channels/{id}/webhooks", "POST /channels/{id}/webhooks":
		s.channelWebhooks(w, r, auth, args[0])
	case "POST /webhooks/{id}/{token}":
		s.execute(w, r, auth, args[0], args[1])
	case "PATCH /webhooks/{id}/{token}/messages/{id}":
		s.editWebhookMessage(w, r, auth, args[0], args[1], args[2])
	case "POST /interactions/{id}/{token}/callback":
		s.callback(w, r, args[0], args[1])
	default:
		writeErr(w, http.StatusNotFound, 0, "404: Not Found ("+r.Method+" "+route+")")
	}
}

// admitsItself are the routes whose handlers apply the limits (with the
// webhook, message and channel they concern).
var admitsItself = map[string]bool{
	"POST /channels/{id}/messages": true, "PATCH /channels/{id}/messages/{id}": true,
	"POST /channels/{id}/messages/{id}/threads": true, "GET /channels/{id}/webhooks": true,
	"POST /channels/{id}/webhooks": true, "POST /webhooks/{id}/{token}": true,
	"PATCH /webhooks/{id}/{token}/messages/{id}": true,
}

// routeOf replaces IDs and tokens with placeholders.
func routeOf(seg []string) (string, []string) {
	var args []string
	out := make([]string, len(seg))
	for i, p := range seg {
		isID := p != "" && strings.Trim(p, "0123456789") == "" || p == "@original"
		isToken := i == 2 && (seg[0] == "webhooks" || seg[0] == "interactions")
		switch {
		case isToken:
			out[i] = "{token}"
			args = append(args, p)
		case isID:
			out[i] = "{id}"
			args = append(args, p)
		default:
			out[i] = p
		}
	}
	return "/" + strings.Join(out, "/"), args
}

func (c *commandStore) servePut(w http.ResponseWriter, r *http.Request, args []string) {
	raw, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(raw) {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	scope := "global"
	if len(args) > 1 {
		scope = args[1]
	}
	c.put(scope, raw)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
}

func (s *Server) createBotMessage(w http.ResponseWriter, r *http.Request, auth, channel string) {
	p, files, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channel(channel); !ok {
		writeErr(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	if !s.admit(w, admission{token: auth, persona: true, channel: channel}) || !s.checkWrite(w, "POST /channels/{id}/messages", p, true, files) {
		return
	}
	m := s.newMessage(channel, s.bot.ID, s.bot.Name)
	m.apply(p, files)
	writeJSON(w, m.json(s.bot.ID))
}

func (s *Server) newMessage(channel, author, name string) *Message {
	m := &Message{ID: s.newID(), ChannelID: channel, AuthorID: author, Username: name, Created: s.o.Now(), seq: &s.writes}
	s.messages[m.ID] = m
	s.order = append(s.order, m.ID)
	return m
}

func (s *Server) editBotMessage(w http.ResponseWriter, r *http.Request, auth, channel, id string) {
	p, files, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil || m.ChannelID != channel {
		writeErr(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	if m.AuthorID != s.bot.ID {
		writeErr(w, http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
		return
	}
	if !s.admit(w, admission{token: auth, edit: m.ID, persona: true, channel: channel}) || !s.checkWrite(w, "PATCH /channels/{id}/messages/{id}", p, false, files) {
		return
	}
	m.Edits++
	m.apply(p, files)
	writeJSON(w, m.json(s.bot.ID))
}

func (s *Server) startThread(w http.ResponseWriter, r *http.Request, auth, channel, msg string) {
	p, _, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channel(channel)
	switch {
	case !ok:
		writeErr(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	case c.NoThreads:
		writeErr(w, http.StatusForbidden, 50013, "Missing Permissions")
		return
	case s.messages[msg] == nil || s.messages[msg].ChannelID != channel:
		writeErr(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	if _, ok := s.channel(msg); ok {
		writeErr(w, http.StatusBadRequest, 160004, "A thread has already been created for this message")
		return
	}
	if !s.admit(w, admission{token: auth}) {
		return
	}
	name, _ := p["name"].(string)
	if name == "" || len([]rune(name)) > 100 {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: name")
		return
	}
	t := Channel{ID: msg, GuildID: c.GuildID, ParentID: channel, Type: 11}
	if !s.addThread(t) {
		writeErr(w, http.StatusBadRequest, 160004, "A thread has already been created for this message")
		return
	}
	out := channelJSON(t)
	out["name"] = name
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, out)
}

func (s *Server) channelWebhooks(w http.ResponseWriter, r *http.Request, auth, channel string) {
	p, _, err := readPayload(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channel(channel)
	switch {
	case !ok:
		writeErr(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	case c.NoWebhooks:
		writeErr(w, http.StatusForbidden, 50013, "Missing Permissions")
		return
	case c.Type != 0:
		writeErr(w, http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
		return
	}
	if !s.admit(w, admission{token: auth}) {
		return
	}
	if r.Method == http.MethodGet {
		list := []any{}
		for _, h := range s.Webhooks(channel) {
			list = append(list, s.webhookJSON(h))
		}
		writeJSON(w, list)
		return
	}
	name, _ := p["name"].(string)
	if l := strings.ToLower(name); name == "" || strings.Contains(l, "clyde") || strings.Contains(l, "discord") {
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: name")
		return
	}
	h, ok := s.create(channel, s.appID, name)
	if !ok { // every integration's webhooks count
		writeErr(w, http.StatusBadRequest, 30007, "Maximum number of webhooks reached (15)")
		return
	}
	writeJSON(w, s.webhookJSON(h))
}

func (s *Server) webhookJSON(h Webhook) map[string]any {
	user := map[string]any{"id": s.bot.ID, "username": s.bot.Name, "bot": true}
	if h.ApplicationID != s.appID { // another integration's (or a person's) webhook
		user = map[string]any{"id": "1" + h.ID, "username": h.Name}
	}
	out := map[string]any{"id": h.ID, "type": 1, "token": h.Token, "channel_id": h.ChannelID, "name": h.Name, "user": user}
	if h.ApplicationID != "" {
		out["application_id"] = h.ApplicationID
	}
	return out
}
