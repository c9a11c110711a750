package bot

// WaitingAt is the number of requests of priority p queued for a slot
// now: a test with a manual clock moves time on once the requests it
// means to order are all in line.
func (s *Scheduler) WaitingAt(p Priority) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.queue {
		if w.pri == p {
			n++
		}
	}
	return n
}
