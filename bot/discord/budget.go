package discord

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tableround/tableround/bot"
)

// chanBudget is one channel's (or thread's) share of Discord's
// per-channel message limit, which every webhook and the bot in the
// channel share and which Discord answers with a `shared` 429 and no
// warning header. Its rate adapts: each shared 429 halves it (not below
// Limits.ChannelMin) and blocks this channel alone until retry_after; a
// minute without one lets it grow back linearly, to Limits.Channel.Rate
// over ten minutes. Under the rate, a sliding window
// (Limits.ChannelWindow) holds the writes of any window to its limit, as
// Discord counts them, so that a burst on top of the rate never overshoots.
type chanBudget struct {
	id    string
	sched *bot.Scheduler // no parent: the token's budget is waited on after it
	max   float64
	min   float64
	win   Window
	clock bot.Clock

	mu      sync.Mutex
	last429 time.Time
	grown   time.Time   // when the rate last grew
	limited int         // shared 429s taken
	sent    []time.Time // writes admitted within the window, oldest first
}

// recoverAfter is how long a channel goes without a shared 429 before its
// rate grows again; recoverOver is how long growing back from nothing to
// the full rate takes.
const (
	recoverAfter = time.Minute
	recoverOver  = 10 * time.Minute
)

// pacer is the adapter's rate-limit state beyond single webhooks: the
// token's global budget, each channel's message budget, what it has
// learnt (edits count), the invalid-request count and the budget shared
// with the token's other replicas.
type pacer struct {
	lim    Limits
	clock  bot.Clock
	log    *slog.Logger
	global *bot.Scheduler

	chans        chanBook
	editsCounted atomic.Bool // edits count toward the channel limit (set or learnt)
	invalid      invalidCounter
	shared       *sharedGate // nil: this process alone paces the token
}

// chanBook holds each channel's (and thread's) message budget.
type chanBook struct {
	mu sync.Mutex
	m  map[string]*chanBudget
}

// budget returns a channel's budget, made the first time.
func (p *pacer) budget(channel string) *chanBudget {
	p.chans.mu.Lock()
	defer p.chans.mu.Unlock()
	b, ok := p.chans.m[channel]
	if !ok {
		b = &chanBudget{id: channel, sched: bot.NewScheduler(p.lim.Channel, nil, p.clock),
			max: p.lim.Channel.Rate, min: p.lim.ChannelMin, win: p.lim.ChannelWindow, clock: p.clock}
		if p.chans.m == nil {
			p.chans.m = map[string]*chanBudget{}
		}
		p.chans.m[channel] = b
	}
	return b
}

// wait takes a slot for one counted write; true when it had to wait, so
// that the caller takes its webhook's and token's slots again at the
// moment it really sends.
func (b *chanBudget) wait(ctx context.Context, pri bot.Priority) (bool, error) {
	b.grow()
	start := b.clock.Now()
	if err := b.sched.WaitPriority(ctx, pri); err != nil {
		return false, err
	}
	if err := b.admit(ctx); err != nil {
		return false, err
	}
	return b.clock.Now().Sub(start) > 20*time.Millisecond, nil
}

