package providers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens: prompt
// tokens read fresh, prompt tokens read from the provider's cache, and
// reply tokens (reasoning included). Source says where the figures come
// from.
type Price struct {
	Input, CachedInput, Output float64
	Source                     string
}

// Cost is the price of a usage.
func (p Price) Cost(u Usage) float64 {
	cached := min(u.CachedInputTokens, u.InputTokens)
	return (float64(u.InputTokens-cached)*p.Input + float64(cached)*p.CachedInput + float64(u.OutputTokens)*p.Output) / 1e6
}

// Prices maps a model ID to its price. A model the provider reports with a
// version suffix (gpt-4o-mini-2024-07-18) takes the price of the longest
// ID it starts with.
type Prices map[string]Price

// DefaultPrices returns the list prices of the default models, as
// published when this table was written (a fresh map each call: callers
// may change theirs); MODEL_PRICES overrides or adds entries. OpenRouter
// reports each call's cost itself (usage.cost, cache discount applied),
// which always wins over this table.
func DefaultPrices() Prices {
	return Prices{
		// https://platform.openai.com/docs/pricing (gpt-4o-mini: $0.15 input,
		// $0.075 cached input, $0.60 output per 1M tokens; gpt-4o: $2.50,
		// $1.25, $10.00), checked 2025-10.
		"gpt-4o-mini": {Input: 0.15, CachedInput: 0.075, Output: 0.60, Source: "platform.openai.com/docs/pricing (2025-10)"},
		"gpt-4o":      {Input: 2.50, CachedInput: 1.25, Output: 10.00, Source: "platform.openai.com/docs/pricing (2025-10)"},
		// https://api-docs.deepseek.com/quick_start/pricing (DeepSeek-V3.2,
		// from 2025-09-29: $0.28 cache miss, $0.028 cache hit, $0.42 output).
		"deepseek-chat": {Input: 0.28, CachedInput: 0.028, Output: 0.42, Source: "api-docs.deepseek.com/quick_start/pricing (2025-09-29)"},
		// https://ai.google.dev/gemini-api/docs/pricing (gemini-2.5-flash text:
		// $0.30 input, $0.03 cached, $2.50 output including thinking).
		"gemini-2.5-flash": {Input: 0.30, CachedInput: 0.03, Output: 2.50, Source: "ai.google.dev/gemini-api/docs/pricing (2025-10)"},
	}
}

// Lookup returns the price of a model: an exact entry, else the longest
// entry the model ID starts with (a dated version of a priced model).
func (p Prices) Lookup(model string) (Price, bool) {
	if pr, ok := p[model]; ok {
		return pr, true
	}
	best, found := "", false
	for id := range p {
		if strings.HasPrefix(model, id) && len(id) > len(best) {
			best, found = id, true
		}
	}
	return p[best], found
}

// ParsePrices reads MODEL_PRICES entries, model → "input/cached/output" in
// dollars per million tokens (e.g. gpt-4o-mini → "0.15/0.075/0.6"), over
// the defaults.
func ParsePrices(entries map[string]string, defaults Prices) (Prices, error) {
	out := Prices{}
	for k, v := range defaults {
		out[k] = v
	}
	for model, v := range entries {
		parts := strings.Split(v, "/")
		if model == "" || len(parts) != 3 {
			return nil, fmt.Errorf("price of %q: want input/cached/output dollars per million tokens, got %q", model, v)
		}
		var f [3]float64
		for i, s := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || x < 0 {
				return nil, fmt.Errorf("price of %q: %q is not a non-negative number", model, s)
			}
			f[i] = x
		}
		out[model] = Price{Input: f[0], CachedInput: f[1], Output: f[2], Source: "MODEL_PRICES"}
	}
	return out, nil
}

// Priced wraps a chat model so that a response whose provider reported no
// cost is priced from the table by the model that answered (or the
// request's model when the response names none).
func Priced(m ChatModel, prices Prices) ChatModel {
	if len(prices) == 0 {
		return m
	}
	return &priced{m: m, prices: prices}
}

type priced struct {
	m      ChatModel
	prices Prices
}

func (p *priced) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	resp, err := p.m.Stream(ctx, req, fn)
	if resp.Usage.CostUSD == 0 {
		model := resp.Model
		if model == "" {
			model = req.Model
		}
		if pr, ok := p.prices.Lookup(model); ok {
			resp.Usage.CostUSD = pr.Cost(resp.Usage)
		}
	}
	return resp, err
}
