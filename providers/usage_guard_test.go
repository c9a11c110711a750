package providers

import "testing"

func TestGuardTokensCountsCachedInputAtAQuarter(t *testing.T) {
	for _, c := range []struct {
		u    Usage
		want int
	}{
		{Usage{InputTokens: 1000, OutputTokens: 100}, 1100},
		{Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}, 200 + 200 + 100},
		// A provider reporting more cached than input (garbage) cannot make
		// the count negative or larger than the full count.
		{Usage{InputTokens: 100, CachedInputTokens: 500, OutputTokens: 10}, 25 + 10},
		{Usage{InputTokens: 100, CachedInputTokens: -5, OutputTokens: 10}, 110},
	} {
		if got := c.u.GuardTokens(); got != c.want {
			t.Errorf("%+v.GuardTokens() = %d, want %d", c.u, got, c.want)
		}
	}
}
