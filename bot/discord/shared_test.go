package discord

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/discord/redislimit"
	"github.com/tableround/tableround/store/redis/redistest"
)

var (
	redisSrv  *redistest.Server
	redisSkip string
)

func TestMain(m *testing.M) {
	flag.Parse()
	parallelWaits()
	os.Exit(redistest.Main(m, func(s *redistest.Server, skip string) { redisSrv, redisSkip = s, skip }))
}

// parallelWaits runs twice as many parallel tests at once as there are
// CPUs (go test's default is as many), unless -parallel is given: most
// of this package's tests wait rather than compute (discordgo's Close
// sleeps a second, budgets pace on scaled clocks), so the CPUs stay busy.
func parallelWaits() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
}

// redisClient is a client of the test's redis-server on its own database,
// flushed first.
func redisClient(t *testing.T, db int) *goredis.Client {
	t.Helper()
	if redisSkip != "" {
		t.Skip(redisSkip)
	}
	c := goredis.NewClient(&goredis.Options{Addr: redisSrv.Addr(), DB: db, ContextTimeoutEnabled: true, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

// replica is an adapter as another process would build it: its own
// schedulers, sharing only Redis (when l is set) and the token. It waits
// for Redis up to a second, not the production 250 ms: on a test machine
// loaded by other packages' tests a slow answer would make it pace alone
// (by design) and draw the 429s the sharing tests look for.
func replica(t *testing.T, fake *discordfake.Server, lim Limits, l SharedLimiter) *Adapter {
	t.Helper()
	a, err := New(Config{Token: testToken, APIURL: fake.URL()}, newTestHandler(), Options{Limits: &lim, SharedLimiter: l})
	if err != nil {
		t.Fatal(err)
	}
	if a.pace.shared != nil {
		a.pace.shared.timeout = time.Second
	}
	return a
}

// replicaLimits pace each replica at 35 requests/s: alone well under the
// fake's 50/s, two together (70/s) over it unless they share the budget.
func replicaLimits() Limits {
	l := fastLimits
	l.Global = bot.Budget{Rate: 35, Burst: 1}
	return l
}

// hammer makes n one-off calls from each adapter at once.
func hammer(t *testing.T, channel string, n int, as ...*Adapter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				var out map[string]any
				if err := a.rest.setupCall(ctx, "GET", "https://discord.com/api/v9/channels/"+channel, jsonBody{}, &out); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestTwoReplicasShareTheTokensGlobalLimit: two replicas on one token and
// one Redis, each pacing itself at 35/s, together stay under Discord's 50
// requests/s per token: the fake (which enforces it) sends no global 429.
// Without the shared limiter the same load draws global 429s.
func TestTwoReplicasShareTheTokensGlobalLimit(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t, 1)
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) {
			t.Parallel()
			fake := discordfake.New(discordfake.Options{Token: testToken, Limits: discordfake.DiscordLimits()})
			defer fake.Close()
			ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
			var l1, l2 SharedLimiter
			if shared {
				l1, l2 = redislimit.New(rdb, "t1:"), redislimit.New(rdb, "t1:")
			}
			a, b := replica(t, fake, replicaLimits(), l1), replica(t, fake, replicaLimits(), l2)
			hammer(t, ch, 70, a, b)
			t.Logf("global 429s %d, most requests in one second %d", fake.GlobalLimited(), fake.GlobalPeak())
			switch {
			case shared && (fake.GlobalLimited() != 0 || fake.GlobalPeak() > 50):
				t.Errorf("shared: %d global 429s, peak %d/s; want none, ≤ 50", fake.GlobalLimited(), fake.GlobalPeak())
			case !shared && fake.GlobalLimited() == 0:
				t.Errorf("not shared: no global 429s, so the test's load does not need sharing")
			}
		})
	}
}

// TestTwoReplicasShareAChannelsBudget: two replicas writing into one
// channel share its message budget through Redis and draw no shared 429;
// without sharing they do.
func TestTwoReplicasShareAChannelsBudget(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t, 2)
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) {
			t.Parallel()
			fl := discordfake.DiscordLimits()
			fl.ChannelMessages, fl.ChannelWindow = 10, 3*time.Second
			fake := discordfake.New(discordfake.Options{Token: testToken, Limits: fl})
			defer fake.Close()
			ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
			lim := replicaLimits()
			lim.Channel, lim.ChannelMin = bot.Budget{Rate: 2, Burst: 2}, 0.25 // 2 + 6 per 3 s
			var l1, l2 SharedLimiter
			if shared {
				l1, l2 = redislimit.New(rdb, "t2:"), redislimit.New(rdb, "t2:")
			}
			a, b := replica(t, fake, lim, l1), replica(t, fake, lim, l2)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			for i, r := range []*Adapter{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range 6 {
						if _, err := r.botMsgs.send(ctx, ch, botMessage{Content: fmt.Sprintf("replica %d, message %d", i, j)}, nil); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if n := len(fake.Messages(ch)); n != 12 {
				t.Errorf("%d messages, want 12", n)
			}
			got := fake.SharedLimited(ch)
			t.Logf("shared 429s: %d", got)
			switch {
			case shared && got != 0:
				t.Errorf("shared: %d shared 429s, want none", got)
			case !shared && got == 0:
				t.Errorf("not shared: no shared 429s, so the test's load does not need sharing")
			}
		})
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// TestInteractionResponsesSkipTheSharedGlobalBudget: with the token's
// shared budget spent, an interaction's answer (not bound to the global
// limit, and due within 3 s) goes at once; any other call waits.
func TestInteractionResponsesSkipTheSharedGlobalBudget(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t, 4)
	fake := discordfake.New(discordfake.Options{Token: testToken})
	defer fake.Close()
	lim := fastLimits
	lim.Global = bot.Budget{Rate: 1, Burst: 1}
	a := replica(t, fake, lim, redislimit.New(rdb, "t4:"))
	req := func(path string) *http.Request {
		r, _ := http.NewRequest("POST", "https://discord.com/api/v9"+path, nil)
		r.Header.Set("Authorization", "Bot "+testToken)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		return r.WithContext(ctx)
	}
	if err := a.pace.gateRequest(req("/channels/1/messages")); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if err := a.pace.gateRequest(req("/interactions/1/tok/callback")); err != nil {
		t.Errorf("interaction answer with the budget spent: %v, want it to go at once", err)
	}
	if err := a.pace.gateRequest(req("/channels/1/messages")); err == nil {
		t.Errorf("a second call within the second went through a budget of 1/s")
	}
}
