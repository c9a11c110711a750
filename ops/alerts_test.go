package ops

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
)

func TestAlertLogMergesBurstsAndKeepsTheNewest(t *testing.T) {
	c := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	start := c.Now()
	l := NewAlertLog(3, time.Minute, c)
	for range 5 { // a burst of 429s, 10 s apart: one entry
		l.Record(AlertRateLimited, "discord", "HTTP 429")
		c.Advance(10 * time.Second)
	}
	c.Advance(2 * time.Minute) // past the merge window: a new entry
	l.Record(AlertRateLimited, "discord", "HTTP 429")
	l.Record(AlertStoreError, "append", "dial tcp: token=abc123 refused")

	got := l.Recent(0)
	if len(got) != 3 {
		t.Fatalf("entries = %d, want 3: %+v", len(got), got)
	}
	if got[0].Kind != AlertStoreError || got[1].Count != 1 || got[2].Count != 5 {
		t.Errorf("entries newest first = %+v", got)
	}
	if !got[2].First.Equal(start) || !got[2].Last.Equal(start.Add(40*time.Second)) {
		t.Errorf("burst spans %s..%s, want %s..+40s", got[2].First, got[2].Last, start)
	}
	l.Record(AlertBreakerOpen, "openrouter", "")
	got = l.Recent(0)
	if len(got) != 3 || got[2].Count != 1 || got[0].Kind != AlertBreakerOpen {
		t.Errorf("the oldest entry was not dropped: %+v", got)
	}
	if n := len(l.Recent(1)); n != 1 {
		t.Errorf("Recent(1) = %d entries", n)
	}
	lines := l.Lines(0)
	if !strings.Contains(lines, "breaker_open openrouter") || !strings.Contains(lines, "2026-03-01 12:02:50Z rate_limited discord — HTTP 429") {
		t.Errorf("lines = %q", lines)
	}
	if sum := l.Summary(0); !strings.HasSuffix(sum, "\n2026-03-01 12:02:50Z rate_limited discord") || strings.Contains(sum, "—") {
		t.Errorf("summary = %q", sum)
	}
}

func TestAlertLogRedactsDetails(t *testing.T) {
	l := NewAlertLog(0, 0, nil)
	l.Record(AlertStoreError, "ping", "redis://default:hunter2secret@redis:6379 refused")
	if d := l.Recent(1)[0].Detail; strings.Contains(d, "hunter2secret") {
		t.Errorf("detail leaks the password: %q", d)
	}
	var nilLog *AlertLog
	nilLog.Record(AlertStoreError, "ping", "x")
	if nilLog.Recent(0) != nil || nilLog.Lines(5) != "" {
		t.Error("a nil log holds entries")
	}
}

func TestAlertsEndpoint(t *testing.T) {
	m := NewMetrics()
	m.Observe429("telegram")
	m.ObserveStoreError("append", errors.New("store: store unavailable"))
	m.ObserveCircuitOpened("gemini")
	m.ObserveInvalidRequest("discord", 401)
	rec := get(t, NewServer(Config{}, ServerOptions{Metrics: m}).Handler(), "/alerts")
	if rec.Code != http.StatusOK {
		t.Fatalf("/alerts = %d", rec.Code)
	}
	var body AlertsBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode /alerts: %v\n%s", err, rec.Body)
	}
	var kinds []string
	for _, a := range body.Alerts {
		kinds = append(kinds, a.Kind+":"+a.Subject)
	}
	want := "invalid_requests:discord breaker_open:gemini store_error:append rate_limited:telegram"
	if strings.Join(kinds, " ") != want {
		t.Errorf("alerts = %v, want %s", kinds, want)
	}
	// No alerts yet: an empty list, not null.
	rec = get(t, NewServer(Config{}, ServerOptions{}).Handler(), "/alerts")
	if !strings.Contains(rec.Body.String(), `"alerts": []`) {
		t.Errorf("empty /alerts = %s", rec.Body)
	}
}

func TestCountRequests(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	m := NewMetrics()
	c := &http.Client{Transport: m.CountRequests("discord", nil)}
	for _, st := range []int{200, 429, 429, 401, 403, 404, 500} {
		status = st
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	body := get(t, NewServer(Config{}, ServerOptions{Metrics: m}).Handler(), "/metrics").Body.String()
	for _, want := range []string{
		`tableround_platform_requests_total{platform="discord"} 7`,
		`tableround_platform_rate_limited_total{platform="discord"} 2`,
		`tableround_platform_invalid_requests_total{platform="discord"} 4`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
