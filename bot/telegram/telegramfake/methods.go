package telegramfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	notModified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	notFound    = "Bad Request: message to edit not found"
)

// serve routes /bot<token>/<method> and /file/bot<token>/<path>.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		token, path, _ := strings.Cut(rest, "/")
		s.mu.Lock()
		b := s.bots[token]
		s.mu.Unlock()
		if b == nil {
			http.NotFound(w, nil)
			return
		}
		s.files.download(w, path)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	s.mu.Lock()
	b := s.bots[token]
	s.calls[method]++
	s.mu.Unlock()
	if b == nil {
		fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	p, err := parseParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	switch method {
	case "getMe":
		answer(w, userJSON(b.user))
	case "getUpdates":
		s.getUpdates(w, r, token, p)
	case "deleteWebhook":
		s.mu.Lock()
		b.webhook, b.secret = "", ""
		s.mu.Unlock()
		answer(w, true)
	case "setWebhook":
		s.mu.Lock()
		b.webhook, b.secret = p.str("url"), p.str("secret_token")
		s.mu.Unlock()
		answer(w, true)
	case "setMyCommands":
		s.setMyCommands(w, b, p)
	case "sendMessage", "sendPhoto", "sendDocument":
		s.send(w, token, b, method, p)
	case "editMessageText":
		s.edit(w, token, p)
	case "sendMessageDraft":
		s.draft(w, token, p)
	case "getFile":
		s.files.getFile(w, p)
	case "answerCallbackQuery":
		s.mu.Lock()
		s.answered[p.str("callback_query_id")] = p.str("text")
		s.mu.Unlock()
		answer(w, true)
	case "getChatMember":
		s.mu.Lock()
		st := s.admins[[2]int64{p.int64("chat_id"), p.int64("user_id")}]
		s.mu.Unlock()
		if st == "" {
			st = "member"
		}
		answer(w, map[string]any{"status": st, "user": map[string]any{"id": p.int64("user_id"), "is_bot": false, "first_name": "user"}})
	default:
		fail(w, http.StatusNotFound, "Not Found: method not found")
	}
}

func userJSON(u User) map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": u.IsBot, "first_name": u.Name}
	if u.Username != "" {
		m["username"] = u.Username
	}
	return m
}

// getUpdates confirms updates below offset and long-polls for new ones up
// to timeout seconds (real time).
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, token string, p params) {
	offset, timeout := p.int64("offset"), p.int64("timeout")
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // wake the wait when the request ends or the timeout passes
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		case <-stop:
			return
		}
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		b := s.bots[token]
		kept := b.updates[:0]
		for _, q := range b.updates {
			if !(q.delivered && q.id < offset) {
				kept = append(kept, q)
			}
		}
		b.updates = kept
		var out []json.RawMessage
		for _, q := range b.updates {
			if q.id >= offset || !q.delivered {
				q.delivered = true
				out = append(out, q.body)
			}
		}
		if len(out) > 0 || !time.Now().Before(deadline) || r.Context().Err() != nil || b.webhook != "" {
			if out == nil {
				out = []json.RawMessage{}
			}
			answer(w, out)
			return
		}
		s.cond.Wait()
	}
}

func (s *Server) setMyCommands(w http.ResponseWriter, b *botState, p params) {
	var cmds []Command
	if err := json.Unmarshal([]byte(p.str("commands")), &cmds); err != nil {
		fail(w, http.StatusBadRequest, "Bad Request: can't parse commands JSON object")
		return
	}
	scope := "default"
	if raw := p.str("scope"); raw != "" {
		var sc struct{ Type string }
		if err := json.Unmarshal([]byte(raw), &sc); err != nil || sc.Type == "" {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse BotCommandScope JSON object")
			return
		}
		scope = sc.Type
	}
	s.mu.Lock()
	b.commands[scope] = cmds
	s.mu.Unlock()
	answer(w, true)
}

// checkText validates a text or caption for the parse mode: it returns
// the error description to answer with and the rule broken, or "".
func checkText(text, mode string, limit int) (desc, broken string) {
	plain := text
	if strings.EqualFold(mode, "HTML") {
		var err error
		if plain, err = parseHTML(text); err != nil {
			return "Bad Request: " + err.Error(), fmt.Sprintf("%v: %q", err, text)
		}
	}
	if n := utf16Len(plain); n > limit {
		return "Bad Request: message is too long", fmt.Sprintf("text of %d UTF-16 units over %d", n, limit)
	}
	return "", ""
}

