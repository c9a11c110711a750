package roundtable

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// startQuota counts starts against the per-person hourly limits
// (USER_SESSION_LIMIT, and a first look at USER_CALL_LIMIT) in the store,
// so that every replica counts the same. It owns no map and no lock: the
// store is the state.
type startQuota struct {
	store     store.QuotaStore
	sessions  int             // USER_SESSION_LIMIT; 0: none
	calls     int             // USER_CALL_LIMIT; 0: none
	operators map[string]bool // OPERATOR_IDS, by PersonKey; read-only
	now       func() time.Time
	log       *slog.Logger
	text      func(req bot.Request, key string, args ...any) string
}

// isOperator reports whether the person runs the bot (OPERATOR_IDS): the
// only people the per-person limits do not apply to.
func (q *startQuota) isOperator(channel string, u bot.User) bool {
	return u.ID != "" && q.operators[PersonKey(channel, u.ID)]
}

// takeStart counts a start against the person's hourly session limit. It
// returns the use's ID (for giveBack) or a refusal to show.
func (q *startQuota) takeStart(ctx context.Context, req bot.Request) (id string, refusal string) {
	if q.isOperator(req.Channel, req.User) {
		return "", ""
	}
	if q.sessions <= 0 {
		return "", q.callsLeft(ctx, req)
	}
	id = NewID()
	r, err := q.store.TakeQuota(ctx, "user:sessions:"+PersonKey(req.Channel, req.User.ID), id, q.sessions, limitWindow)
	if err != nil {
		q.log.Error("count the start", "channel", req.Channel, "err", err)
		return "", q.text(req, "start_failed")
	}
	if !r.Allowed {
		return "", q.text(req, "user_limit", q.sessions, q.until(r.RetryAt))
	}
	if refusal := q.callsLeft(ctx, req); refusal != "" {
		q.giveBack(ctx, req, id)
		return "", refusal
	}
	return id, ""
}

// callsLeft refuses a start when the person has no model call left this
// hour (a call is taken and given back: the session would end at once).
func (q *startQuota) callsLeft(ctx context.Context, req bot.Request) string {
	if q.calls <= 0 {
		return ""
	}
	key, id := "user:calls:"+PersonKey(req.Channel, req.User.ID), NewID()
	r, err := q.store.TakeQuota(ctx, key, id, q.calls, limitWindow)
	if err != nil {
		q.log.Error("count the start's calls", "channel", req.Channel, "err", err)
		return q.text(req, "start_failed")
	}
	if !r.Allowed {
		return q.text(req, "call_limit", q.calls, q.until(r.RetryAt))
	}
	if err := q.store.ReturnQuota(ctx, key, id); err != nil {
		q.log.Warn("give back the start's call", "channel", req.Channel, "err", err)
	}
	return ""
}

// giveBack returns a counted start that did not happen.
func (q *startQuota) giveBack(ctx context.Context, req bot.Request, id string) {
	if id == "" {
		return
	}
	if err := q.store.ReturnQuota(context.WithoutCancel(ctx), "user:sessions:"+PersonKey(req.Channel, req.User.ID), id); err != nil {
		q.log.Warn("give back a start", "channel", req.Channel, "err", err)
	}
}

// until says when t is: "15:04 UTC (in 12 min)".
func (q *startQuota) until(t time.Time) string {
	mins := int(t.Sub(q.now()).Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf("%s UTC (in %d min)", t.UTC().Format("15:04"), mins)
}
