package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

// limitWindow is the window of the per-person limits.
const limitWindow = time.Hour

// PersonKey names a person across chats: "<platform>:<user ID>", the
// platform taken from the channel ("discord:123" → "discord"). The same
// person in two groups, or in a group and a private chat, has one key.
func PersonKey(channel, userID string) string {
	platform, _, _ := strings.Cut(channel, ":")
	return platform + ":" + userID
}

// LimitError is a per-person limit that refused something; RetryAt is when
// the person may try again.
type LimitError struct {
	What    string // "sessions" or "model calls"
	Limit   int
	RetryAt time.Time
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("roundtable: %d %s per hour reached, until %s", e.Limit, e.What, e.RetryAt.UTC().Format(time.RFC3339))
}

// CallLimit counts the model calls made for one person (USER_CALL_LIMIT per
// hour, across all their sessions and replicas, in the store). A session
// whose starter reaches it ends at its next step with a CapError.
type CallLimit struct {
	Store store.QuotaStore
	Key   string // PersonKey
	Limit int

	mu  sync.Mutex
	hit *LimitError
}

// take counts one call, or returns a *LimitError.
func (l *CallLimit) take(ctx context.Context) error {
	q, err := l.Store.TakeQuota(ctx, "user:calls:"+l.Key, NewID(), l.Limit, limitWindow)
	if err != nil {
		return fmt.Errorf("count model call: %w", err)
	}
	if q.Allowed {
		return nil
	}
	le := &LimitError{What: "model calls", Limit: l.Limit, RetryAt: q.RetryAt}
	l.mu.Lock()
	l.hit = le
	l.mu.Unlock()
	return le
}

// reached returns the refusal that ended the person's calls, or nil.
func (l *CallLimit) reached() *LimitError {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hit
}

// limitedModel counts each call against a CallLimit before making it.
type limitedModel struct {
	inner providers.ChatModel
	limit *CallLimit
}

func (m limitedModel) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	if err := m.limit.take(ctx); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return providers.Response{}, &providers.Error{Provider: "limit", Kind: providers.KindRateLimit,
				Message: "the hourly model-call limit of the person who started the session is reached", Err: err}
		}
		return providers.Response{}, err
	}
	return m.inner.Stream(ctx, req, fn)
}

// withCallLimit routes every model of deps through limit.
func withCallLimit(d Deps) Deps {
	l := d.Calls
	if l == nil {
		return d
	}
	if d.Chat != nil {
		d.Chat = limitedModel{inner: d.Chat, limit: l}
	}
	if d.Vision != nil {
		d.Vision = limitedModel{inner: d.Vision, limit: l}
	}
	if seat := d.SeatModel; seat != nil {
		d.SeatModel = func(id string) (providers.ChatModel, string) {
			m, name := seat(id)
			if m == nil {
				return nil, name
			}
			return limitedModel{inner: m, limit: l}, name
		}
	}
	return d
}

// sessionDeps are the deps of a session started by person key: its model
// calls count against USER_CALL_LIMIT unless the person is an operator.
func (m *Manager) sessionDeps(key string) Deps {
	d := m.deps
	if m.o.UserCallLimit > 0 && key != "" && !m.o.Operators[key] {
		d.Calls = &CallLimit{Store: m.store, Key: key, Limit: m.o.UserCallLimit}
	}
	return d
}
