package telegramfake

import (
	"fmt"
	"sync"
)

// callbackBook numbers the callback queries people press and holds the
// bots' answers to them, under its own lock.
type callbackBook struct {
	mu       sync.Mutex
	n        int
	answered map[string]string // callback ID → text
}

// newID is the next callback query ID.
func (b *callbackBook) newID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return fmt.Sprintf("cb%d", b.n)
}

func (b *callbackBook) answer(id, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.answered == nil {
		b.answered = map[string]string{}
	}
	b.answered[id] = text
}

func (b *callbackBook) get(id string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.answered[id]
	return t, ok
}
