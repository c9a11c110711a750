package discord

import (
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// This file holds the adapter's caches that are not threads (threads.go):
// each keeps one map under its own lock, takes no other lock while holding
// it and calls out to nothing while locked.

// channelCache remembers channels' types and parents (GET /channels/{id}).
type channelCache struct {
	mu sync.Mutex
	m  map[string]*discordgo.Channel
}

func (c *channelCache) get(id string) (*discordgo.Channel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.m[id]
	return ch, ok
}

func (c *channelCache) put(id string, ch *discordgo.Channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]*discordgo.Channel{}
	}
	c.m[id] = ch
}

// poolBook holds the webhook pool of each parent channel.
type poolBook struct {
	mu sync.Mutex
	m  map[string]*hookPool
}

// get returns parent's pool, made by mk (outside the lock) the first time;
// when two callers race, the first stored wins.
func (b *poolBook) get(parent string, mk func() *hookPool) *hookPool {
	b.mu.Lock()
	p, ok := b.m[parent]
	b.mu.Unlock()
	if ok {
		return p
	}
	p = mk()
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.m[parent]; ok {
		return q
	}
	if b.m == nil {
		b.m = map[string]*hookPool{}
	}
	b.m[parent] = p
	return p
}

// schedBook holds the budgets of webhook slots ("hook:<parent>#<slot>",
// also reachable by the webhook's ID) and of channels' bot messages
// ("ch:<id>").
type schedBook struct {
	mk func() *bot.Scheduler // a webhook's budget under the token's; set once in New

	mu sync.Mutex
	m  map[string]*bot.Scheduler
}

// get returns key's scheduler, made the first time.
func (b *schedBook) get(key string) *bot.Scheduler {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.m[key]; ok {
		return s
	}
	if b.m == nil {
		b.m = map[string]*bot.Scheduler{}
	}
	s := b.mk()
	b.m[key] = s
	return s
}

// alias makes s reachable by another key too.
func (b *schedBook) alias(key string, s *bot.Scheduler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*bot.Scheduler{}
	}
	b.m[key] = s
}

// existing returns key's scheduler, nil when there is none.
func (b *schedBook) existing(key string) *bot.Scheduler {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[key]
}

func (b *schedBook) drop(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// identity is who the bot is, learnt from the gateway's Ready.
type identity struct {
	mu    sync.Mutex
	botID string
	appID string
}

func (i *identity) ready(r *discordgo.Ready) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if r.User != nil {
		i.botID = r.User.ID
	}
	i.appID = i.botID
	if r.Application != nil && r.Application.ID != "" {
		i.appID = r.Application.ID
	}
}

// bot is the bot's user ID.
func (i *identity) bot() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.botID
}

// app is the application's ID (interaction webhooks).
func (i *identity) app() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.appID
}

// onceSet tells the first time a key is seen (the fallback notice is
// posted once per parent channel).
type onceSet struct {
	mu sync.Mutex
	m  map[string]bool
}

// first reports whether key is new, and remembers it.
func (o *onceSet) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m[key] {
		return false
	}
	if o.m == nil {
		o.m = map[string]bool{}
	}
	o.m[key] = true
	return true
}

// questionBook holds the open people's turn of each channel.
type questionBook = bot.OpenSet[string, *pendingAsk]
