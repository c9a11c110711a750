package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// SessionStatus is how a session ended, the label of the sessions counter.
type SessionStatus string

// Session outcomes.
const (
	SessionFinished SessionStatus = "finished"
	SessionFailed   SessionStatus = "failed"
	SessionStopped  SessionStatus = "stopped"
)

// Metrics holds the Prometheus collectors of the process on its own
// registry. Callers use its typed methods and never see label names. A nil
// *Metrics is valid: every method is then a no-op, so packages can take an
// optional *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	sessionsActive prometheus.Gauge
	sessionsEnded  *prometheus.CounterVec
	stage          *prometheus.HistogramVec
	firstToken     *prometheus.HistogramVec
	tokenRate      *prometheus.HistogramVec
	llmRetries     *prometheus.CounterVec
	llmErrors      *prometheus.CounterVec
	requests       *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	retries        *prometheus.CounterVec
	editsPerMsg    *prometheus.HistogramVec
	staleness      *prometheus.HistogramVec
	image          *prometheus.HistogramVec
	storeErrors    *prometheus.CounterVec
	llmCalls       *prometheus.CounterVec
	llmDuration    *prometheus.HistogramVec
	circuitOpened  *prometheus.CounterVec
	invalid        *prometheus.CounterVec
	imageFailures  *prometheus.CounterVec
	live           *liveGauges

	alerts    *AlertLog
	llmTokens *prometheus.CounterVec
	llmCost   *prometheus.CounterVec
	chatLag   prometheus.Histogram
}

const namespace = "tableround"

// The kind label of tableround_llm_tokens_total.
const (
	tokensInput  = "input"        // every prompt token
	tokensCached = "cached_input" // the part of input read from the provider's prompt cache
	tokensOutput = "output"
)

// NewMetrics builds the collectors and registers them, with the Go runtime
// and process collectors, on a new registry.
func NewMetrics() *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessionsActive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
			Name: "sessions_active", Help: "Sessions running in this process."}),
		sessionsEnded: counter("sessions_total", "Sessions ended, by status (finished, failed, stopped).", "status"),
		stage: histogram("stage_duration_seconds", "Wall time of a session stage.",
			prometheus.ExponentialBuckets(0.5, 2, 12), "stage"),
		firstToken: histogram("llm_time_to_first_token_seconds", "Time from a model request to its first token.",
			prometheus.ExponentialBuckets(0.05, 2, 10), "provider"),
		tokenRate: histogram("llm_tokens_per_second", "Generation speed of a model reply after its first token.",
			prometheus.ExponentialBuckets(5, 2, 8), "provider"),
		llmRetries: counter("llm_retries_total", "Model calls retried, by provider and error kind.", "provider", "kind"),
		llmErrors:  counter("llm_errors_total", "Model calls failed, by provider and error kind.", "provider", "kind"),
		requests:   counter("platform_requests_total", "Requests sent to a chat platform's API.", "platform"),
		rateLimited: counter("platform_rate_limited_total",
			"HTTP 429 answers received from a chat platform.", "platform"),
		retries: counter("platform_retries_total", "Chat platform requests retried.", "platform"),
		editsPerMsg: histogram("edits_per_message", "Edits a streamed message took until its final text.",
			prometheus.ExponentialBuckets(1, 2, 9), "platform"),
		staleness: histogram("edit_staleness_seconds",
			"Age of the newest token not yet visible when an edit is sent.",
			prometheus.ExponentialBuckets(0.025, 2, 10), "platform"),
		image: histogram("image_pipeline_duration_seconds", "Time to prepare a photo for the vision model.",
			prometheus.ExponentialBuckets(0.01, 2, 10), "format"),
		storeErrors: counter("store_errors_total", "Store operations that failed.", "op"),
		llmCalls:    counter("llm_calls_total", "Model calls finished, successful or not, by provider.", "provider"),
		llmDuration: histogram("llm_call_duration_seconds", "Time from a model request to its last token (or its failure).",
			prometheus.ExponentialBuckets(0.25, 2, 10), "provider"),
		circuitOpened: counter("llm_circuit_opened_total", "Times a provider's circuit breaker opened.", "provider"),
		invalid: counter("platform_invalid_requests_total",
			"HTTP 401, 403 and 429 answers from a chat platform (Discord bans an IP at 10,000 per 10 minutes).", "platform"),
		imageFailures: counter("image_pipeline_failures_total", "Photos the image pipeline could not prepare, by reason.", "reason"),
		live:          newLiveGauges(),
		alerts:        NewAlertLog(0, 0, nil),
		llmTokens: counter("llm_tokens_total", "Model tokens by provider and kind: input (all prompt tokens), "+
			"cached_input (the part of input read from the provider's prompt cache) and output.", "provider", "kind"),
		llmCost: counter("llm_cost_usd_total", "Model cost in US dollars, as the provider reported it or priced from MODEL_PRICES.", "provider"),
		chatLag: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "chat_lag_seconds",
			Help:    "Time from a speech's last token to its final text being shown in the chat.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 12)}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sessionsActive, m.sessionsEnded, m.stage, m.firstToken, m.tokenRate, m.llmRetries, m.llmErrors,
		m.requests, m.rateLimited, m.retries, m.editsPerMsg, m.staleness, m.image, m.storeErrors,
		m.llmCalls, m.llmDuration, m.circuitOpened, m.invalid, m.imageFailures, m.live,
		m.llmTokens, m.llmCost,
		m.chatLag,
	)
	for _, s := range []SessionStatus{SessionFinished, SessionFailed, SessionStopped} {
		m.sessionsEnded.WithLabelValues(string(s)) // expose zeros from the start
	}
	return m
}

