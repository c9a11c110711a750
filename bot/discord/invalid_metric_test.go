package discord

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/discord/redislimit"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/store/redis/redistest"
)

// invalidMetric reads tableround_platform_invalid_requests_total{discord}.
func invalidMetric(t *testing.T, m *ops.Metrics) int {
	t.Helper()
	var out int
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tableround_platform_invalid_requests_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "platform" && l.GetValue() == "discord" {
					out += int(mt.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// TestInvalidCountMatchesTheMetric: the adapter's own count (which drives
// the slowdown) and the platform_invalid_requests_total metric count the
// same responses: 429s ridden out, a 403 on the webhook list, and a 401
// to a call discordgo makes itself (the gateway lookup at login), which
// the adapter's request code never sees.
func TestInvalidCountMatchesTheMetric(t *testing.T) {
	t.Parallel()
	fake := discordfake.New(discordfake.Options{Token: testToken})
	defer fake.Close()
	guild := fake.NewID()
	ch := fake.AddChannel(discordfake.Channel{GuildID: guild}).ID
	locked := fake.AddChannel(discordfake.Channel{GuildID: guild, NoWebhooks: true}).ID
	m := ops.NewMetrics()
	newAdapter := func(token string) *Adapter {
		a, err := New(Config{Token: token, APIURL: fake.URL()}, newTestHandler(), Options{Limits: &fastLimits,
			WrapREST: func(rt http.RoundTripper) http.RoundTripper { return m.CountRequests("discord", rt) }})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newAdapter(testToken)
	ctx := context.Background()
	fake.Storm(3, 10*time.Millisecond)
	if _, err := a.botMsgs.send(ctx, ch, botMessage{Content: "after a storm"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.hooks.ensureListed(ctx, a.hooks.pool(locked)); err != errNoWebhooks {
		t.Fatalf("webhook list in a channel without Manage Webhooks: %v, want errNoWebhooks", err)
	}
	if _, err := a.s.GatewayBot(); err != nil {
		t.Fatal(err)
	}
	// A rejected token's own lookup: the same adapter type, another token.
	bad := newAdapter("wrong-token")
	if _, err := bad.s.GatewayBot(); err == nil {
		t.Fatal("the fake accepted a wrong token")
	}
	got, want := a.InvalidRequests()+bad.InvalidRequests(), invalidMetric(t, m)
	if want != 5 {
		t.Fatalf("metric counted %d invalid requests, want 5 (three 429s, a 403, a 401)", want)
	}
	if got != want {
		t.Errorf("adapters counted %d invalid requests, the metric %d", got, want)
	}
}

// TestInvalidCountIsSharedAcrossReplicas: with a shared limiter, one
// replica's invalid requests count in the other's 10-minute count (the
// ban is per IP).
func TestInvalidCountIsSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t, 3)
	fake := discordfake.New(discordfake.Options{Token: testToken})
	defer fake.Close()
	a := replica(t, fake, fastLimits, redislimit.New(rdb, "t3:"))
	b := replica(t, fake, fastLimits, redislimit.New(rdb, "t3:"))
	for range 4 {
		a.pace.invalid.observe(time.Now(), http.StatusTooManyRequests)
	}
	b.pace.invalid.observe(time.Now(), http.StatusForbidden)
	if n := b.InvalidRequests(); n != 5 {
		t.Errorf("replica b counts %d invalid requests, want 5 (4 of a's and its own)", n)
	}
	if n := a.InvalidRequests(); n != 4 {
		t.Errorf("replica a counts %d before reading the shared count again, want its own 4", n)
	}
}

// TestSharedLimiterOutageFallsBackOnce: with Redis unreachable, requests
// still go out (paced in-process at the fallback share of the token's
// rate), and the outage is logged once; once Redis answers again (asked
// after sharedRetry), the token's full rate is back.
func TestSharedLimiterOutageFallsBackOnce(t *testing.T) {
	t.Parallel()
	if redisSkip != "" {
		t.Skip(redisSkip)
	}
	port := redistest.FreePort()
	down := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + itoa(port), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer down.Close()
	clk := &testClock{Scaled: &clock.Scaled{Factor: 1}, fire: make(chan struct{})}
	fake := discordfake.New(discordfake.Options{Token: testToken, Limits: discordfake.DiscordLimits()})
	defer fake.Close()
	ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
	var logs bytes.Buffer
	lim := fastLimits
	lim.Global = bot.Budget{Rate: 40, Burst: 1}
	a, err := New(Config{Token: testToken, APIURL: fake.URL()}, newTestHandler(), Options{Limits: &lim,
		SharedLimiter: redislimit.New(down, ""), Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	a.pace.shared.timeout = time.Second // as replica's: a loaded machine's slow answer is not an outage
	hammer(t, ch, 8, a)
	if r := a.pace.global.Rate(); r != 40*fallbackShare {
		t.Errorf("token rate during the outage %.1f/s, want %.1f", r, 40*fallbackShare)
	}
	if n := strings.Count(logs.String(), "shared rate limiter unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs.String())
	}
	srv, err := redistest.Start(port, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	clk.jump(sharedRetry)
	hammer(t, ch, 2, a)
	if r := a.pace.global.Rate(); r != 40 {
		t.Errorf("token rate after Redis came back %.1f/s, want 40", r)
	}
	if !strings.Contains(logs.String(), "reachable again") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
}
