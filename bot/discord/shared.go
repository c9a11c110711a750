package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tableround/tableround/bot"
)

// SharedLimiter is the budget every replica of one bot token shares
// (Redis through package redislimit when REDIS_URL is set). Discord's 50
// requests/s is per token, whatever process sends them, and a channel's
// message limit is per channel, whichever replica writes into it.
type SharedLimiter interface {
	// Take asks for one slot of the budget named key, b.Rate per second
	// with bursts of b.Burst: zero when the slot is taken, else how long
	// to wait before asking again. Calls on one key may differ in Burst
	// (never in Rate): a call with a smaller burst takes a slot only while
	// the budget's backlog leaves room for the larger one, which is how
	// refreshes leave a reserve to urgent writes (see sharedBudget).
	Take(ctx context.Context, key string, b bot.Budget) (time.Duration, error)
	// CountInvalid adds n invalid requests (401, 403, 429) now and returns
	// how many the token's replicas had in the last 10 minutes.
	CountInvalid(ctx context.Context, n int) (int, error)
}

// Asking the shared limiter never stalls streaming: each call has
// sharedTimeout, and after an error the adapter paces itself alone, at
// fallbackShare of the token's rate, for sharedRetry before asking again.
const (
	sharedTimeout = 250 * time.Millisecond
	sharedRetry   = 5 * time.Second
	// fallbackShare of the token's global rate is what one replica takes
	// while the shared limiter is unreachable: four replicas stay under
	// Discord's limit together.
	fallbackShare = 0.25
	// sharedReserve is how many slots of a shared budget's burst a refresh
	// leaves to creates, first words and final texts, whichever replica
	// sends them: a refresh takes a slot only while more than this many
	// are left.
	sharedReserve = 2
)

// sharedBudget is b as a write of priority pri asks the shared limiter
// for it. Urgent writes (creates, first words, final texts, setup calls)
// get a burst of at least sharedReserve+1; refreshes sharedReserve fewer.
// A burst raised that way is paid for in rate when the rate can afford
// it, so that no second holds more than before: the token's global budget
// (45/s, burst 1) becomes 43/s with bursts of 3 (46 in any second, as
// before, under Discord's 50). A channel's burst (5) is unchanged and its
// refreshes keep 2 creates in hand.
func sharedBudget(b bot.Budget, pri bot.Priority) bot.Budget {
	extra := max(0, sharedReserve+1-b.Burst)
	rate := b.Rate
	if rate > 2*float64(extra) {
		rate -= float64(extra)
	}
	burst := b.Burst + extra
	if pri == bot.PriorityRefresh {
		burst -= sharedReserve
	}
	return bot.Budget{Rate: rate, Burst: burst}
}

// priorityKey carries a write's priority in its context down to the
// transport's shared global gate.
type priorityKey struct{}

// withPriority marks ctx's requests as writes of priority pri.
func withPriority(ctx context.Context, pri bot.Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, pri)
}

// priorityOf is the priority withPriority set, PriorityUrgent for a
// request outside a message write (a setup call).
func priorityOf(ctx context.Context) bot.Priority {
	if p, ok := ctx.Value(priorityKey{}).(bot.Priority); ok {
		return p
	}
	return bot.PriorityUrgent
}

// sharedGate asks the shared limiter and falls back to in-process pacing
// when it fails. A nil gate lets everything through (one process).
type sharedGate struct {
	l       SharedLimiter
	timeout time.Duration // per call (sharedTimeout)
	token   string        // the key part naming the bot token (a hash, never the token)
	clock   bot.Clock
	log     func(err error, down bool)
	retune  func()

	mu    sync.Mutex
	until time.Time // no asking before this (after an error)
	down  atomic.Bool
}

// tokenKey names a bot token in shared keys without revealing it.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// globalKey and channelKey are the shared budgets' names.
func (g *sharedGate) globalKey() string           { return "{discord:" + g.token + "}:global" }
func (g *sharedGate) channelKey(ch string) string { return "{discord:" + g.token + "}:channel:" + ch }

