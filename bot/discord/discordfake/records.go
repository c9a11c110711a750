package discordfake

import (
	"encoding/json"
	"fmt"
	"sync"
)

// requestLog counts requests by route, under its own lock.
type requestLog struct {
	mu     sync.Mutex
	counts map[string]int // "METHOD route" → count
}

func (l *requestLog) count(route string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[route]++
}

// Requests counts requests by "METHOD route", e.g. "POST /channels/{id}/webhooks".
func (l *requestLog) Requests(route string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[route]
}

// violationLog records every rule a client broke, under its own lock.
type violationLog struct {
	mu   sync.Mutex
	list []string
}

func (l *violationLog) violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, fmt.Sprintf(format, args...))
}

// Violations lists every rule a client broke.
func (l *violationLog) Violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...)
}

// commandStore keeps the last bulk overwrite of application commands per
// scope, under its own lock.
type commandStore struct {
	mu     sync.Mutex
	scopes map[string]json.RawMessage // "global" or guild ID
}

func (c *commandStore) put(scope string, raw json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes[scope] = raw
}

// Commands returns the last bulk overwrite, for a guild or "global".
func (c *commandStore) Commands(scope string) json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scopes[scope]
}
