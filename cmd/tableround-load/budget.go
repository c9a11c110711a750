package main

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// checkPlatform validates -platform, -chats, -persona-bots and -limits
// together; the Discord default regime means the platform's own limits.
func (o *runOptions) checkPlatform() error {
	switch o.platform {
	case platformDiscord:
		if o.personaBots || o.chats != chatsPrivate {
			return errors.New("run: -chats and -persona-bots are Telegram's (-platform telegram)")
		}
		_, err := fakeLimits(o.limits)
		return err
	case platformTelegram:
		if o.limits == limitsDiscord {
			o.limits = limitsTelegram
		}
		if o.chats != chatsPrivate && o.chats != chatsGroup {
			return fmt.Errorf("run: unknown -chats %q (private or group)", o.chats)
		}
		_, err := tgFakeLimits(o.limits)
		return err
	}
	return fmt.Errorf("run: unknown -platform %q (discord or telegram)", o.platform)
}

// platformFakeArgs start the fake of the run's platform.
func (o *runOptions) platformFakeArgs() []string {
	if o.platform == platformTelegram {
		args := []string{"fake-telegram", "-addr", "127.0.0.1:0", "-limits", o.limits, "-chats", o.chats}
		if o.personaBots {
			args = append(args, "-persona-bots")
		}
		return args
	}
	return []string{"fake-discord", "-addr", "127.0.0.1:0", "-limits", o.limits}
}

// editInterval is the interval the platform grants one streamed message,
// the floor of the added latency: Discord's one edit per second per
// message; on Telegram the chat's pace (1 s) in a private chat and the
// group's (3 s: 20 per minute) in a group.
func (o *runOptions) editInterval() time.Duration {
	if o.platform != platformTelegram {
		lim, _ := fakeLimits(o.limits)
		return lim.EditInterval
	}
	l, _ := tgFakeLimits(o.limits)
	switch {
	case o.chats == chatsGroup && l.GroupPerMinute > 0:
		return time.Minute / time.Duration(l.GroupPerMinute)
	case l.ChatRate > 0:
		return time.Duration(float64(time.Second) / l.ChatRate)
	}
	return 0
}

// budget is one rate limit of the platform in a form that tells how long
// k writes take at the least: a window of n writes per span, or a token
// bucket of rate per second and burst.
type budget struct {
	n          int
	span       time.Duration
	rate       float64
	burst      int
	perChannel bool // per channel (chat, thread); else per token
}

// least is the shortest time in which k writes fit the budget.
func (b budget) least(k int) time.Duration {
	switch {
	case k <= 0:
		return 0
	case b.n > 0:
		return time.Duration((k-1)/b.n) * b.span
	case b.rate > 0 && k > b.burst:
		return time.Duration(float64(k-b.burst) / b.rate * float64(time.Second))
	}
	return 0
}

// budgets are the fake's limits that bound a session's length: per
// channel and per token. Per-message limits (one edit a second) bound no
// session, since a message need not be edited at all.
func (o *runOptions) budgets() []budget {
	if o.platform == platformTelegram {
		l, _ := tgFakeLimits(o.limits)
		var out []budget
		if l.ChatRate > 0 {
			out = append(out, budget{rate: l.ChatRate, burst: l.ChatBurst, perChannel: true})
		}
		if o.chats == chatsGroup && l.GroupPerMinute > 0 {
			out = append(out, budget{n: l.GroupPerMinute, span: time.Minute, perChannel: true})
		}
		if l.BotPerSecond > 0 {
			out = append(out, budget{n: l.BotPerSecond, span: time.Second})
		}
		return out
	}
	l, _ := fakeLimits(o.limits)
	var out []budget
	if l.ChannelMessages > 0 {
		out = append(out, budget{n: l.ChannelMessages, span: l.ChannelWindow, perChannel: true})
	}
	if l.GlobalRequests > 0 {
		out = append(out, budget{n: l.GlobalRequests, span: l.GlobalWindow})
	}
	return out
}

// budgetBounds are, per session, the least time its messages take under
// the platform's per-channel budgets: every message the session created
// had to be sent (its refreshes were optional, drafts too), so k creates
// in a channel take at least budget.least(k). A session cannot end sooner
// than this, nor than its model's critical path: wall time is compared
// with the larger. All sessions' creates share the token's budget: token
// is the least time the whole run's messages take under it (a bound of
// the run, not of each session). sessionOf maps a write's channel to its
// session.
func budgetBounds(o runOptions, writes []Write, sessionOf map[string]int) (bounds []time.Duration, token time.Duration) {
	creates := map[string]int{} // channel and bot → creates: each bot has its own budget in a chat
	chans := make([]map[string]bool, o.sessions)
	all := map[string]int{} // bot → creates
	for _, w := range writes {
		i, ok := sessionOf[w.Channel]
		if !ok || w.Status/100 != 2 || w.Edit || w.Draft {
			continue
		}
		key := w.Channel + "|" + w.Bot
		creates[key]++
		all[w.Bot]++
		if chans[i] == nil {
			chans[i] = map[string]bool{}
		}
		chans[i][key] = true
	}
	bounds = make([]time.Duration, o.sessions)
	for _, b := range o.budgets() {
		if !b.perChannel {
			for _, k := range all {
				token = max(token, b.least(k))
			}
			continue
		}
		for i, cs := range chans {
			for ch := range cs {
				bounds[i] = max(bounds[i], b.least(creates[ch]))
			}
		}
	}
	return bounds, token
}

// chatLags are, in milliseconds, each shown speech's lag from its last
// token (the fake model's last chunk) to its final text visible in a
// message (drafts left out: they are previews), as roundtable's
// LagObserver defines it, measured at the fakes. The final text is the
// most the messages ever showed of the speech: the engine tidies a
// speech's end (a few letters fewer than the model sent), so its last
// chunk may never show whole. A speech shown at less than 95 % of what
// the model sent (the summary, which is not shown) is left out.
func chatLags(calls []Call, writes []Write) []float64 {
	shown := map[string][]Write{} // marker → its non-draft accepted writes
	for _, w := range writes {
		if w.Draft || w.Status/100 != 2 || w.Marker == "" {
			continue
		}
		shown[w.Marker] = append(shown[w.Marker], w)
		for _, s := range w.More {
			x := w
			x.Marker, x.N, x.More = s.Marker, s.N, nil
			shown[s.Marker] = append(shown[s.Marker], x)
		}
	}
	var out []float64
	for _, c := range calls {
		ws := shown[c.Marker]
		if c.Marker == "" || len(c.Chunks) == 0 || len(ws) == 0 {
			continue
		}
		last := c.Chunks[len(c.Chunks)-1]
		most := 0
		for _, w := range ws {
			most = max(most, w.N)
		}
		if float64(most) < 0.95*float64(last.N) {
			continue
		}
		at := int64(math.MaxInt64)
		for _, w := range ws {
			if w.N >= min(most, last.N) {
				at = min(at, w.T)
			}
		}
		out = append(out, math.Max(0, float64(at-last.T)/1e6))
	}
	return out
}
