package discord

import (
	"sync"
	"time"
)

// threadBook is the session threads this process opened or resumed, so
// that a slash command in a parent channel finds its newest session thread
// and plain messages in a session thread count (DISCORD_MESSAGE_CONTENT).
// It owns its map and lock; nothing else is locked while it is held.
type threadBook struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]threadInfo // thread ID → its parent and when it was opened
}

type threadInfo struct {
	parent string
	opened time.Time
}

func newThreadBook(now func() time.Time) *threadBook {
	return &threadBook{now: now, m: map[string]threadInfo{}}
}

// remember marks a thread as a session's home.
func (b *threadBook) remember(thread, parent string) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) > 10000 {
		for id, t := range b.m {
			if now.Sub(t.opened) > 24*time.Hour {
				delete(b.m, id)
			}
		}
	}
	b.m[thread] = threadInfo{parent: parent, opened: now}
}

// forget drops a thread (deleted, or its session gone for good).
func (b *threadBook) forget(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// has reports whether id is a session thread.
func (b *threadBook) has(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.m[id]
	return ok
}

// newestIn is the most recently opened session thread of a parent channel.
func (b *threadBook) newestIn(parent string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	best, at := "", time.Time{}
	for id, t := range b.m {
		if t.parent == parent && (best == "" || !t.opened.Before(at)) {
			best, at = id, t.opened
		}
	}
	return best, best != ""
}

// home maps where a command was used to the session's home: the channel
// itself when it is a session thread, else the channel's newest session
// thread, else the channel.
func (b *threadBook) home(id string) string {
	if b.has(id) {
		return id
	}
	if t, ok := b.newestIn(id); ok {
		return t
	}
	return id
}
