package discordfake

import (
	"net/http"
	"sync"
)

// channelStore holds the guild channels and threads, under its own lock.
type channelStore struct {
	ids *snowflakes

	mu   sync.Mutex
	byID map[string]*Channel
}

// AddChannel registers a channel (an ID is made when empty) and returns it.
func (s *channelStore) AddChannel(c Channel) Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = s.ids.newID()
	}
	cc := c
	s.byID[c.ID] = &cc
	return c
}

// SetChannel changes a channel's permissions.
func (s *channelStore) SetChannel(id string, noWebhooks, noThreads bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.byID[id]; c != nil {
		c.NoWebhooks, c.NoThreads = noWebhooks, noThreads
	}
}

// Channels returns the known channels (threads included).
func (s *channelStore) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.byID {
		out = append(out, *c)
	}
	return out
}

// channel returns a copy of a channel.
func (s *channelStore) channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// addThread registers t unless a channel with its ID exists.
func (s *channelStore) addThread(t Channel) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[t.ID] != nil {
		return false
	}
	s.byID[t.ID] = &t
	return true
}

// serveGet serves GET /channels/{id}.
func (s *channelStore) serveGet(w http.ResponseWriter, id string) {
	c, ok := s.channel(id)
	if !ok {
		writeErr(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	writeJSON(w, channelJSON(c))
}

func channelJSON(c Channel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type}
	if c.GuildID != "" {
		out["guild_id"] = c.GuildID
	}
	if c.ParentID != "" {
		out["parent_id"] = c.ParentID
	}
	return out
}