// admit counts a write in the window, first waiting while the window is
// full. When the write fills the window it holds the scheduler until the
// oldest write leaves it, so the channel's other writers wait there, in
// priority order, rather than here.
func (b *chanBudget) admit(ctx context.Context) error {
	if b.win.Limit <= 0 || b.win.Per <= 0 {
		return nil
	}
	for {
		now := b.clock.Now()
		b.mu.Lock()
		b.prune(now)
		if len(b.sent) < b.win.Limit {
			b.sent = append(b.sent, now)
			var hold time.Duration
			if len(b.sent) >= b.win.Limit {
				hold = b.sent[0].Add(b.win.Per).Sub(now)
			}
			b.mu.Unlock()
			if hold > 0 {
				b.sched.Penalize(hold, false)
			}
			return nil
		}
		wait := b.sent[0].Add(b.win.Per).Sub(now)
		b.mu.Unlock()
		if err := b.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// prune drops the writes that left the window (b.mu held).
func (b *chanBudget) prune(now time.Time) {
	i := 0
	for i < len(b.sent) && now.Sub(b.sent[i]) >= b.win.Per {
		i++
	}
	b.sent = b.sent[i:]
}

// free is how many writes the channel can make at once now: its
// scheduler's free slots, no more than the window has room for.
func (b *chanBudget) free() int {
	n := b.sched.Free()
	if b.win.Limit <= 0 {
		return n
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(b.clock.Now())
	return max(0, min(n, b.win.Limit-len(b.sent)))
}

// shareable is the budget the token's replicas share for this channel
// (SharedLimiter): the rate it has now, with the burst cut so that the
// burst and a window's worth of the rate stay within the window's limit,
// which a replica's own window cannot see to.
func (b *chanBudget) shareable(burst int) bot.Budget {
	r := b.sched.Rate()
	if b.win.Limit > 0 {
		burst = min(burst, b.win.Limit-int(math.Ceil(r*b.win.Per.Seconds())))
	}
	return bot.Budget{Rate: r, Burst: max(1, burst)}
}

// grow is the additive increase.
func (b *chanBudget) grow() {
	now := b.clock.Now()
	b.mu.Lock()
	if now.Sub(b.last429) < recoverAfter || b.grown.IsZero() {
		if b.grown.IsZero() {
			b.grown = now
		}
		b.mu.Unlock()
		return
	}
	since := now.Sub(b.grown)
	b.grown = now
	b.mu.Unlock()
	if r := b.sched.Rate(); r < b.max {
		b.sched.SetRate(min(b.max, r+b.max*since.Seconds()/recoverOver.Seconds()))
	}
}

// shared is the multiplicative decrease after a shared 429: learnEdits is
// true the first time the adapter learns that edits count (the rate stays,
// edits join the budget).
func (b *chanBudget) shared(retryAfter time.Duration, learnEdits bool) {
	now := b.clock.Now()
	b.mu.Lock()
	b.last429, b.grown = now, now
	b.limited++
	b.mu.Unlock()
	if !learnEdits {
		b.sched.SetRate(max(b.min, b.sched.Rate()/2))
	}
	b.sched.Hold(retryAfter)
}

// ChannelPacing is what a channel's message budget looks like now: its
// rate in writes per second, the writes waiting for it, and when a shared
// 429's wait ends (zero when none). A session can use it to slow down
// while its channel is behind.
type ChannelPacing struct {
	Rate    float64
	Waiting int
	Until   time.Time
}

// Pacing reports a channel's (or thread's) message budget by its Discord
// ID.
func (a *Adapter) Pacing(channel string) ChannelPacing { return a.pace.pacing(channel) }

func (p *pacer) pacing(channel string) ChannelPacing {
	b := p.budget(channel)
	cp := ChannelPacing{Rate: b.sched.Rate(), Waiting: b.sched.Waiting()}
	if u := b.sched.Blocked(); u.After(p.clock.Now()) {
		cp.Until = u
	}
	return cp
}

// editsCount tells whether edits count toward the channel limit: set in
// Limits, or learnt from a shared 429.
func (p *pacer) editsCount() bool { return p.editsCounted.Load() }

// sharedLimit is a 429 of the per-channel limit (X-RateLimit-Scope
// shared). It unwraps to the *bot.RateLimitError.
type sharedLimit struct{ rl *bot.RateLimitError }

func (e *sharedLimit) Error() string { return "shared (per-channel) " + e.rl.Error() }
func (e *sharedLimit) Unwrap() error { return e.rl }

// channelWrite makes one message write into channel under the channel's
// budget: a create always waits for it, an edit only when edits count.
// When the channel made it wait, rewait takes the caller's other slots
// (its webhook's, the token's) again, so they are counted when the
// request really leaves. Shared 429s are ridden out here (each lowers the
// channel's rate and holds the channel alone until retry_after); every
// other error is the caller's.
func (a *pacer) write(ctx context.Context, channel string, edit bool, pri bot.Priority, rewait func(context.Context) error, call func(context.Context) error) error {
	ctx = withPriority(ctx, pri) // the shared global gate reads it
	b := a.budget(channel)
	for attempt := 0; ; attempt++ {
		if !edit || a.editsCount() {
			waited, err := b.wait(ctx, pri)
			if err != nil {
				return err
			}
			if w, err := a.takeChannel(ctx, b, pri); err != nil {
				return err
			} else if w {
				waited = true
			}
			if waited && rewait != nil {
				if err := rewait(ctx); err != nil {
					return err
				}
			}
		}
		err := call(ctx)
		var sl *sharedLimit
		if !errors.As(err, &sl) || attempt >= 10 {
			return err
		}
		learn := !a.editsCount()
		if learn {
			a.editsCounted.Store(true)
			a.log.Warn("a shared (per-channel) 429 under the create budget: counting edits toward the channel limit from now on", "channel", channel, "retry_after", sl.rl.RetryAfter)
		} else {
			a.log.Warn("shared (per-channel) 429: slowing the channel", "channel", channel, "retry_after", sl.rl.RetryAfter)
		}
		b.shared(sl.rl.RetryAfter, learn)
	}
}
