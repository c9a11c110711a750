package telegramfake

import (
	"encoding/json"
	"errors"
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
		if _, ok := s.bots.user(token); !ok {
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
	s.log.call(method)
	user, known := s.bots.user(token)
	if !known {
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
		answer(w, userJSON(user))
	case "getUpdates":
		deadline := time.Now().Add(time.Duration(p.int64("timeout")) * time.Second)
		answer(w, s.bots.poll(r.Context(), token, p.int64("offset"), deadline))
	case "deleteWebhook":
		s.bots.setWebhook(token, "", "")
		answer(w, true)
	case "setWebhook":
		s.bots.setWebhook(token, p.str("url"), p.str("secret_token"))
		answer(w, true)
	case "setMyCommands":
		s.setMyCommands(w, token, p)
	case "sendMessage", "sendPhoto", "sendDocument":
		s.send(w, token, user, method, p)
	case "editMessageText":
		s.edit(w, token, p)
	case "sendMessageDraft":
		s.draft(w, token, p)
	case "getFile":
		s.files.getFile(w, p)
	case "answerCallbackQuery":
		s.callbacks.answer(p.str("callback_query_id"), p.str("text"))
		answer(w, true)
	case "getChatMember":
		st := s.members.get(p.int64("chat_id"), p.int64("user_id"))
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

func (s *Server) setMyCommands(w http.ResponseWriter, token string, p params) {
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
	s.commands.set(token, scope, cmds)
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

func (s *Server) send(w http.ResponseWriter, token string, from User, method string, p params) {
	chatID := p.int64("chat_id")
	chat := s.chats.get(chatID)
	if chat == nil {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	m := &Message{ChatID: chatID, From: from, Token: token, ParseMode: p.str("parse_mode")}
	switch method {
	case "sendMessage":
		m.Text = p.str("text")
		if strings.TrimSpace(m.Text) == "" {
			fail(w, http.StatusBadRequest, "Bad Request: message text is empty")
			return
		}
		if d, broke := checkText(m.Text, m.ParseMode, 4096); d != "" {
			s.log.broke("%s", broke)
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
			s.log.broke("%s", broke)
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
	if ra := s.admit(token, chatID, chat, callSend); ra > 0 {
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
	m.History = []string{m.Text}
	m.MarkupHistory = []bool{m.Markup != nil}
	answer(w, s.msgs.add(m, chat, s.o.Now(), nil))
}

func markup(raw string) json.RawMessage {
	if raw == "" || raw == "null" || raw == "{}" {
		return nil
	}
	return json.RawMessage(raw)
}

func (s *Server) edit(w http.ResponseWriter, token string, p params) {
	e := textEdit{chatID: p.int64("chat_id"), id: int(p.int64("message_id")), token: token,
		text: p.str("text"), mode: p.str("parse_mode"), markup: markup(p.str("reply_markup")),
		noPreview: strings.Contains(p.str("link_preview_options"), `"is_disabled":true`)}
	broke := ""
	if strings.TrimSpace(e.text) == "" {
		e.refused = errors.New("Bad Request: message text is empty")
	} else if d, b := checkText(e.text, e.mode, 4096); d != "" {
		e.refused, broke = errors.New(d), b
	}
	chat := s.chats.get(e.chatID)
	shown, ra, err := s.msgs.edit(e, chat, s.o.Now(), func() int { return s.admit(token, e.chatID, chat, callEdit) })
	switch {
	case err != nil:
		if err == e.refused && broke != "" {
			s.log.broke("%s", broke)
		}
		fail(w, http.StatusBadRequest, err.Error())
	case ra > 0:
		tooMany(w, ra)
	default:
		answer(w, shown)
	}
}

func (s *Server) draft(w http.ResponseWriter, token string, p params) {
	chatID := p.int64("chat_id")
	c := s.chats.get(chatID)
	if c == nil {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if c.Type != "private" {
		s.log.broke("sendMessageDraft in %s chat %d", c.Type, chatID)
		fail(w, http.StatusBadRequest, "Bad Request: TEXTDRAFT_PEER_INVALID")
		return
	}
	if id, _ := strconv.ParseInt(p.str("draft_id"), 10, 64); id == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: draft_id must be non-zero")
		return
	}
	if d, broke := checkText(p.str("text"), p.str("parse_mode"), 4096); d != "" {
		s.log.broke("%s", broke)
		fail(w, http.StatusBadRequest, d)
		return
	}
	if ra := s.admit(token, chatID, c, callDraft); ra > 0 {
		tooMany(w, ra)
		return
	}
	s.msgs.addDraft(Draft{ChatID: chatID, DraftID: p.str("draft_id"), Text: p.str("text"), Token: token})
	answer(w, true)
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
