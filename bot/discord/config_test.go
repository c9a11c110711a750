package discord

import (
	"context"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/bot"
)

// TestGlobalRate: DISCORD_GLOBAL_RATE sets the token's global limit, and
// the adapter paces every authorised call at 90 % of it; Discord's 50 by
// default.
func TestGlobalRate(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bot.Budget
	}{
		{nil, bot.Budget{Rate: 45, Burst: 1}},
		{map[string]string{"DISCORD_GLOBAL_RATE": "2000"}, bot.Budget{Rate: 1800, Burst: 40}},
		{map[string]string{"DISCORD_GLOBAL_RATE": "0"}, bot.Budget{Rate: 45, Burst: 1}},
	} {
		env := map[string]string{"DISCORD_TOKEN": testToken}
		for k, v := range tc.env {
			env[k] = v
		}
		var cfg Config
		if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(env)}); err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		a, err := New(cfg, bot.HandlerFunc(func(context.Context, bot.Request) (bot.Reply, error) { return bot.Reply{}, nil }), Options{})
		if err != nil {
			t.Fatalf("%v: New: %v", tc.env, err)
		}
		if a.lim.Global != tc.want {
			t.Errorf("%v: global budget %+v, want %+v", tc.env, a.lim.Global, tc.want)
		}
	}
	if got := DefaultLimits().Global; got != (bot.Budget{Rate: 45, Burst: 1}) {
		t.Errorf("DefaultLimits().Global = %+v, want 45/s, burst 1", got)
	}
}
