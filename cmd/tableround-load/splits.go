package main

import "sync"

// splitBook tells, per Telegram chat, which marker the unmarked start of a
// message continues: the adapter splits a text over 4096 UTF-16 units
// into several messages and shows the marker once. It holds each chat's
// newest marked message and each message's decision, under its own lock.
type splitBook struct {
	mu    sync.Mutex
	chats map[string]*chatSplits // chat → its state
}

// chatSplits is one chat's state in the split book.
type chatSplits struct {
	last lastMarked        // the chat's newest message with a marker
	cont map[string]string // message → the marker its unmarked start continues ("" none)
}

// lastMarked is a chat's newest message with a marker: its last marker and
// how long its text was, to tell a split's next part from a new message.
type lastMarked struct {
	marker string
	runes  int
}

// splitRunes is how long a text must be for the next message to be its
// continuation: the adapter splits at 4096 UTF-16 units less the header,
// so a part it cut is at least this long and a whole speech (≤ 250
// tokens) never is.
const splitRunes = 3000

// continued returns the sections of a write to msg in chat (not a draft)
// with, when its text starts with lead letters and digits before any
// marker, the marker they continue put first; and it records the write as
// the chat's newest marked message when it shows a marker. The start of a
// new message (not an edit) continues the chat's last marker when the
// chat's newest marked message was long enough to have been cut
// (splitRunes), and is a message of its own otherwise (a moderator's);
// edits keep what the message's first write decided.
func (b *splitBook) continued(chat, msg string, edit bool, lead int, secs []Section, runes int) []Section {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.chats == nil {
		b.chats = map[string]*chatSplits{}
	}
	c := b.chats[chat]
	if c == nil {
		c = &chatSplits{cont: map[string]string{}}
		b.chats[chat] = c
	}
	if lead > 0 {
		if _, ok := c.cont[msg]; !ok && !edit {
			if c.last.runes >= splitRunes {
				c.cont[msg] = c.last.marker
			} else {
				c.cont[msg] = ""
			}
		}
		if m := c.cont[msg]; m != "" {
			secs = append([]Section{{Marker: m, N: lead}}, secs...)
		}
	}
	if len(secs) > 0 {
		c.last = lastMarked{marker: secs[len(secs)-1].Marker, runes: runes}
	}
	return secs
}

// lastOf is a chat's newest marked message.
func (b *splitBook) lastOf(chat string) lastMarked {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.chats[chat]; c != nil {
		return c.last
	}
	return lastMarked{}
}
