package ops

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/internal/clock"
)

// Alert kinds kept in the history.
const (
	AlertBreakerOpen     = "breaker_open"     // a model provider's circuit breaker opened
	AlertRateLimited     = "rate_limited"     // a chat platform answered 429
	AlertInvalidRequests = "invalid_requests" // a chat platform answered 401 or 403
	AlertStoreError      = "store_error"      // a store operation failed
)

// Alert is one entry of the process's recent warnings. Events of one kind
// and subject that follow each other within the merge window (a burst of
// 429s) share an entry: First and Last bound them, Count says how many.
type Alert struct {
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"` // the provider, platform or store operation
	Detail  string    `json:"detail,omitempty"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int       `json:"count"`
}

// String is one line for operators:
// "2026-03-01 15:04:05Z rate_limited discord ×12 until 15:04:40Z — HTTP 429".
func (a Alert) String() string {
	s := a.Short()
	if a.Detail != "" {
		s += " — " + a.Detail
	}
	return s
}

// Short is String without the detail (an error text may name hosts), for
// chat admins.
func (a Alert) Short() string {
	s := a.First.UTC().Format("2006-01-02 15:04:05Z") + " " + a.Kind + " " + a.Subject
	if a.Count > 1 {
		s += fmt.Sprintf(" ×%d until %s", a.Count, a.Last.UTC().Format("15:04:05Z"))
	}
	return s
}

// AlertLog is a bounded history of the process's warnings, newest kept,
// for /roundtable status (admins), `tableround doctor --url` and GET
// /alerts. It is safe for concurrent use; a nil *AlertLog records nothing.
type AlertLog struct {
	size  int
	merge time.Duration
	now   func() time.Time

	mu     sync.Mutex
	alerts []Alert // oldest first, at most size
}

// NewAlertLog keeps the last size entries (default 50); events of one kind
// and subject within merge of the previous one (default 1 minute) are
// counted in that entry. clk may be nil (the wall clock).
func NewAlertLog(size int, merge time.Duration, clk clock.Clock) *AlertLog {
	if size <= 0 {
		size = 50
	}
	if merge <= 0 {
		merge = time.Minute
	}
	return &AlertLog{size: size, merge: merge, now: clock.Or(clk).Now}
}

// Record adds an event; detail is redacted.
func (l *AlertLog) Record(kind, subject, detail string) {
	if l == nil {
		return
	}
	t := l.now()
	detail = Redact(detail)
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.alerts) - 1; i >= 0; i-- {
		a := &l.alerts[i]
		if a.Kind != kind || a.Subject != subject {
			continue
		}
		if t.Sub(a.Last) <= l.merge {
			a.Last, a.Count = t, a.Count+1
			if detail != "" {
				a.Detail = detail
			}
			return
		}
		break
	}
	if len(l.alerts) == l.size {
		l.alerts = append(l.alerts[:0], l.alerts[1:]...)
	}
	l.alerts = append(l.alerts, Alert{Kind: kind, Subject: subject, Detail: detail, First: t, Last: t, Count: 1})
}

// Recent returns up to n entries, newest first (n <= 0: all).
func (l *AlertLog) Recent(n int) []Alert {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= 0 || n > len(l.alerts) {
		n = len(l.alerts)
	}
	out := make([]Alert, 0, n)
	for i := len(l.alerts) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, l.alerts[i])
	}
	return out
}

// Lines renders up to n recent entries, newest first, one per line (see
// Alert.String); "" when there are none.
func (l *AlertLog) Lines(n int) string { return l.lines(n, Alert.String) }

// Summary is Lines without the details (see Alert.Short), for chat admins.
func (l *AlertLog) Summary(n int) string { return l.lines(n, Alert.Short) }

func (l *AlertLog) lines(n int, line func(Alert) string) string {
	var b strings.Builder
	for _, a := range l.Recent(n) {
		b.WriteString(line(a))
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// AlertsBody is the JSON body of GET /alerts.
type AlertsBody struct {
	Now    time.Time `json:"now"`
	Alerts []Alert   `json:"alerts"` // newest first
}

// ServeHTTP answers GET /alerts.
func (l *AlertLog) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	body := AlertsBody{Now: time.Now().UTC(), Alerts: l.Recent(0)}
	if l != nil {
		body.Now = l.now().UTC()
	}
	if body.Alerts == nil {
		body.Alerts = []Alert{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}
