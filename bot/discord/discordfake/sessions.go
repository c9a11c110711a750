package discordfake

import "sync"

// sessionStore holds the gateway sessions a connection can resume, by
// session ID, and counts how many were opened (IDENTIFY) and resumed,
// under its own lock. The gateway's connections point to a session by its
// ID and take this lock after their own, never inside it.
type sessionStore struct {
	mu         sync.Mutex
	byID       map[string]*gwSession
	identifies int
	resumes    int
}

// gwSession is what a resume needs: the last sequence number and the shard.
type gwSession struct {
	seq   int64
	shard [2]int64
}

// open starts a session after READY (sequence 1) for a shard.
func (s *sessionStore) open(id string, shard [2]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*gwSession{}
	}
	s.byID[id] = &gwSession{seq: 1, shard: shard}
	s.identifies++
}

// resume returns a session to take up again; false when there is none
// (the client must identify anew).
func (s *sessionStore) resume(id string) (gwSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return gwSession{}, false
	}
	s.resumes++
	return *sess, true
}

// next is a session's sequence number for its next event (0 for an
// unknown session).
func (s *sessionStore) next(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return 0
	}
	sess.seq++
	return sess.seq
}

// counts is how many sessions were opened and resumed.
func (s *sessionStore) counts() (identifies, resumes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies, s.resumes
}
