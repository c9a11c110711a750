package roundtable

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/transcript"
)

// TestUsageAccounting runs a session on the demo model, which counts
// cached input tokens by the prefix rule, priced from a table: the
// session's totals, its end event and the closing message agree, the
// cached part is counted, and the cost has the discount.
func TestUsageAccounting(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			price := providers.Price{Input: 1, CachedInput: 0.1, Output: 2}
			model := providers.Priced(demo.New(demo.Options{}), providers.Prices{demo.Name: price})
			st := newMemStore()
			cfg := testConfig()
			cfg.Language = lang
			s, err := runSession(t, cfg, testDeps(model, st), &fakeConv{}, Start{Topic: "a paper-cut bookmark", Image: []byte("p")})
			if err != nil {
				t.Fatal(err)
			}
			meta, _ := st.GetSession(nil, s.ID())
			u := providers.Usage{InputTokens: meta.InputTokens, CachedInputTokens: meta.CachedInputTokens,
				OutputTokens: meta.OutputTokens, CostUSD: meta.CostUSD, Calls: meta.Calls}
			if u.CachedInputTokens <= 0 || u.CachedInputTokens >= u.InputTokens || u.Calls < 50 {
				t.Fatalf("usage %+v", u)
			}
			// The cost of the total equals the sum of the calls' costs, as
			// the price is linear; the discount makes it less than list.
			if d := u.CostUSD - price.Cost(u); d > 1e-9 || d < -1e-9 {
				t.Errorf("cost %v, want %v", u.CostUSD, price.Cost(u))
			}
			if full := (providers.Price{Input: 1, CachedInput: 1, Output: 2}).Cost(u); u.CostUSD >= full {
				t.Errorf("no discount: %v ≥ %v", u.CostUSD, full)
			}
			var end transcript.SessionEnd
			ends := st.eventsOf(s.ID(), transcript.EventEnd)
			if len(ends) != 1 || json.Unmarshal(ends[0].Data, &end) != nil || end.CachedInputTokens != u.CachedInputTokens || end.InputTokens != u.InputTokens {
				t.Fatalf("end %+v", end)
			}
			speechCached := 0
			for _, e := range st.eventsOf(s.ID(), transcript.EventSpeech) {
				var sp transcript.Speech
				_ = json.Unmarshal(e.Data, &sp)
				speechCached += sp.CachedTokens
			}
			if speechCached == 0 || speechCached > u.CachedInputTokens {
				t.Errorf("speeches' cached tokens %d of %d", speechCached, u.CachedInputTokens)
			}
			line := usageLine(lang, u)
			found := false
			for _, e := range st.eventsOf(s.ID(), transcript.EventNote) {
				found = found || strings.Contains(e.Text, line)
			}
			if !found {
				t.Errorf("no closing message carries %q", line)
			}
			want := map[string]string{"en": "cached) · out ", "zh": "（缓存 "}[lang]
			if !strings.Contains(line, want) || !strings.Contains(line, "$") {
				t.Errorf("line %q", line)
			}
		})
	}
}
