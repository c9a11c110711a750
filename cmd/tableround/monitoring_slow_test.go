//go:build slow

package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/eventually"
)

// TestMonitoringCountsARateLimitStorm: 429s that hit a running session are
// counted in /metrics, retried, kept in the alert history as one burst and
// reported by doctor --url. Slow: it streams a session at Discord's pace.
// Not parallel: which calls the storm's 429s hit depends on timing, and
// beside the other tests they can all land on the adapter's setup calls
// (no stream writer retries, and the test waits in vain).
func TestMonitoringCountsARateLimitStorm(t *testing.T) {
	fake, channel, addr := serveDiscord(t)
	eventually.Within(t, time.Minute, "the listener", func() bool {
		_, code := tryGet("http://" + addr + "/metrics")
		return code == 200
	})
	// Three 429s: counted, and in the alert history as one burst.
	eventually.Within(t, time.Minute, "the gateway connection", func() bool { return fake.Connected() > 0 })
	fake.Storm(3, 50*time.Millisecond)
	if _, err := fake.PostUser(channel, discordfake.User{ID: fake.NewID(), Name: "ada"}, "design a paper-cut kite", true); err != nil {
		t.Fatal(err)
	}
	eventually.Within(t, time.Minute, "three 429s", func() bool { return fake.RateLimited() >= 3 })
	eventually.Within(t, time.Minute, "the 429s in /metrics", func() bool {
		b, _ := tryGet("http://" + addr + "/metrics")
		return strings.Contains(b, `tableround_platform_rate_limited_total{platform="discord"} 3`)
	})
	// The stream writers retried the ones that hit them (others hit the
	// adapter's own setup calls), and deliver final texts.
	retried := regexp.MustCompile(`tableround_platform_retries_total\{platform="discord"\} ([1-9]\d*)`)
	delivered := regexp.MustCompile(`tableround_edits_per_message_count\{platform="discord"\} [1-9]`)
	eventually.Within(t, time.Minute, "retries and delivered messages in /metrics", func() bool {
		b, _ := tryGet("http://" + addr + "/metrics")
		m := retried.FindStringSubmatch(b)
		n := 0
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return n >= 1 && delivered.MatchString(b) &&
			!strings.Contains(b, `tableround_edit_staleness_seconds_count{platform="discord"} 0`)
	})
	alerts, _ := tryGet("http://" + addr + "/alerts")
	if !strings.Contains(alerts, `"kind": "rate_limited"`) || !strings.Contains(alerts, `"count": 3`) {
		t.Errorf("/alerts = %s", alerts)
	}
	var dout, derr bytes.Buffer
	code := run(context.Background(), envOf(nil), []string{"doctor", "--url", "http://" + addr}, strings.NewReader(""), &dout, &derr)
	report := dout.String()
	if code != exitOK || !strings.Contains(report, "✓ instance — store ok; discord") ||
		!strings.Contains(report, "⚠ recent warnings — 1 in this process") || !strings.Contains(report, "rate_limited discord ×3") {
		t.Errorf("doctor --url exit %d:\n%s%s", code, report, derr.String())
	}
}
