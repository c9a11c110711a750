package redislimit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store/redis/redistest"
)

var (
	srv  *redistest.Server
	skip string
)

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m, func(s *redistest.Server, why string) { srv, skip = s, why }))
}

func TestLimitOfNeverExceedsTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    bot.Budget
		want redis_rate.Limit
	}{
		{"token", bot.Budget{Rate: 45, Burst: 1}, redis_rate.Limit{Rate: 45, Burst: 1, Period: time.Second}},
		{"channel", bot.Budget{Rate: 0.4, Burst: 5}, redis_rate.Limit{Rate: 24, Burst: 5, Period: time.Minute}},
		{"webhook-like", bot.Budget{Rate: 2.25}, redis_rate.Limit{Rate: 135, Burst: 1, Period: time.Minute}},
		{"halved channel", bot.Budget{Rate: 0.05, Burst: 5}, redis_rate.Limit{Rate: 3, Burst: 5, Period: time.Minute}},
		{"below one a minute", bot.Budget{Rate: 0.01, Burst: 1}, redis_rate.Limit{Rate: 36, Burst: 1, Period: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := limitOf(tc.b); got != tc.want {
				t.Errorf("limitOf(%+v) = %v, want %v", tc.b, got, tc.want)
			}
		})
	}
}

// TestTakeSpendsTheBurstThenSaysHowLongToWait: on a real redis-server,
// the burst is granted at once, the next slot is refused with a wait of
// about one interval, and two limiters on one Redis share the budget.
func TestTakeSpendsTheBurstThenSaysHowLongToWait(t *testing.T) {
	if skip != "" {
		t.Skip(skip)
	}
	c := srv.Client(t)
	a, b := New(c, "t:"), New(c, "t:")
	ctx := context.Background()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	budget := bot.Budget{Rate: 1, Burst: 3}
	for i, l := range []*Limiter{a, b, a} {
		if wait, err := l.Take(ctx, "k", budget); err != nil || wait != 0 {
			t.Fatalf("slot %d: wait %s, err %v; want granted", i, wait, err)
		}
	}
	wait, err := b.Take(ctx, "k", budget)
	if err != nil || wait <= 0 || wait > time.Second {
		t.Errorf("fourth slot: wait %s, err %v; want a refusal with a wait of at most 1 s", wait, err)
	}
	if wait, err := a.Take(ctx, "other", budget); err != nil || wait != 0 {
		t.Errorf("another key: wait %s, err %v; want granted", wait, err)
	}
}

func TestCountInvalidAddsAcrossLimiters(t *testing.T) {
	if skip != "" {
		t.Skip(skip)
	}
	c := srv.Client(t)
	a, b := New(c, "inv:"), New(c, "inv:")
	ctx := context.Background()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CountInvalid(ctx, 3); err != nil {
		t.Fatal(err)
	}
	n, err := b.CountInvalid(ctx, 1)
	if err != nil || n != 4 {
		t.Errorf("count %d, err %v; want 4", n, err)
	}
	old := New(c, "inv:")
	old.now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	if n, err := old.CountInvalid(ctx, 0); err != nil || n != 0 {
		t.Errorf("count 11 minutes later %d, err %v; want 0", n, err)
	}
}

// TestASmallerBurstOnOneKeyLeavesTheRest: calls on one key that differ
// only in burst share one budget (GCRA keeps one theoretical arrival time
// whatever the burst asked): a call with burst 1 takes a slot only while
// the budget has no backlog, so it leaves two slots to calls with burst 3.
func TestASmallerBurstOnOneKeyLeavesTheRest(t *testing.T) {
	if skip != "" {
		t.Skip(skip)
	}
	c := srv.Client(t)
	a, b := New(c, "r:"), New(c, "r:")
	ctx := context.Background()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	low, high := bot.Budget{Rate: 1.0 / 60, Burst: 1}, bot.Budget{Rate: 1.0 / 60, Burst: 3} // one a minute
	for i, step := range []struct {
		l    *Limiter
		b    bot.Budget
		want bool
	}{
		{a, low, true}, {a, low, false}, {b, high, true}, {b, high, true}, {b, high, false}, {a, low, false},
	} {
		wait, err := step.l.Take(ctx, "k", step.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := wait == 0; got != step.want {
			t.Errorf("call %d (burst %d): granted %v, want %v (wait %s)", i, step.b.Burst, got, step.want, wait)
		}
	}
}
