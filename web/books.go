package web

import "sync"

// The hub's books: each map with its own type and lock, none taken while
// another is held.

// tableShelf holds this process's tables by ID, oldest first.
type tableShelf struct {
	mu    sync.Mutex
	byID  map[string]*Table
	order []string // table IDs, oldest first
}

// add shelves t and takes off the oldest ended tables while more than max
// are kept, returning them.
func (s *tableShelf) add(t *Table, max int) (evicted []*Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*Table{}
	}
	s.byID[t.ID] = t
	s.order = append(s.order, t.ID)
	for i := 0; len(s.byID) > max && i < len(s.order); {
		old := s.byID[s.order[i]]
		if old == nil || !old.Log.Ended() {
			i++
			continue
		}
		delete(s.byID, old.ID)
		s.order = append(s.order[:i], s.order[i+1:]...)
		evicted = append(evicted, old)
	}
	return evicted
}

// remove takes a table off the shelf.
func (s *tableShelf) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// get returns a table by ID (nil when none).
func (s *tableShelf) get(id string) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// all returns the tables on the shelf.
func (s *tableShelf) all() []*Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	tables := make([]*Table, 0, len(s.byID))
	for _, t := range s.byID {
		tables = append(tables, t)
	}
	return tables
}

// sessionTables maps store session IDs to their tables.
type sessionTables struct {
	mu sync.Mutex
	m  map[string]*Table
}

func (s *sessionTables) put(sessionID string, t *Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*Table{}
	}
	s.m[sessionID] = t
}

func (s *sessionTables) get(sessionID string) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[sessionID]
}

func (s *sessionTables) remove(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionID)
}

// pendingBook holds the watched chat sessions not stored yet, by
// channel, under its own lock.
type pendingBook struct {
	mu sync.Mutex
	by map[string]*pendingTable
}

func (b *pendingBook) put(channel string, p *pendingTable) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil || len(b.by) > 1000 { // starts that failed after Watch
		b.by = map[string]*pendingTable{}
	}
	b.by[channel] = p
}

// take removes and returns channel's pending table (nil when none).
func (b *pendingBook) take(channel string) *pendingTable {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.by[channel]
	delete(b.by, channel)
	return p
}

// sessionSet is a bounded set of session IDs under its own lock (it
// starts again empty past 10,000: a cache, never the truth).
type sessionSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *sessionSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) > 10000 {
		s.m = map[string]bool{}
	}
	s.m[id] = true
}

func (s *sessionSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

func (s *sessionSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}
