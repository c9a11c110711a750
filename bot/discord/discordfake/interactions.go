package discordfake

import "sync"

// interactionStore holds the interactions by token, under its own lock.
// It owns the interactions' fields; the messages they point to belong
// to the server's message book (Server.mu).
type interactionStore struct {
	mu      sync.Mutex
	byToken map[string]*Interaction
}

func (s *interactionStore) add(in *Interaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byToken == nil {
		s.byToken = map[string]*Interaction{}
	}
	s.byToken[in.Token] = in
}

// get returns a copy of an interaction's fields (its messages shared).
func (s *interactionStore) get(token string) (Interaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byToken[token]
	if !ok {
		return Interaction{}, false
	}
	c := *in
	c.Callbacks = append([]int(nil), in.Callbacks...)
	c.Followups = append([]*Message(nil), in.Followups...)
	return c, true
}

// update changes an interaction's fields under the lock; false when the
// token is unknown.
func (s *interactionStore) update(token string, fn func(in *Interaction)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byToken[token]
	if ok {
		fn(in)
	}
	return ok
}
