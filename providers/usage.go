package providers

import (
	"fmt"
	"strconv"
)

// Usage is what one call (or a sum of calls) consumed.
//
// CachedInputTokens is the part of InputTokens the provider read from its
// prompt cache (billed at a discount): OpenAI, OpenRouter and Ark report it
// as usage.prompt_tokens_details.cached_tokens, DeepSeek as
// usage.prompt_cache_hit_tokens, Gemini as usageMetadata.cachedContentTokenCount.
type Usage struct {
	InputTokens       int     `json:"input_tokens"`
	CachedInputTokens int     `json:"cached_input_tokens,omitempty"`
	OutputTokens      int     `json:"output_tokens"`
	CostUSD           float64 `json:"cost_usd,omitempty"` // reported by the provider (OpenRouter) or priced (Prices), else 0
	Calls             int     `json:"calls"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		InputTokens:       u.InputTokens + o.InputTokens,
		CachedInputTokens: u.CachedInputTokens + o.CachedInputTokens,
		OutputTokens:      u.OutputTokens + o.OutputTokens,
		CostUSD:           u.CostUSD + o.CostUSD,
		Calls:             u.Calls + o.Calls,
	}
}

// Line is the usage in one line for people, as the closing message, the
// board and the export show it: "tokens in 84,210 (71,004 cached) · out
// 9,870 · about $0.012". The cached part and the cost appear only when
// known.
func (u Usage) Line() string {
	s := "tokens in " + Thousands(u.InputTokens)
	if u.CachedInputTokens > 0 {
		s += " (" + Thousands(u.CachedInputTokens) + " cached)"
	}
	s += " · out " + Thousands(u.OutputTokens)
	if u.CostUSD > 0 {
		s += " · about " + Dollars(u.CostUSD)
	}
	return s
}

// Thousands writes n with commas between groups of three digits.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// Dollars writes a cost with two significant digits below a dollar
// ($0.012, $0.0031) and cents above it ($1.25).
func Dollars(usd float64) string {
	switch {
	case usd >= 1:
		return fmt.Sprintf("$%.2f", usd)
	case usd >= 0.01:
		return fmt.Sprintf("$%.3f", usd)
	case usd >= 0.001:
		return fmt.Sprintf("$%.4f", usd)
	}
	return fmt.Sprintf("$%.2g", usd)
}

// CachedWeight is how much a cached input token counts toward a session's
// token guardrail: providers bill a cached prompt prefix at 10–50 % of the
// full price (DeepSeek ~10 %, Gemini 25 %, OpenAI 10–50 %), and it is not
// processed again, so a long session that reads most of its prompts from
// the cache is not cut off as if every token were new.
const CachedWeight = 0.25

// GuardTokens is what the MAX_SESSION_TOKENS guardrail counts: uncached
// input and output in full, cached input at CachedWeight.
func (u Usage) GuardTokens() int {
	cached := min(max(u.CachedInputTokens, 0), u.InputTokens)
	return u.InputTokens - cached + int(float64(cached)*CachedWeight+0.5) + u.OutputTokens
}