func (s *Server) send(w http.ResponseWriter, token string, b *botState, method string, p params) {
	chatID := p.int64("chat_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chats[chatID] == nil {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	m := &Message{ChatID: chatID, From: b.user, Token: token, ParseMode: p.str("parse_mode")}
	switch method {
	case "sendMessage":
		m.Text = p.str("text")
		if strings.TrimSpace(m.Text) == "" {
			fail(w, http.StatusBadRequest, "Bad Request: message text is empty")
			return
		}
		if d, broke := checkText(m.Text, m.ParseMode, 4096); d != "" {
			s.addBroken("%s", broke)
			fail(w, http.StatusBadRequest, d)
			return
		}
	default:
		field := "photo"
		if method == "sendDocument" {
			field = "document"
		}
		f := p.files[field]
		if f == nil {
			fail(w, http.StatusBadRequest, "Bad Request: there is no "+field+" in the request")
			return
		}
		if method == "sendPhoto" && int64(len(f.Data)) > s.o.MaxPhoto {
			fail(w, http.StatusBadRequest, "Bad Request: file is too big")
			return
		}
		m.Caption = p.str("caption")
		if d, broke := checkText(m.Caption, m.ParseMode, 1024); d != "" {
			s.addBroken("%s", broke)
			fail(w, http.StatusBadRequest, d)
			return
		}
		s.files.store(f)
		if method == "sendPhoto" {
			m.Photo = f
		} else {
			m.Document = f
		}
	}
	if ra := s.admit(token, chatID, callSend); ra > 0 {
		tooMany(w, ra)
		return
	}
	m.Markup = markup(p.str("reply_markup"))
	m.NoLinkPreview = strings.Contains(p.str("link_preview_options"), `"is_disabled":true`)
	if rp := p.str("reply_parameters"); rp != "" {
		var v struct {
			MessageID int `json:"message_id"`
		}
		_ = json.Unmarshal([]byte(rp), &v)
		m.ReplyTo = v.MessageID
	}
	s.nextMsg[chatID]++
	m.ID = s.nextMsg[chatID]
	m.History = []string{m.Text}
	m.MarkupHistory = []bool{m.Markup != nil}
	s.msgs[chatID] = append(s.msgs[chatID], m)
	answer(w, s.messageJSON(m, false))
}

func markup(raw string) json.RawMessage {
	if raw == "" || raw == "null" || raw == "{}" {
		return nil
	}
	return json.RawMessage(raw)
}

func (s *Server) edit(w http.ResponseWriter, token string, p params) {
	chatID, id := p.int64("chat_id"), int(p.int64("message_id"))
	text, mode := p.str("text"), p.str("parse_mode")
	s.mu.Lock()
	defer s.mu.Unlock()
	var m *Message
	for _, x := range s.msgs[chatID] {
		if x.ID == id && x.Token == token {
			m = x
		}
	}
	if m == nil {
		fail(w, http.StatusBadRequest, notFound)
		return
	}
	if strings.TrimSpace(text) == "" {
		fail(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	if d, broke := checkText(text, mode, 4096); d != "" {
		s.addBroken("%s", broke)
		fail(w, http.StatusBadRequest, d)
		return
	}
	mk := markup(p.str("reply_markup"))
	if text == m.Text && string(mk) == string(m.Markup) {
		fail(w, http.StatusBadRequest, notModified)
		return
	}
	if ra := s.admit(token, chatID, callEdit); ra > 0 {
		tooMany(w, ra)
		return
	}
	m.Text, m.ParseMode, m.Markup = text, mode, mk
	m.NoLinkPreview = strings.Contains(p.str("link_preview_options"), `"is_disabled":true`)
	m.History = append(m.History, text)
	m.MarkupHistory = append(m.MarkupHistory, mk != nil)
	m.Edits++
	answer(w, s.messageJSON(m, false))
}

func (s *Server) draft(w http.ResponseWriter, token string, p params) {
	chatID := p.int64("chat_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if c.Type != "private" {
		s.addBroken("sendMessageDraft in %s chat %d", c.Type, chatID)
		fail(w, http.StatusBadRequest, "Bad Request: TEXTDRAFT_PEER_INVALID")
		return
	}
	if id, _ := strconv.ParseInt(p.str("draft_id"), 10, 64); id == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: draft_id must be non-zero")
		return
	}
	if d, broke := checkText(p.str("text"), p.str("parse_mode"), 4096); d != "" {
		s.addBroken("%s", broke)
		fail(w, http.StatusBadRequest, d)
		return
	}
	if ra := s.admit(token, chatID, callDraft); ra > 0 {
		tooMany(w, ra)
		return
	}
	s.drafts = append(s.drafts, Draft{ChatID: chatID, DraftID: p.str("draft_id"), Text: p.str("text"), Token: token})
	answer(w, true)
}

func (s *Server) messageJSON(m *Message, nested bool) map[string]any {
	out := map[string]any{"message_id": m.ID, "date": s.o.Now().Unix(), "from": userJSON(m.From),
		"chat": chatJSON(s.chats[m.ChatID], m.ChatID)}
	if m.Text != "" {
		out["text"] = m.Text
	}
	if m.Caption != "" {
		out["caption"] = m.Caption
	}
	if m.Markup != nil {
		out["reply_markup"] = m.Markup
	}
	if f := m.Photo; f != nil {
		out["photo"] = []map[string]any{{"file_id": f.ID, "file_unique_id": "u" + f.ID, "width": 1280, "height": 960, "file_size": f.size()}}
	}
	if f := m.Document; f != nil {
		out["document"] = map[string]any{"file_id": f.ID, "file_unique_id": "u" + f.ID, "file_name": f.Name, "mime_type": f.MIME, "file_size": f.size()}
	}
	if m.ReplyTo != 0 && !nested {
		for _, x := range s.msgs[m.ChatID] {
			if x.ID == m.ReplyTo {
				out["reply_to_message"] = s.messageJSON(x, true)
			}
		}
	}
	return out
}

// chatJSON is chat id as the Bot API shows it (c nil: a private chat we
// were not told about).
func chatJSON(c *Chat, id int64) map[string]any {
	if c == nil {
		return map[string]any{"id": id, "type": "private"}
	}
	out := map[string]any{"id": c.ID, "type": c.Type}
	if c.Title != "" {
		out["title"] = c.Title
	}
	return out
}
