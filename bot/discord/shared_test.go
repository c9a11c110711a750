package discord

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
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
	code := redistest.Main(m, func(s *redistest.Server, skip string) { redisSrv, redisSkip = s, skip })
	for _, e := range closing.wait() {
		fmt.Fprintln(os.Stderr, "FAIL:", e)
		code = 1
	}
	os.Exit(code)
}

// parallelWaits runs four times as many parallel tests at once as there
// are CPUs (go test's default is as many), unless -parallel is given:
// this package's tests wait rather than compute (budgets pace on scaled
// clocks and on Redis's, discordgo's Close sleeps a second), so the whole
// package uses under a third of one CPU even so.
func parallelWaits() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0)))
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
	burst := sharedBudget(lim.Global, bot.PriorityUrgent).Burst
	for i := range burst {
		if err := a.pace.gateRequest(req("/channels/1/messages")); err != nil {
			t.Fatalf("call %d of the burst: %v", i, err)
		}
	}
	if err := a.pace.gateRequest(req("/interactions/1/tok/callback")); err != nil {
		t.Errorf("interaction answer with the budget spent: %v, want it to go at once", err)
	}
	if err := a.pace.gateRequest(req("/channels/1/messages")); err == nil {
		t.Errorf("call %d within the second went through a budget of 1/s with bursts of %d", burst+1, burst)
	}
}

// TestRefreshesLeaveTheSharedReserveToUrgentWrites: on one Redis, one
// replica's refreshes take the token's shared budget only while more than
// sharedReserve slots are left, so another replica's creates, first words
// and final texts still find slots at once.
func TestRefreshesLeaveTheSharedReserveToUrgentWrites(t *testing.T) {
	rdb := redisClient(t, 5)
	a, b := redislimit.New(rdb, "t5:"), redislimit.New(rdb, "t5:")
	ctx := context.Background()
	key := "{discord:x}:global"
	budget := bot.Budget{Rate: 1.0 / 60, Burst: 1} // one a minute: Redis's clock cannot refill it during the test
	granted := func(l SharedLimiter, pri bot.Priority) bool {
		t.Helper()
		wait, err := l.Take(ctx, key, sharedBudget(budget, pri))
		if err != nil {
			t.Fatal(err)
		}
		return wait == 0
	}
	refreshes := 0
	for granted(a, bot.PriorityRefresh) {
		if refreshes++; refreshes > 10 {
			t.Fatal("refreshes never run out of a budget of one a minute")
		}
	}
	for i := range sharedReserve {
		if !granted(b, bot.PriorityFirst) {
			t.Fatalf("after replica a's %d refreshes, replica b's urgent write %d was refused: the reserve is not kept", refreshes, i+1)
		}
	}
	if granted(b, bot.PriorityUrgent) {
		t.Errorf("an urgent write beyond the burst was granted")
	}
	if granted(a, bot.PriorityRefresh) {
		t.Errorf("a refresh was granted with the reserve spent")
	}
}

// recordingLimiter records the bursts the adapter asks a shared budget
// for, by key kind, and grants every slot.
type recordingLimiter struct {
	mu     sync.Mutex
	bursts map[string][]int
}

func (r *recordingLimiter) Take(_ context.Context, key string, b bot.Budget) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kind := "global"
	if strings.Contains(key, ":channel:") {
		kind = "channel"
	}
	r.bursts[kind] = append(r.bursts[kind], b.Burst)
	return 0, nil
}

func (r *recordingLimiter) CountInvalid(context.Context, int) (int, error) { return 0, nil }

func (r *recordingLimiter) take() map[string][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.bursts
	r.bursts = map[string][]int{}
	return out
}

// TestAWritesPriorityReachesTheSharedBudgets: a bot message's create asks
// the shared global and channel budgets with the urgent burst, a refresh
// edit (edits counted) with the reserve left out.
func TestAWritesPriorityReachesTheSharedBudgets(t *testing.T) {
	fake := discordfake.New(discordfake.Options{Token: testToken})
	defer fake.Close()
	ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
	lim := fastLimits
	lim.Global, lim.Channel, lim.ChannelEdits = bot.Budget{Rate: 1000, Burst: 1}, bot.Budget{Rate: 1000, Burst: 5}, true
	rec := &recordingLimiter{bursts: map[string][]int{}}
	a := replica(t, fake, lim, rec)
	ctx := context.Background()
	msg, err := a.botMsgs.post(ctx, ch, botMessage{Content: "first words"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := map[string][]int{"global": {3}, "channel": {5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a create asked for bursts %v, want %v", got, want)
	}
	if err := a.botMsgs.patch(ctx, bot.PriorityRefresh, ch, msg.ID, botMessage{Content: "first words and more"}); err != nil {
		t.Fatal(err)
	}
	got = rec.take()
	want = map[string][]int{"global": {1}, "channel": {3}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a refresh asked for bursts %v, want %v", got, want)
	}
}

// TestSharedBudgetKeepsEachSecondsCount: a burst raised for the reserve
// is paid for in rate where the rate can afford it, so a second holds no
// more than the budget's own rate + burst (a slow budget at most
// sharedReserve more in its window); refreshes ask for sharedReserve fewer.
func TestSharedBudgetKeepsEachSecondsCount(t *testing.T) {
	for _, tc := range []struct {
		name          string
		b             bot.Budget
		urgent, fresh bot.Budget
	}{
		{"token", bot.Budget{Rate: 45, Burst: 1}, bot.Budget{Rate: 43, Burst: 3}, bot.Budget{Rate: 43, Burst: 1}},
		{"large token", bot.Budget{Rate: 450, Burst: 10}, bot.Budget{Rate: 450, Burst: 10}, bot.Budget{Rate: 450, Burst: 8}},
		{"channel", DefaultLimits().Channel, DefaultLimits().Channel, bot.Budget{Rate: DefaultLimits().Channel.Rate, Burst: DefaultLimits().Channel.Burst - sharedReserve}},
		{"slow, burst 1", bot.Budget{Rate: 0.4, Burst: 1}, bot.Budget{Rate: 0.4, Burst: 3}, bot.Budget{Rate: 0.4, Burst: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sharedBudget(tc.b, bot.PriorityFirst); got != tc.urgent {
				t.Errorf("urgent: %+v, want %+v", got, tc.urgent)
			}
			if got := sharedBudget(tc.b, bot.PriorityRefresh); got != tc.fresh {
				t.Errorf("refresh: %+v, want %+v", got, tc.fresh)
			}
			if u := sharedBudget(tc.b, bot.PriorityUrgent); u.Rate+float64(u.Burst) > tc.b.Rate+float64(tc.b.Burst)+sharedReserve {
				t.Errorf("a second may hold %v, the budget's own %v", u.Rate+float64(u.Burst), tc.b.Rate+float64(tc.b.Burst))
			}
		})
	}
}