// take waits for a slot of a shared budget for a write of priority pri;
// true when it had to wait more than a moment (the caller's other slots
// are stale then). It returns an error only when ctx ends.
func (g *sharedGate) take(ctx context.Context, key string, b bot.Budget, pri bot.Priority) (bool, error) {
	if g == nil {
		return false, nil
	}
	b = sharedBudget(b, pri)
	start := g.clock.Now()
	waited := func() bool { return g.clock.Now().Sub(start) > 20*time.Millisecond }
	for {
		if g.paused() {
			return waited(), nil
		}
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		wait, err := g.l.Take(cctx, key, b)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return waited(), ctx.Err()
			}
			g.failed(err)
			return waited(), nil
		}
		g.recovered()
		if wait <= 0 {
			return waited(), nil
		}
		if err := g.clock.Sleep(ctx, wait); err != nil {
			return waited(), err
		}
	}
}

// paused tells whether the shared limiter is being left alone after an
// error.
func (g *sharedGate) paused() bool {
	if !g.down.Load() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.clock.Now().Before(g.until)
}

// failed starts (or extends) a pause; the first failure of an outage is
// logged and slows the token down to its fallback share.
func (g *sharedGate) failed(err error) {
	g.mu.Lock()
	g.until = g.clock.Now().Add(sharedRetry)
	g.mu.Unlock()
	if !g.down.Swap(true) {
		g.log(err, true)
		g.retune()
	}
}

// recovered ends an outage.
func (g *sharedGate) recovered() {
	if g.down.Swap(false) {
		g.log(nil, false)
		g.retune()
	}
}

// count adds n invalid requests to the shared count and returns the
// total; ok is false when the shared limiter could not be asked.
func (g *sharedGate) count(ctx context.Context, n int) (total int, ok bool) {
	if g == nil || g.paused() {
		return 0, false
	}
	cctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	total, err := g.l.CountInvalid(cctx, n)
	if err != nil {
		g.failed(err)
		return 0, false
	}
	g.recovered()
	return total, true
}

// retuneGlobal sets the token's in-process rate from what slows it: the
// invalid-request slowdown and an unreachable shared limiter.
func (a *pacer) retuneGlobal() {
	rate := a.lim.Global.Rate
	if a.invalid.isSlowed() {
		rate /= 4
	}
	if a.shared != nil && a.shared.down.Load() {
		rate *= fallbackShare
	}
	a.global.SetRate(rate)
}

// newSharedGate wires Options.SharedLimiter (nil when unset).
func (a *pacer) newSharedGate(l SharedLimiter, token string) *sharedGate {
	if l == nil {
		return nil
	}
	return &sharedGate{l: l, timeout: sharedTimeout, token: tokenKey(token), clock: a.clock, retune: a.retuneGlobal,
		log: func(err error, down bool) {
			if down {
				a.log.Error("shared rate limiter unreachable: pacing this process alone at a fallback share of the token's rate", "err", err, "share", fallbackShare)
				return
			}
			a.log.Info("shared rate limiter reachable again: the token's budget is shared across replicas")
		}}
}

// gateRequest takes a slot of the token's shared global budget for a
// request that carries the bot's authorization (transport.gate).
// Interaction responses are not bound to the global limit (Discord's
// rate-limit docs), and they have a 3 s deadline: they go at once.
func (a *pacer) gateRequest(req *http.Request) error {
	if a.shared == nil || req.Header.Get("Authorization") == "" || interactionPath(req.URL.Path) {
		return nil
	}
	ctx := req.Context()
	_, err := a.shared.take(ctx, a.shared.globalKey(), bot.Budget{Rate: a.global.Rate(), Burst: a.lim.Global.Burst}, priorityOf(ctx))
	return err
}

// takeChannel takes a slot of a channel's shared message budget for a
// write of priority pri, at the rate its in-process budget has now
// (lowered by shared 429s); true when it had to wait.
func (a *pacer) takeChannel(ctx context.Context, b *chanBudget, pri bot.Priority) (bool, error) {
	if a.shared == nil {
		return false, nil
	}
	return a.shared.take(ctx, a.shared.channelKey(b.id), b.shareable(a.lim.Channel.Burst), pri)
}

// interactionPath is an interaction's callback route.
func interactionPath(path string) bool { return strings.Contains(path, "/interactions/") }
