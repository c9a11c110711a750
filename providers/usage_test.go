package providers_test

import (
	"context"
	"math"
	"testing"

	"github.com/tableround/tableround/providers"
)

func TestUsageLine(t *testing.T) {
	for _, tc := range []struct {
		u    providers.Usage
		want string
	}{
		{providers.Usage{InputTokens: 84210, CachedInputTokens: 71004, OutputTokens: 9870, CostUSD: 0.0123},
			"tokens in 84,210 (71,004 cached) · out 9,870 · about $0.012"},
		{providers.Usage{InputTokens: 999, OutputTokens: 1000}, "tokens in 999 · out 1,000"},
		{providers.Usage{InputTokens: 1234567, OutputTokens: 0, CostUSD: 1.5}, "tokens in 1,234,567 · out 0 · about $1.50"},
		{providers.Usage{InputTokens: 10, OutputTokens: 1, CostUSD: 0.00004}, "tokens in 10 · out 1 · about $4e-05"},
	} {
		if got := tc.u.Line(); got != tc.want {
			t.Errorf("Line() = %q, want %q", got, tc.want)
		}
	}
	if got := providers.Thousands(-1234); got != "-1,234" {
		t.Errorf("Thousands(-1234) = %q", got)
	}
}

func TestPriceWithCacheDiscount(t *testing.T) {
	p := providers.DefaultPrices()["gpt-4o-mini"]
	u := providers.Usage{InputTokens: 1_000_000, CachedInputTokens: 800_000, OutputTokens: 100_000}
	// 200k fresh × 0.15 + 800k cached × 0.075 + 100k out × 0.60, per million
	if got, want := p.Cost(u), 0.03+0.06+0.06; math.Abs(got-want) > 1e-12 {
		t.Errorf("cost %v, want %v", got, want)
	}
	if got, want := p.Cost(providers.Usage{InputTokens: 1_000_000, OutputTokens: 100_000}), 0.15+0.06; math.Abs(got-want) > 1e-12 {
		t.Errorf("cost without cache %v, want %v", got, want)
	}
}

func TestPricesLookupAndParse(t *testing.T) {
	prices, err := providers.ParsePrices(map[string]string{"my/model:free": "0/0/0", "gpt-4o-mini": "1/0.5/2"}, providers.DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := prices.Lookup("gpt-4o-mini-2024-07-18"); !ok || p.Input != 1 || p.Source != "MODEL_PRICES" {
		t.Errorf("dated gpt-4o-mini: %+v %v", p, ok)
	}
	if p, ok := prices.Lookup("gpt-4o-2024-08-06"); !ok || p.Input != 2.5 {
		t.Errorf("dated gpt-4o: %+v %v", p, ok)
	}
	if _, ok := prices.Lookup("llama3"); ok {
		t.Error("an unknown model has no price")
	}
	for _, bad := range []map[string]string{{"m": "1/2"}, {"m": "a/b/c"}, {"m": "1/-1/2"}, {"": "1/1/1"}} {
		if _, err := providers.ParsePrices(bad, nil); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

type usageModel struct{ resp providers.Response }

func (m usageModel) Stream(context.Context, providers.Request, providers.StreamFunc) (providers.Response, error) {
	return m.resp, nil
}

func TestPriced(t *testing.T) {
	u := providers.Usage{InputTokens: 2000, CachedInputTokens: 1000, OutputTokens: 100}
	m := providers.Priced(usageModel{providers.Response{Model: "deepseek-chat", Usage: u}}, providers.DefaultPrices())
	resp, _ := m.Stream(context.Background(), providers.Request{}, nil)
	if want := providers.DefaultPrices()["deepseek-chat"].Cost(u); resp.Usage.CostUSD != want || want == 0 {
		t.Errorf("cost %v, want %v", resp.Usage.CostUSD, want)
	}
	reported := u
	reported.CostUSD = 0.5 // OpenRouter's own figure wins
	m = providers.Priced(usageModel{providers.Response{Model: "deepseek-chat", Usage: reported}}, providers.DefaultPrices())
	if resp, _ := m.Stream(context.Background(), providers.Request{}, nil); resp.Usage.CostUSD != 0.5 {
		t.Errorf("reported cost replaced: %v", resp.Usage.CostUSD)
	}
}
