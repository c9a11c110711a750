package telegramfake

import (
	"fmt"
	"sync"
)

// requestLog counts the calls of each method and lists the rules clients
// broke, under its own lock.
type requestLog struct {
	mu     sync.Mutex
	calls  map[string]int
	broken []string
}

func (l *requestLog) call(method string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]int{}
	}
	l.calls[method]++
}

func (l *requestLog) count(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[method]
}

func (l *requestLog) broke(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.broken = append(l.broken, fmt.Sprintf(format, args...))
}

func (l *requestLog) rulesBroken() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.broken...)
}
