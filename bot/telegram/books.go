package telegram

import (
	"strconv"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// This file holds the adapter's small owned states: each keeps one map (or
// one value) under its own lock, takes no other lock while holding it, and
// is used through its methods only. None calls out while locked.

// seenUpdates remembers the last dedupWindow update IDs (webhook
// redeliveries, a duplicate in a poll batch).
type seenUpdates struct {
	mu   sync.Mutex
	seen map[int64]bool
	ring []int64
}

const dedupWindow = 4096

// first reports whether id is new, and remembers it.
func (s *seenUpdates) first(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[int64]bool{}
	}
	if s.seen[id] {
		return false
	}
	s.seen[id] = true
	s.ring = append(s.ring, id)
	if len(s.ring) > dedupWindow {
		delete(s.seen, s.ring[0])
		s.ring = s.ring[1:]
	}
	return true
}

// adminCache remembers who is a chat admin (getChatMember) for
// adminCacheTTL.
type adminCache struct {
	mu sync.Mutex
	m  map[[2]int64]adminEntry // [chat, user]
}

type adminEntry struct {
	admin bool
	at    time.Time
}

// get returns the cached answer while it is fresh.
func (c *adminCache) get(key [2]int64, now time.Time) (admin, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.m[key]
	if !found || now.Sub(e.at) >= adminCacheTTL {
		return false, false
	}
	return e.admin, true
}

func (c *adminCache) put(key [2]int64, admin bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[[2]int64]adminEntry{}
	}
	c.m[key] = adminEntry{admin: admin, at: now}
}

// albumBook remembers the albums (media_group_id) whose first picture
// was seen, for albumMemory: an album starts one session.
type albumBook struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// first reports whether this is the first picture seen of an album.
func (b *albumBook) first(group string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]time.Time{}
	}
	for g, at := range b.m {
		if now.Sub(at) > albumMemory {
			delete(b.m, g)
		}
	}
	if _, seen := b.m[group]; seen {
		return false
	}
	b.m[group] = now
	return true
}

// questionBook holds the open people's turn of each chat.
type questionBook = bot.OpenSet[int64, *pendingAsk]

// identity is who our bots are: the main bot (for /cmd@botname and
// mentions) and every bot's user ID (replies to any of them).
type identity struct {
	mu  sync.Mutex
	me  models.User
	ids map[int64]bool
}

// add records a bot; main marks the main bot.
func (i *identity) add(u models.User, main bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.ids == nil {
		i.ids = map[int64]bool{}
	}
	i.ids[u.ID] = true
	if main {
		i.me = u
	}
}

func (i *identity) main() models.User {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.me
}

func (i *identity) ours(id int64) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.ids[id]
}

// schedBook holds the budget of each bot in each chat.
type schedBook struct {
	mu sync.Mutex
	m  map[string]*bot.Scheduler
}

// get returns the scheduler of (bot, chat), making it with mk the first
// time.
func (b *schedBook) get(index int, chat int64, mk func() *bot.Scheduler) *bot.Scheduler {
	key := strconv.Itoa(index) + ":" + strconv.FormatInt(chat, 10)
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.m[key]; s != nil {
		return s
	}
	if b.m == nil {
		b.m = map[string]*bot.Scheduler{}
	}
	s := mk()
	b.m[key] = s
	return s
}
