package ops

import (
	"net/http"
	"strings"
	"testing"
)

// TestUsageMetrics: tokens in, cached and out and the cost of model calls
// reach /metrics.
func TestUsageMetrics(t *testing.T) {
	m := NewMetrics()
	m.ObserveUsage("deepseek", 2000, 1500, 300, 0.0004)
	m.ObserveUsage("deepseek", 1000, 0, 100, 0)
	rec := get(t, NewServer(Config{}, ServerOptions{Metrics: m}).Handler(), "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`tableround_llm_tokens_total{kind="input",provider="deepseek"} 3000`,
		`tableround_llm_tokens_total{kind="cached_input",provider="deepseek"} 1500`,
		`tableround_llm_tokens_total{kind="output",provider="deepseek"} 400`,
		`tableround_llm_cost_usd_total{provider="deepseek"} 0.0004`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	var nilMetrics *Metrics
	nilMetrics.ObserveUsage("p", 1, 1, 1, 1) // a no-op
}
