package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
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
	Store Quotas
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

// isOperator reports whether the person runs the bot (OPERATOR_IDS): the
// only people the per-person limits do not apply to.
func (m *Manager) isOperator(channel string, u bot.User) bool {
	return u.ID != "" && m.o.Operators[PersonKey(channel, u.ID)]
}

// takeStart counts a start against the person's hourly session limit. It
// returns the use's ID (for giveBack) or a refusal to show.
func (m *Manager) takeStart(ctx context.Context, req bot.Request) (id string, refusal string) {
	if m.isOperator(req.Channel, req.User) {
		return "", ""
	}
	if m.o.UserSessionLimit <= 0 {
		return "", m.callsLeft(ctx, req)
	}
	id = NewID()
	q, err := m.store.TakeQuota(ctx, "user:sessions:"+PersonKey(req.Channel, req.User.ID), id, m.o.UserSessionLimit, limitWindow)
	if err != nil {
		m.log.Error("count the start", "channel", req.Channel, "err", err)
		return "", m.text(req, "start_failed")
	}
	if !q.Allowed {
		return "", m.text(req, "user_limit", m.o.UserSessionLimit, m.until(q.RetryAt))
	}
	if refusal := m.callsLeft(ctx, req); refusal != "" {
		m.giveBack(ctx, req, id)
		return "", refusal
	}
	return id, ""
}

// callsLeft refuses a start when the person has no model call left this
// hour (a call is taken and given back: the session would end at once).
func (m *Manager) callsLeft(ctx context.Context, req bot.Request) string {
	if m.o.UserCallLimit <= 0 {
		return ""
	}
	key, id := "user:calls:"+PersonKey(req.Channel, req.User.ID), NewID()
	q, err := m.store.TakeQuota(ctx, key, id, m.o.UserCallLimit, limitWindow)
	if err != nil {
		m.log.Error("count the start's calls", "channel", req.Channel, "err", err)
		return m.text(req, "start_failed")
	}
	if !q.Allowed {
		return m.text(req, "call_limit", m.o.UserCallLimit, m.until(q.RetryAt))
	}
	if err := m.store.ReturnQuota(ctx, key, id); err != nil {
		m.log.Warn("give back the start's call", "channel", req.Channel, "err", err)
	}
	return ""
}

// giveBack returns a counted start that did not happen.
func (m *Manager) giveBack(ctx context.Context, req bot.Request, id string) {
	if id == "" {
		return
	}
	if err := m.store.ReturnQuota(context.WithoutCancel(ctx), "user:sessions:"+PersonKey(req.Channel, req.User.ID), id); err != nil {
		m.log.Warn("give back a start", "channel", req.Channel, "err", err)
	}
}

// until says when t is: "15:04 UTC (in 12 min)".
func (m *Manager) until(t time.Time) string {
	mins := int(t.Sub(m.deps.Now()).Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf("%s UTC (in %d min)", t.UTC().Format("15:04"), mins)
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
