package telegramfake

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// botBook holds the bots by token: each one's account, webhook and
// updates, and the cond that wakes a long-polling getUpdates when an
// update is queued. Its lock is a leaf: its methods take no other lock,
// so the message book may call enqueue under its own.
type botBook struct {
	mu      sync.Mutex
	cond    *sync.Cond
	bots    map[string]*bot
	waiting int // getUpdates calls asleep in poll
}

// bot is one bot token's state.
type bot struct {
	user    User
	webhook string
	secret  string
	// updates are the updates not yet confirmed, in order; sent has every
	// update ever sent, by ID (two views of one collection).
	updates []*queued
	sent    map[int64][]byte
	next    int64
}

type queued struct {
	id        int64
	body      json.RawMessage
	delivered bool
}

func newBotBook() *botBook {
	b := &botBook{bots: map[string]*bot{}}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// add registers a bot token. The bot's ID is the number before ':' in the
// token when there is one.
func (b *botBook) add(token, username string) User {
	var id int64
	if n, _, ok := strings.Cut(token, ":"); ok {
		fmt.Sscan(n, &id)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if id == 0 {
		id = int64(1000 + len(b.bots))
	}
	u := User{ID: id, Name: username, Username: username, IsBot: true}
	b.bots[token] = &bot{user: u, next: 1, sent: map[int64][]byte{}}
	return u
}

// user is token's bot account; false when the token is unknown.
func (b *botBook) user(token string) (User, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt := b.bots[token]; bt != nil {
		return bt.user, true
	}
	return User{}, false
}

// setWebhook sets (or, with url "", deletes) a bot's webhook.
func (b *botBook) setWebhook(token, url, secret string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt := b.bots[token]; bt != nil {
		bt.webhook, bt.secret = url, secret
	}
}

// webhook is a bot's webhook URL and secret ("" when polling).
func (b *botBook) webhook(token string) (url, secret string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt := b.bots[token]; bt != nil {
		return bt.webhook, bt.secret
	}
	return "", ""
}

// enqueue gives an update the bot's next update_id and queues it for
// getUpdates, or posts it to the bot's webhook (with its secret) when one
// is set. It returns the update_id (0 for an unknown token).
func (b *botBook) enqueue(token string, u map[string]any) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt := b.bots[token]
	if bt == nil {
		return 0
	}
	id := bt.next
	bt.next++
	u["update_id"] = id
	body, _ := json.Marshal(u)
	bt.sent[id] = body
	if bt.webhook != "" {
		go post(bt.webhook, bt.secret, body)
		return id
	}
	bt.updates = append(bt.updates, &queued{id: id, body: body})
	b.cond.Broadcast()
	return id
}

// duplicate queues a sent update again with the same update_id.
func (b *botBook) duplicate(token string, updateID int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt := b.bots[token]
	if bt == nil {
		return
	}
	for _, q := range bt.updates {
		if q.id == updateID {
			bt.updates = append(bt.updates, &queued{id: q.id, body: q.body})
			b.cond.Broadcast()
			return
		}
	}
}

// update is the JSON of an update sent to a bot (nil when none).
func (b *botBook) update(token string, updateID int64) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt := b.bots[token]; bt != nil {
		return append([]byte(nil), bt.sent[updateID]...)
	}
	return nil
}

// pending is how many updates of a bot were not yet fetched.
func (b *botBook) pending(token string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	if bt := b.bots[token]; bt != nil {
		for _, q := range bt.updates {
			if !q.delivered {
				n++
			}
		}
	}
	return n
}

// wake makes every waiting poll look again (they return when their
// request ended or their deadline passed).
func (b *botBook) wake() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// poll is getUpdates: it drops the delivered updates below offset (the
// client confirmed them) and returns the others, marked delivered. With
// none to return it waits for one until deadline (real time) or until ctx
// ends, and returns none at once when the bot has a webhook. The result
// is never nil (the Bot API answers []).
func (b *botBook) poll(ctx context.Context, token string, offset int64, deadline time.Time) []json.RawMessage {
	stop := make(chan struct{})
	defer close(stop)
	go func() { // wake the wait when the request ends or the deadline passes
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-stop:
			return
		}
		b.wake()
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		bt := b.bots[token]
		if bt == nil {
			return []json.RawMessage{}
		}
		kept := bt.updates[:0]
		for _, q := range bt.updates {
			if !(q.delivered && q.id < offset) {
				kept = append(kept, q)
			}
		}
		bt.updates = kept
		out := []json.RawMessage{}
		for _, q := range bt.updates {
			if q.id >= offset || !q.delivered {
				q.delivered = true
				out = append(out, q.body)
			}
		}
		if len(out) > 0 || !time.Now().Before(deadline) || ctx.Err() != nil || bt.webhook != "" {
			return out
		}
		b.waiting++
		b.cond.Wait()
		b.waiting--
	}
}

// sleepers is how many polls are waiting (for tests).
func (b *botBook) sleepers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting
}
