package discordfake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// admission is what a request needs to pass.
type admission struct {
	token   string // bot authorization counted against the global limit ("" = not counted)
	hook    string // webhook ID whose bucket applies
	edit    string // the ID of the message edited ("" = not an edit)
	persona bool   // a persona write: subject to Storm
	channel string // the channel or thread written to: its shared limit applies ("" = none)
}

// rateLimits are the fake's budgets and what they refused, under their
// own lock: one map of buckets, keyed "global:TOKEN", "hook:ID",
// "chan:ID" and "edit:MESSAGE".
type rateLimits struct {
	l   Limits
	now func() time.Time

	mu          sync.Mutex
	buckets     map[string]*bucket
	limited     int // 429s sent
	globalLimit int // global 429s sent
	globalPeak  int // most requests of one token in one GlobalWindow
	storm       int
	stormAfter  float64
}

// bucket is one budget's recent uses.
type bucket struct {
	used    []time.Time // accepted requests still inside the window
	limited int         // shared 429s sent (channels)
	blocked time.Time   // shared 429s until (BlockChannel)
	last    time.Time   // the last accepted edit (messages)
}

func newRateLimits(l Limits, now func() time.Time) *rateLimits {
	return &rateLimits{l: l, now: now, buckets: map[string]*bucket{}}
}

func (s *rateLimits) bucket(key string) *bucket {
	b := s.buckets[key]
	if b == nil {
		b = &bucket{}
		s.buckets[key] = b
	}
	return b
}

// admit applies the limits; false means a 429 was written.
func (s *rateLimits) admit(w http.ResponseWriter, a admission) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	l := s.l
	if a.persona && s.storm > 0 {
		s.storm--
		s.tooMany(w, s.stormAfter, false, "user")
		return false
	}
	prune := func(ts []time.Time, win time.Duration) []time.Time {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) >= win {
			i++
		}
		return ts[i:]
	}
	var global, hook, ch, edit *bucket
	if a.token != "" && l.GlobalRequests > 0 {
		global = s.bucket("global:" + a.token)
		global.used = prune(global.used, l.GlobalWindow)
		if g := global.used; len(g) >= l.GlobalRequests {
			s.globalLimit++
			s.tooMany(w, g[0].Add(l.GlobalWindow).Sub(now).Seconds(), true, "global")
			return false
		}
	}
	if a.hook != "" && l.WebhookRequests > 0 {
		hook = s.bucket("hook:" + a.hook)
		hook.used = prune(hook.used, l.WebhookWindow)
		if used := hook.used; len(used) >= l.WebhookRequests {
			s.bucketHeaders(w, a.hook, 0, used[0].Add(l.WebhookWindow).Sub(now))
			s.tooMany(w, used[0].Add(l.WebhookWindow).Sub(now).Seconds(), false, "user")
			return false
		}
	}
	if a.edit != "" {
		edit = s.bucket("edit:" + a.edit)
		if l.EditInterval > 0 && !edit.last.IsZero() {
			if since := now.Sub(edit.last); since < l.EditInterval {
				s.tooMany(w, (l.EditInterval - since).Seconds(), false, "user")
				return false
			}
		}
	}
	if a.channel != "" && l.ChannelMessages > 0 && (a.edit == "" || l.ChannelCountsEdits) {
		ch = s.bucket("chan:" + a.channel)
		if now.Before(ch.blocked) {
			ch.limited++
			s.tooMany(w, ch.blocked.Sub(now).Seconds(), false, "shared")
			return false
		}
		ch.used = prune(ch.used, l.ChannelWindow)
		if len(ch.used) >= l.ChannelMessages {
			ch.limited++
			s.tooMany(w, ch.used[0].Add(l.ChannelWindow).Sub(now).Seconds(), false, "shared")
			return false
		}
		ch.used = append(ch.used, now)
	}
	if global != nil {
		global.used = append(global.used, now)
		s.globalPeak = max(s.globalPeak, len(global.used))
	}
	if hook != nil {
		hook.used = append(hook.used, now)
		s.bucketHeaders(w, a.hook, l.WebhookRequests-len(hook.used), hook.used[0].Add(l.WebhookWindow).Sub(now))
	}
	if edit != nil {
		edit.last = now
	}
	return true
}

func (s *rateLimits) bucketHeaders(w http.ResponseWriter, bucket string, remaining int, reset time.Duration) {
	h := w.Header()
	h.Set("X-RateLimit-Bucket", "webhook-"+bucket)
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.l.WebhookRequests))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(math.Max(reset.Seconds(), 0), 'f', 3, 64))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(s.now().Add(reset).UnixMilli())/1000, 'f', 3, 64))
}

// tooMany writes Discord's 429 (s.mu held).
func (s *rateLimits) tooMany(w http.ResponseWriter, retryAfter float64, global bool, scope string) {
	s.limited++
	retryAfter = math.Max(math.Round(retryAfter*1000)/1000, 0.001)
	h := w.Header()
	h.Set("Retry-After", fmt.Sprint(math.Ceil(retryAfter)))
	h.Set("X-RateLimit-Scope", scope)
	if global {
		h.Set("X-RateLimit-Global", "true")
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": retryAfter, "global": global})
}

// RateLimited counts the 429s sent.
func (s *rateLimits) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// GlobalLimited counts the global (per token) 429s sent.
func (s *rateLimits) GlobalLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.globalLimit
}

// GlobalPeak is the most requests one token had accepted within one
// GlobalWindow (sliding) so far: at most Limits.GlobalRequests.
func (s *rateLimits) GlobalPeak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.globalPeak
}

// SharedLimited counts the shared (per-channel) 429s sent for a channel
// or thread; "" counts them all.
func (s *rateLimits) SharedLimited(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if channel != "" {
		if b := s.buckets["chan:"+channel]; b != nil {
			return b.limited
		}
		return 0
	}
	n := 0
	for k, b := range s.buckets {
		if strings.HasPrefix(k, "chan:") {
			n += b.limited
		}
	}
	return n
}

// BlockChannel answers every counted write into a channel (or thread)
// with a shared 429 until d has passed, as Discord does when its
// per-channel window is full of writes the client did not make.
func (s *rateLimits) BlockChannel(channel string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket("chan:" + channel).blocked = s.now().Add(d)
}

// Storm makes the next n persona writes (webhook calls and bot message
// writes) answer 429 with retry_after seconds.
func (s *rateLimits) Storm(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storm, s.stormAfter = n, retryAfter.Seconds()
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
