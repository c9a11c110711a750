package bot

import "sync"

// Pending is an open people's turn on a platform. The first answer ends the
// wait; answers racing it before the asker closes the question overwrite it
// (the last submission before the question closes wins); answers after
// Close are refused.
type Pending struct {
	done chan struct{}

	mu     sync.Mutex
	answer *Answer
	closed bool
}

// NewPending returns an open question.
func NewPending() *Pending { return &Pending{done: make(chan struct{})} }

// Submit records an answer; false when the question is already closed.
func (p *Pending) Submit(ans Answer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	first := p.answer == nil
	p.answer = &ans
	if first {
		close(p.done)
	}
	return true
}

// Done is closed when the first answer arrives.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Close ends the question and returns the last answer (nil: none came).
func (p *Pending) Close() *Answer {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.answer
}
