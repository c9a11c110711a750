package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExposeCreatesZeroSeries(t *testing.T) {
	m := NewMetrics()
	m.Expose(Labels{Platforms: []string{"discord"}, Providers: []string{"openrouter"}, ErrorKinds: []string{"server"},
		Stages: []string{"discussion"}, Formats: []string{"jpeg"}, Reasons: []string{"corrupt"}, StoreOps: []string{"append"}})
	body := get(t, NewServer(Config{}, ServerOptions{Metrics: m}).Handler(), "/metrics").Body.String()
	for _, want := range []string{
		`tableround_platform_requests_total{platform="discord"} 0`,
		`tableround_platform_rate_limited_total{platform="discord"} 0`,
		`tableround_platform_invalid_requests_total{platform="discord"} 0`,
		`tableround_edit_staleness_seconds_count{platform="discord"} 0`,
		`tableround_llm_calls_total{provider="openrouter"} 0`,
		`tableround_llm_call_duration_seconds_count{provider="openrouter"} 0`,
		`tableround_llm_errors_total{kind="server",provider="openrouter"} 0`,
		`tableround_llm_circuit_opened_total{provider="openrouter"} 0`,
		`tableround_llm_circuit_open{provider="openrouter"} 0`,
		`tableround_llm_time_to_first_token_seconds_count{provider="openrouter"} 0`,
		`tableround_stage_duration_seconds_count{stage="discussion"} 0`,
		`tableround_stage_running_seconds{stage="discussion"} 0`,
		`tableround_image_pipeline_duration_seconds_count{format="jpeg"} 0`,
		`tableround_image_pipeline_failures_total{reason="corrupt"} 0`,
		`tableround_store_errors_total{op="append"} 0`,
		"tableround_ready 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(body, `platform="telegram"`) {
		t.Error("an unconfigured platform has series")
	}
}

func TestLiveGaugesReadTheirSourcesAtScrapeTime(t *testing.T) {
	m := NewMetrics()
	m.Expose(Labels{Providers: []string{"openrouter", "gemini"}, Stages: []string{"discussion", "voting"}})
	storeErr := errors.New("redis down")
	circuits := map[string]string{"openrouter": "open", "gemini": "half-open"}
	m.ReportCircuits(func() map[string]string { return circuits })
	m.ReportStages(func() map[string]time.Duration { return map[string]time.Duration{"voting": 90 * time.Second} })
	h := NewServer(Config{}, ServerOptions{Metrics: m, Store: func(context.Context) error { return storeErr }}).Handler()
	body := get(t, h, "/metrics").Body.String()
	for _, want := range []string{
		"tableround_ready 0",
		`tableround_llm_circuit_open{provider="openrouter"} 1`,
		`tableround_llm_circuit_open{provider="gemini"} 1`,
		`tableround_stage_running_seconds{stage="voting"} 90`,
		`tableround_stage_running_seconds{stage="discussion"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	storeErr = nil
	circuits = map[string]string{"openrouter": "closed", "gemini": "closed"}
	body = get(t, h, "/metrics").Body.String()
	for _, want := range []string{"tableround_ready 1", `tableround_llm_circuit_open{provider="openrouter"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("after recovery, exposition lacks %q", want)
		}
	}
}
