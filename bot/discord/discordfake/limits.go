package discordfake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// admission is what a request needs to pass.
type admission struct {
	token   string // bot authorization counted against the global limit ("" = not counted)
	hook    string // webhook ID whose bucket applies
	edit    *Message
	persona bool   // a persona write: subject to Storm
	channel string // the channel or thread written to: its shared limit applies ("" = none)
}

// admit applies the limits (s.mu held); false means a 429 was written.
func (s *Server) admit(w http.ResponseWriter, a admission) bool {
	now := s.o.Now()
	l := s.o.Limits
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
	if a.token != "" && l.GlobalRequests > 0 {
		g := prune(s.global[a.token], l.GlobalWindow)
		s.global[a.token] = g
		if len(g) >= l.GlobalRequests {
			s.globalLimit++
			s.tooMany(w, g[0].Add(l.GlobalWindow).Sub(now).Seconds(), true, "global")
			return false
		}
	}
	var used []time.Time
	if a.hook != "" && l.WebhookRequests > 0 {
		used = prune(s.hookUse[a.hook], l.WebhookWindow)
		s.hookUse[a.hook] = used
		if len(used) >= l.WebhookRequests {
			s.bucketHeaders(w, a.hook, 0, used[0].Add(l.WebhookWindow).Sub(now))
			s.tooMany(w, used[0].Add(l.WebhookWindow).Sub(now).Seconds(), false, "user")
			return false
		}
	}
	if a.edit != nil && l.EditInterval > 0 && !a.edit.lastEdit.IsZero() {
		if since := now.Sub(a.edit.lastEdit); since < l.EditInterval {
			s.tooMany(w, (l.EditInterval - since).Seconds(), false, "user")
			return false
		}
	}
	counted := a.channel != "" && l.ChannelMessages > 0 && (a.edit == nil || l.ChannelCountsEdits)
	if until := s.chanBlocked[a.channel]; counted && now.Before(until) {
		s.chanLimited[a.channel]++
		s.tooMany(w, until.Sub(now).Seconds(), false, "shared")
		return false
	}
	var chUsed []time.Time
	if counted {
		chUsed = prune(s.chanUse[a.channel], l.ChannelWindow)
		s.chanUse[a.channel] = chUsed
		if len(chUsed) >= l.ChannelMessages {
			s.chanLimited[a.channel]++
			s.tooMany(w, chUsed[0].Add(l.ChannelWindow).Sub(now).Seconds(), false, "shared")
			return false
		}
	}
	if counted {
		s.chanUse[a.channel] = append(chUsed, now)
	}
	if a.token != "" && l.GlobalRequests > 0 {
		s.global[a.token] = append(s.global[a.token], now)
		s.globalPeak = max(s.globalPeak, len(s.global[a.token]))
	}
	if a.hook != "" && l.WebhookRequests > 0 {
		used = append(used, now)
		s.hookUse[a.hook] = used
		s.bucketHeaders(w, a.hook, l.WebhookRequests-len(used), used[0].Add(l.WebhookWindow).Sub(now))
	}
	if a.edit != nil {
		a.edit.lastEdit = now
	}
	return true
}

func (s *Server) bucketHeaders(w http.ResponseWriter, bucket string, remaining int, reset time.Duration) {
	h := w.Header()
	h.Set("X-RateLimit-Bucket", "webhook-"+bucket)
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.o.Limits.WebhookRequests))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(math.Max(reset.Seconds(), 0), 'f', 3, 64))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(s.o.Now().Add(reset).UnixMilli())/1000, 'f', 3, 64))
}

// tooMany writes Discord's 429.
func (s *Server) tooMany(w http.ResponseWriter, retryAfter float64, global bool, scope string) {
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

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
