package main

import "sync"

// writeLog is the writes a fake recorded, in the order they were recorded,
// under its own lock.
type writeLog struct {
	mu     sync.Mutex
	writes []Write
}

func (l *writeLog) add(w Write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

// all is a copy of the writes so far.
func (l *writeLog) all() []Write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Write(nil), l.writes...)
}
