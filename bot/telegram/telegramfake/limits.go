package telegramfake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// bucket is a token bucket (the per-chat budget: rate per second, burst).
type bucket struct {
	tokens float64
	at     time.Time
}

// take reports whether a token is available now, and if not the seconds to
// wait for one.
func (b *bucket) take(now time.Time, rate float64, burst int) (bool, float64) {
	if b.at.IsZero() {
		b.tokens, b.at = float64(burst), now
	}
	b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, (1 - b.tokens) / rate
}

// flood is the fake's flood limits: the budgets of every bot and chat, and
// the 429s of a Storm, under its own lock. Its lock is a leaf: its methods
// take no other. buckets and windows are one collection, the budgets, in
// their two shapes (their keys never meet), checked together by admit.
type flood struct {
	limits Limits

	mu       sync.Mutex
	buckets  map[string]*bucket
	windows  map[string][]time.Time
	storm    []int
	limited  int // 429s sent by the flood limits
	injected int // 429s sent by Storm
}

func newFlood(l Limits) flood {
	return flood{limits: l, buckets: map[string]*bucket{}, windows: map[string][]time.Time{}}
}

// addStorm queues n 429s with retry_after seconds.
func (s *flood) addStorm(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.storm = append(s.storm, retryAfter)
	}
}

// sent is how many 429s the limits and Storm sent.
func (s *flood) sent() (limited, injected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited, s.injected
}

// window counts events in a sliding window; it reports whether one more
// fits and if not the seconds until the oldest leaves. Callers hold mu.
func (s *flood) window(key string, now time.Time, max int, span time.Duration) (bool, float64) {
	ev := s.windows[key]
	i := 0
	for i < len(ev) && !ev[i].After(now.Add(-span)) {
		i++
	}
	ev = ev[i:]
	if len(ev) >= max {
		s.windows[key] = ev
		return false, ev[0].Add(span).Sub(now).Seconds()
	}
	s.windows[key] = append(ev, now)
	return true, 0
}

// call is what kind of write a rate-limited call is.
type call int

const (
	callSend call = iota
	callEdit
	callDraft
)

// admit applies the flood limits to one message-producing call of a bot in
// a chat (a group or a private chat) at now. It returns the retry_after to
// answer with, or 0.
func (s *flood) admit(token string, chatID int64, group bool, kind call, now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.storm) > 0 {
		ra := s.storm[0]
		s.storm = s.storm[1:]
		s.injected++
		return ra
	}
	l := s.limits
	if kind == callDraft && !l.DraftsCount {
		return 0
	}
	if kind == callEdit && !group && !l.PrivateEditsCount {
		return 0
	}
	// Check every budget before spending any, so a refused call costs
	// nothing (Telegram does not count it either).
	var wait float64
	if l.BotPerSecond > 0 {
		if ok, w := s.peekWindow("bot:"+token, now, l.BotPerSecond, time.Second); !ok {
			wait = math.Max(wait, w)
		}
	}
	chatKey := fmt.Sprintf("chat:%s:%d", token, chatID)
	if l.ChatRate > 0 {
		b := s.buckets[chatKey]
		if b == nil {
			b = &bucket{}
			s.buckets[chatKey] = b
		}
		cp := *b
		if ok, w := cp.take(now, l.ChatRate, l.ChatBurst); !ok {
			wait = math.Max(wait, w)
		}
	}
	if group && l.GroupPerMinute > 0 {
		if ok, w := s.peekWindow("group:"+chatKey, now, l.GroupPerMinute, time.Minute); !ok {
			wait = math.Max(wait, w)
		}
	}
	if wait > 0 {
		s.limited++
		return max(1, int(math.Ceil(wait)))
	}
	if l.BotPerSecond > 0 {
		s.window("bot:"+token, now, l.BotPerSecond, time.Second)
	}
	if l.ChatRate > 0 {
		s.buckets[chatKey].take(now, l.ChatRate, l.ChatBurst)
	}
	if group && l.GroupPerMinute > 0 {
		s.window("group:"+chatKey, now, l.GroupPerMinute, time.Minute)
	}
	return 0
}

// admit is flood.admit for a call of a bot in a chat (c; nil when
// unknown) now.
func (s *Server) admit(token string, chatID int64, c *Chat, kind call) int {
	return s.flood.admit(token, chatID, c.group(), kind, s.o.Now())
}

// peekWindow is window without recording the event. Callers hold mu.
func (s *flood) peekWindow(key string, now time.Time, max int, span time.Duration) (bool, float64) {
	saved := s.windows[key]
	ok, w := s.window(key, now, max, span)
	if ok {
		s.windows[key] = saved
	}
	return ok, w
}

// response is the Bot API envelope.
type response struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func answer(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, response{OK: true, Result: result})
}

func fail(w http.ResponseWriter, code int, description string) {
	writeJSON(w, code, response{ErrorCode: code, Description: description})
}

func tooMany(w http.ResponseWriter, retryAfter int) {
	writeJSON(w, http.StatusTooManyRequests, response{ErrorCode: 429,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		Parameters:  json.RawMessage(fmt.Sprintf(`{"retry_after":%d}`, retryAfter))})
}
