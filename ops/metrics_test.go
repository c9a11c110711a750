package ops

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.SessionStarted()
	m.SessionStarted()
	m.SessionEnded(SessionFinished)
	m.SessionStarted()
	m.SessionSuspended()
	m.ObserveStage("discussion", 12*time.Second)
	m.ObserveFirstToken("openrouter", 300*time.Millisecond)
	m.ObserveTokenRate("openrouter", 200, 5*time.Second)
	m.ObserveTokenRate("openrouter", 0, time.Second) // skipped
	m.ObserveLLMRetry("openrouter", "rate_limit")
	m.ObserveLLMError("gemini", "timeout")
	m.ObserveRequest("discord")
	m.Observe429("discord")
	m.ObserveRetry("telegram")
	m.ObserveEdit("discord", 80*time.Millisecond)
	m.ObserveMessageEdits("discord", 12)
	m.ObserveImage("jpeg", 45*time.Millisecond)
	m.ObserveStoreError("append", errors.New("redis down"))

	rec := get(t, NewServer(Config{}, ServerOptions{Metrics: m}).Handler(), "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"tableround_sessions_active 1",
		`tableround_sessions_total{status="finished"} 1`,
		`tableround_sessions_total{status="failed"} 0`,
		`tableround_sessions_total{status="stopped"} 0`,
		`tableround_stage_duration_seconds_count{stage="discussion"} 1`,
		`tableround_llm_time_to_first_token_seconds_sum{provider="openrouter"} 0.3`,
		`tableround_llm_tokens_per_second_sum{provider="openrouter"} 40`,
		`tableround_llm_tokens_per_second_count{provider="openrouter"} 1`,
		`tableround_llm_retries_total{kind="rate_limit",provider="openrouter"} 1`,
		`tableround_llm_errors_total{kind="timeout",provider="gemini"} 1`,
		`tableround_platform_requests_total{platform="discord"} 1`,
		`tableround_platform_rate_limited_total{platform="discord"} 1`,
		`tableround_platform_retries_total{platform="telegram"} 1`,
		`tableround_edit_staleness_seconds_count{platform="discord"} 1`,
		`tableround_edits_per_message_sum{platform="discord"} 12`,
		`tableround_image_pipeline_duration_seconds_count{format="jpeg"} 1`,
		`tableround_store_errors_total{op="append"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

// TestNilMetrics checks that every method of a nil *Metrics is a no-op.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.SessionStarted()
	m.SessionEnded(SessionFailed)
	m.SessionSuspended()
	m.ObserveStage("x", time.Second)
	m.ObserveFirstToken("p", time.Second)
	m.ObserveTokenRate("p", 10, time.Second)
	m.ObserveLLMRetry("p", "k")
	m.ObserveLLMError("p", "k")
	m.ObserveRequest("d")
	m.Observe429("d")
	m.ObserveRetry("d")
	m.ObserveEdit("d", time.Second)
	m.ObserveMessageEdits("d", 1)
	m.ObserveImage("png", time.Second)
	m.ObserveStoreError("ping", nil)
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	// A server without metrics still serves /metrics (runtime collectors).
	rec := get(t, NewServer(Config{}, ServerOptions{}).Handler(), "/metrics")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Errorf("metrics without Metrics = %d", rec.Code)
	}
}
