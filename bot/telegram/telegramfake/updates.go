package telegramfake

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"unicode/utf16"
)

// In is a person's message to inject as an update.
type In struct {
	Chat    int64
	From    User
	Text    string // commands and @mentions get their entities
	Caption string
	// Photo sends the picture as Telegram's photo (sizes 90 px, 320 px and
	// the full file, largest last).
	Photo []byte
	// Document sends a file (an uncompressed image, a HEIC).
	Document   *File
	ReplyTo    int    // message_id the person replies to
	MediaGroup string // album ID
}

var entityPat = regexp.MustCompile(`(^|\s)(/[a-zA-Z0-9_]+(?:@[a-zA-Z0-9_]+)?|@[a-zA-Z0-9_]{3,})`)

// entities finds bot_command and mention entities with UTF-16 offsets, as
// Telegram's clients mark them.
func entities(text string) []map[string]any {
	var out []map[string]any
	for _, m := range entityPat.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[4], m[5]
		typ := "mention"
		if text[start] == '/' {
			if start != 0 {
				continue // only a leading command is a command
			}
			typ = "bot_command"
		}
		off := len(utf16.Encode([]rune(text[:start])))
		n := len(utf16.Encode([]rune(text[start:end])))
		out = append(out, map[string]any{"type": typ, "offset": off, "length": n})
	}
	return out
}

// Send injects a person's message to a bot and returns its message ID and
// update ID. The message is stored in the chat like any other.
func (s *Server) Send(token string, in In) (msgID int, updateID int64) {
	chat := s.chats.get(in.Chat)
	rec := &Message{ChatID: in.Chat, From: in.From, Text: in.Text, Caption: in.Caption, ReplyTo: in.ReplyTo}
	m := map[string]any{"date": s.o.Now().Unix(), "from": userJSON(in.From), "chat": chatJSON(chat, in.Chat)}
	if in.Text != "" {
		m["text"] = in.Text
		if e := entities(in.Text); e != nil {
			m["entities"] = e
		}
	}
	if in.Caption != "" {
		m["caption"] = in.Caption
		if e := entities(in.Caption); e != nil {
			m["caption_entities"] = e
		}
	}
	if in.MediaGroup != "" {
		m["media_group_id"] = in.MediaGroup
	}
	if in.Photo != nil {
		f := &File{Name: "photo.jpg", MIME: "image/jpeg", Data: in.Photo}
		s.files.store(f)
		small := &File{Name: "small.jpg", MIME: "image/jpeg", Data: in.Photo[:min(len(in.Photo), 16)]}
		s.files.store(small)
		rec.Photo = f
		m["photo"] = []map[string]any{
			{"file_id": small.ID, "file_unique_id": "u" + small.ID, "width": 90, "height": 90, "file_size": len(small.Data)},
			{"file_id": f.ID, "file_unique_id": "u" + f.ID, "width": 1280, "height": 960, "file_size": f.size()},
		}
	}
	if in.Document != nil {
		f := *in.Document
		s.files.store(&f)
		rec.Document = &f
		m["document"] = map[string]any{"file_id": f.ID, "file_unique_id": "u" + f.ID, "file_name": f.Name,
			"mime_type": f.MIME, "file_size": f.size()}
	}
	rec.History = []string{in.Text}
	s.msgs.add(rec, chat, s.o.Now(), func(shown map[string]any) {
		// Under the message book's lock, so that a chat's updates come in
		// the order of its message IDs; the bot book is a leaf.
		msgID = rec.ID
		m["message_id"] = msgID
		if r, ok := shown["reply_to_message"]; ok {
			m["reply_to_message"] = r
		}
		updateID = s.bots.enqueue(token, map[string]any{"message": m})
	})
	return msgID, updateID
}

// Press injects a callback query: the person pressed a button with data on
// a bot message. It returns the callback query ID.
func (s *Server) Press(token string, chatID int64, from User, msgID int, data string) string {
	id := s.callbacks.newID()
	chat := s.chats.get(chatID)
	msg := s.msgs.shown(chatID, msgID, chat, s.o.Now())
	if msg == nil {
		msg = map[string]any{"message_id": msgID, "date": 0, "chat": chatJSON(chat, chatID)}
	}
	s.bots.enqueue(token, map[string]any{"callback_query": map[string]any{"id": id, "from": userJSON(from),
		"message": msg, "chat_instance": "ci", "data": data}})
	return id
}

// Duplicate queues an update again with the same update_id (Telegram
// redelivers when it got no answer).
func (s *Server) Duplicate(token string, updateID int64) { s.bots.duplicate(token, updateID) }

// Update returns the JSON of an update sent to a bot, for
// posting it to a webhook by hand.
func (s *Server) Update(token string, updateID int64) []byte { return s.bots.update(token, updateID) }

// post sends an update to a webhook.
func post(url, secret string, body []byte) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
