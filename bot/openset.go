package bot

import "sync"

// OpenSet holds at most one open item per key, such as the open people's
// turn of each chat. It is safe for concurrent use; the zero value is ready.
type OpenSet[K, V comparable] struct {
	mu sync.Mutex
	m  map[K]V
}

// Open makes v the key's open item, replacing any other.
func (s *OpenSet[K, V]) Open(key K, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[K]V{}
	}
	s.m[key] = v
}

// Close drops v if it is still the key's open item.
func (s *OpenSet[K, V]) Close(key K, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.m[key]; ok && cur == v {
		delete(s.m, key)
	}
}

// Get returns the key's open item, or the zero V.
func (s *OpenSet[K, V]) Get(key K) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}
