package telegramfake

import (
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// messageBook holds every chat's messages, in order, and the drafts bots
// streamed, under its own lock. Two of its methods call out under that
// lock: add's then (the bot book's enqueue) and edit's admit (the
// flood's); both take leaf locks, whose methods call nothing else.
type messageBook struct {
	mu     sync.Mutex
	chats  map[int64][]*Message // chat → its messages; IDs are 1, 2, … in order
	drafts []Draft
}

var (
	errEditNotFound = errors.New(notFound)
	errNotModified  = errors.New(notModified)
)

// add stores m as its chat's next message, setting m.ID, and returns it
// as the Bot API shows it (chat is its chat; nil when unknown). then, when
// not nil, runs with that under the lock, so that what it does keeps the
// order of the chat's message IDs; it may take leaf locks only.
func (b *messageBook) add(m *Message, chat *Chat, now time.Time, then func(shown map[string]any)) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.chats == nil {
		b.chats = map[int64][]*Message{}
	}
	m.ID = len(b.chats[m.ChatID]) + 1
	b.chats[m.ChatID] = append(b.chats[m.ChatID], m)
	shown := b.show(m, chat, now, false)
	if then != nil {
		then(shown)
	}
	return shown
}

// shown is message id of a chat as the Bot API shows it; nil when there
// is none.
func (b *messageBook) shown(chatID int64, id int, chat *Chat, now time.Time) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.find(chatID, id, ""); m != nil {
		return b.show(m, chat, now, false)
	}
	return nil
}

// textEdit is an editMessageText call.
type textEdit struct {
	chatID     int64
	id         int
	token      string // the bot's; only its own messages can be edited
	text, mode string
	markup     json.RawMessage
	noPreview  bool
	// refused, when not nil, is why the text cannot be shown (empty, bad
	// HTML, too long).
	refused error
}

// edit applies e to the message and returns it as shown. It checks, in
// Telegram's order, that the message exists (errEditNotFound), e.refused,
// that something changes (errNotModified) and last admit, the flood
// limits, so that a refused edit costs nothing: retryAfter is admit's
// answer when it is not 0. admit runs under the book's lock and may take
// leaf locks only.
func (b *messageBook) edit(e textEdit, chat *Chat, now time.Time, admit func() int) (shown map[string]any, retryAfter int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.find(e.chatID, e.id, e.token)
	switch {
	case m == nil:
		return nil, 0, errEditNotFound
	case e.refused != nil:
		return nil, 0, e.refused
	case e.text == m.Text && string(e.markup) == string(m.Markup):
		return nil, 0, errNotModified
	}
	if ra := admit(); ra > 0 {
		return nil, ra, nil
	}
	m.Text, m.ParseMode, m.Markup = e.text, e.mode, e.markup
	m.NoLinkPreview = e.noPreview
	m.History = append(m.History, e.text)
	m.MarkupHistory = append(m.MarkupHistory, e.markup != nil)
	m.Edits++
	return b.show(m, chat, now, false), 0, nil
}

// list is copies of a chat's messages in order.
func (b *messageBook) list(chatID int64) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Message, 0, len(b.chats[chatID]))
	for _, m := range b.chats[chatID] {
		c := *m
		c.History = append([]string(nil), m.History...)
		c.MarkupHistory = append([]bool(nil), m.MarkupHistory...)
		out = append(out, c)
	}
	return out
}

func (b *messageBook) addDraft(d Draft) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drafts = append(b.drafts, d)
}

// draftsOf is every draft sent to a chat.
func (b *messageBook) draftsOf(chatID int64) []Draft {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Draft
	for _, d := range b.drafts {
		if d.ChatID == chatID {
			out = append(out, d)
		}
	}
	return out
}

// find is message id of a chat, sent by token's bot unless token is "".
// Callers hold b.mu.
func (b *messageBook) find(chatID int64, id int, token string) *Message {
	var found *Message
	for _, x := range b.chats[chatID] {
		if x.ID == id && (token == "" || x.Token == token) {
			found = x
		}
	}
	return found
}

// show is m as the Bot API shows it, with the message it replies to
// unless nested. Callers hold b.mu.
func (b *messageBook) show(m *Message, chat *Chat, now time.Time, nested bool) map[string]any {
	out := map[string]any{"message_id": m.ID, "date": now.Unix(), "from": userJSON(m.From),
		"chat": chatJSON(chat, m.ChatID)}
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
		if x := b.find(m.ChatID, m.ReplyTo, ""); x != nil {
			out["reply_to_message"] = b.show(x, chat, now, true)
		}
	}
	return out
}
