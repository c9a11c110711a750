package telegramfake

import "sync"

// chatBook holds the chats the fake knows, under its own lock. A stored
// Chat is never changed (AddChat replaces it), so callers may keep the
// pointer get gives them.
type chatBook struct {
	mu    sync.Mutex
	chats map[int64]*Chat
}

func (b *chatBook) add(c Chat) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.chats == nil {
		b.chats = map[int64]*Chat{}
	}
	b.chats[c.ID] = &c
}

// get is a chat, or nil when the fake was not told about it.
func (b *chatBook) get(id int64) *Chat {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.chats[id]
}

// group reports whether c is a group or supergroup (nil: a private chat
// we were not told about).
func (c *Chat) group() bool { return c != nil && c.Type != "private" }