// Registry returns the registry /metrics serves, or nil for a nil Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// SessionStarted counts a session as active.
func (m *Metrics) SessionStarted() {
	if m == nil {
		return
	}
	m.sessionsActive.Inc()
}

// SessionEnded counts a session as no longer active and records how it ended.
// A session suspended for a restart is not ended: call SessionSuspended.
func (m *Metrics) SessionEnded(s SessionStatus) {
	if m == nil {
		return
	}
	m.sessionsActive.Dec()
	m.sessionsEnded.WithLabelValues(string(s)).Inc()
}

// SessionSuspended counts a session as no longer active in this process
// without ending it (shutdown; another process will resume it).
func (m *Metrics) SessionSuspended() {
	if m == nil {
		return
	}
	m.sessionsActive.Dec()
}

// ObserveStage records how long a session stage took.
func (m *Metrics) ObserveStage(stage string, d time.Duration) {
	if m == nil {
		return
	}
	m.stage.WithLabelValues(stage).Observe(d.Seconds())
}

// ObserveChatLag records how long a speech's final text took to show
// after its last token.
func (m *Metrics) ObserveChatLag(d time.Duration) {
	if m == nil {
		return
	}
	m.chatLag.Observe(d.Seconds())
}

// ObserveFirstToken records a model call's time to its first token.
func (m *Metrics) ObserveFirstToken(provider string, d time.Duration) {
	if m == nil {
		return
	}
	m.firstToken.WithLabelValues(provider).Observe(d.Seconds())
}

// ObserveTokenRate records the generation speed of a reply: tokens produced
// in d after the first token. Empty or instantaneous replies are skipped.
func (m *Metrics) ObserveTokenRate(provider string, tokens int, d time.Duration) {
	if m == nil || tokens <= 0 || d <= 0 {
		return
	}
	m.tokenRate.WithLabelValues(provider).Observe(float64(tokens) / d.Seconds())
}

// ObserveUsage counts a model call's tokens (input, the cached part of
// input, output) and cost.
func (m *Metrics) ObserveUsage(provider string, input, cachedInput, output int, costUSD float64) {
	if m == nil {
		return
	}
	m.llmTokens.WithLabelValues(provider, tokensInput).Add(float64(input))
	m.llmTokens.WithLabelValues(provider, tokensCached).Add(float64(cachedInput))
	m.llmTokens.WithLabelValues(provider, tokensOutput).Add(float64(output))
	if costUSD > 0 {
		m.llmCost.WithLabelValues(provider).Add(costUSD)
	}
}

// ObserveLLMRetry counts a retried model call; kind is the error kind
// (e.g. "rate_limit", "server", "timeout").
func (m *Metrics) ObserveLLMRetry(provider, kind string) {
	if m == nil {
		return
	}
	m.llmRetries.WithLabelValues(provider, kind).Inc()
}

// ObserveLLMCall counts a finished model call, successful or not, and how
// long it took; a failure is counted by ObserveLLMError too.
func (m *Metrics) ObserveLLMCall(provider string, d time.Duration) {
	if m == nil {
		return
	}
	m.llmCalls.WithLabelValues(provider).Inc()
	m.llmDuration.WithLabelValues(provider).Observe(d.Seconds())
}

// ObserveLLMError counts a model call that failed for good.
func (m *Metrics) ObserveLLMError(provider, kind string) {
	if m == nil {
		return
	}
	m.llmErrors.WithLabelValues(provider, kind).Inc()
}

// ObserveRequest counts a request sent to a chat platform's API.
func (m *Metrics) ObserveRequest(platform string) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(platform).Inc()
}

// Observe429 counts a 429 answer from a chat platform.
func (m *Metrics) Observe429(platform string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(platform).Inc()
	m.invalid.WithLabelValues(platform).Inc()
	m.alerts.Record(AlertRateLimited, platform, "HTTP 429")
}

// ObserveRetry counts a retried chat platform request.
func (m *Metrics) ObserveRetry(platform string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(platform).Inc()
}

// ObserveEdit records one edit of a streamed message: staleness is the age
// of the newest token the edit makes visible for the first time.
func (m *Metrics) ObserveEdit(platform string, staleness time.Duration) {
	if m == nil {
		return
	}
	m.staleness.WithLabelValues(platform).Observe(staleness.Seconds())
}

// ObserveMessageEdits records how many edits a streamed message took, once
// its final text is delivered.
func (m *Metrics) ObserveMessageEdits(platform string, edits int) {
	if m == nil {
		return
	}
	m.editsPerMsg.WithLabelValues(platform).Observe(float64(edits))
}

// ObserveImage records a photo preparation by input format ("jpeg", "heic", ...).
func (m *Metrics) ObserveImage(format string, d time.Duration) {
	if m == nil {
		return
	}
	m.image.WithLabelValues(format).Observe(d.Seconds())
}

// ObserveStoreError counts a failed store operation (e.g. "append", "ping")
// and keeps it in the alert history.
func (m *Metrics) ObserveStoreError(op string, err error) {
	if m == nil {
		return
	}
	m.storeErrors.WithLabelValues(op).Inc()
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	m.alerts.Record(AlertStoreError, op, detail)
}
