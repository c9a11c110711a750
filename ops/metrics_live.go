package ops

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Labels are the label values the process knows at start-up. Expose creates
// every series an alert rule or dashboard panel uses for them at zero, so
// the first 429 is a change from 0 and rate() works from the first scrape.
type Labels struct {
	Platforms  []string // "discord", "telegram"
	Providers  []string // chat providers, fallbacks included
	ErrorKinds []string // model error kinds ("rate_limit", "server", …)
	Stages     []string // session stages
	Formats    []string // photo input formats
	Reasons    []string // image pipeline failure reasons
	StoreOps   []string // store operations counted by ObserveStoreError
}

// Expose creates the labelled series of l at zero.
func (m *Metrics) Expose(l Labels) {
	if m == nil {
		return
	}
	for _, p := range l.Platforms {
		m.requests.WithLabelValues(p)
		m.rateLimited.WithLabelValues(p)
		m.retries.WithLabelValues(p)
		m.invalid.WithLabelValues(p)
		m.editsPerMsg.WithLabelValues(p)
		m.staleness.WithLabelValues(p)
	}
	for _, p := range l.Providers {
		m.firstToken.WithLabelValues(p)
		m.tokenRate.WithLabelValues(p)
		m.llmCalls.WithLabelValues(p)
		m.llmDuration.WithLabelValues(p)
		m.circuitOpened.WithLabelValues(p)
		m.llmCost.WithLabelValues(p)
		for _, k := range []string{tokensInput, tokensCached, tokensOutput} {
			m.llmTokens.WithLabelValues(p, k)
		}
		for _, k := range l.ErrorKinds {
			m.llmErrors.WithLabelValues(p, k)
			m.llmRetries.WithLabelValues(p, k)
		}
	}
	for _, s := range l.Stages {
		m.stage.WithLabelValues(s)
	}
	for _, f := range l.Formats {
		m.image.WithLabelValues(f)
	}
	for _, r := range l.Reasons {
		m.imageFailures.WithLabelValues(r)
	}
	for _, op := range l.StoreOps {
		m.storeErrors.WithLabelValues(op)
	}
	m.live.expose(l.Providers, l.Stages)
}

// Alerts is the process's alert history (never nil for a non-nil Metrics).
func (m *Metrics) Alerts() *AlertLog {
	if m == nil {
		return nil
	}
	return m.alerts
}

// ObserveInvalidRequest counts a 401 or 403 answer from a chat platform
// (429s are counted by Observe429).
func (m *Metrics) ObserveInvalidRequest(platform string, status int) {
	if m == nil {
		return
	}
	m.invalid.WithLabelValues(platform).Inc()
	m.alerts.Record(AlertInvalidRequests, platform, "HTTP "+strconv.Itoa(status))
}

// ObserveCircuitOpened counts a provider's circuit breaker opening.
func (m *Metrics) ObserveCircuitOpened(provider string) {
	if m == nil {
		return
	}
	m.circuitOpened.WithLabelValues(provider).Inc()
	m.alerts.Record(AlertBreakerOpen, provider, "model calls to "+provider+" fail fast until a probe succeeds")
}

// ObserveImageFailure counts a photo the pipeline could not prepare;
// reason is one of Labels.Reasons (e.g. "corrupt", "cannot_fit").
func (m *Metrics) ObserveImageFailure(reason string) {
	if m == nil {
		return
	}
	m.imageFailures.WithLabelValues(reason).Inc()
}

// ReportCircuits sets how the circuits gauge learns each provider's state
// ("closed", "open", "half-open") at scrape time.
func (m *Metrics) ReportCircuits(fn func() map[string]string) {
	if m != nil && fn != nil {
		m.live.set(func(g *liveGauges) { g.circuits = fn })
	}
}

// ReportStages sets how the stuck-stage gauge learns, at scrape time, the
// longest time a running session has spent in its current stage, by stage.
func (m *Metrics) ReportStages(fn func() map[string]time.Duration) {
	if m != nil && fn != nil {
		m.live.set(func(g *liveGauges) { g.stages = fn })
	}
}

// reportReady sets the readiness check run at scrape time (the Server's).
func (m *Metrics) reportReady(fn func() bool) {
	if m != nil && fn != nil {
		m.live.set(func(g *liveGauges) { g.ready = fn })
	}
}

// liveGauges are gauges read at scrape time: readiness, circuit states and
// the longest-running stage of the running sessions.
type liveGauges struct {
	readyDesc, circuitDesc, stageDesc *prometheus.Desc

	mu        sync.Mutex
	ready     func() bool
	circuits  func() map[string]string
	stages    func() map[string]time.Duration
	providers []string
	stageList []string
}

func newLiveGauges() *liveGauges {
	return &liveGauges{
		readyDesc: prometheus.NewDesc(namespace+"_ready",
			"1 when /readyz would answer 200 (the store answers a ping), else 0; checked at scrape time.", nil, nil),
		circuitDesc: prometheus.NewDesc(namespace+"_llm_circuit_open",
			"1 while a provider's circuit breaker is not closed (open, or half-open waiting for a probe).", []string{"provider"}, nil),
		stageDesc: prometheus.NewDesc(namespace+"_stage_running_seconds",
			"The longest time a running session of this process has spent in its current stage.", []string{"stage"}, nil),
	}
}

func (g *liveGauges) set(fn func(*liveGauges)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

func (g *liveGauges) expose(providers, stages []string) {
	g.set(func(g *liveGauges) {
		g.providers = append(g.providers, providers...)
		g.stageList = append(g.stageList, stages...)
	})
}

// Describe implements prometheus.Collector.
func (g *liveGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.readyDesc
	ch <- g.circuitDesc
	ch <- g.stageDesc
}

// Collect implements prometheus.Collector: it calls the report functions
// outside the lock (the readiness check pings the store).
func (g *liveGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	ready, circuits, stages := g.ready, g.circuits, g.stages
	providers, stageList := g.providers, g.stageList
	g.mu.Unlock()

	if ready != nil {
		v := 0.0
		if ready() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(g.readyDesc, prometheus.GaugeValue, v)
	}
	open := map[string]float64{}
	for _, p := range providers {
		open[p] = 0
	}
	if circuits != nil {
		for p, st := range circuits() {
			open[p] = 0
			if st != "closed" {
				open[p] = 1
			}
		}
	}
	for p, v := range open {
		ch <- prometheus.MustNewConstMetric(g.circuitDesc, prometheus.GaugeValue, v, p)
	}
	age := map[string]float64{}
	for _, s := range stageList {
		age[s] = 0
	}
	if stages != nil {
		for s, d := range stages() {
			age[s] = d.Seconds()
		}
	}
	for s, v := range age {
		ch <- prometheus.MustNewConstMetric(g.stageDesc, prometheus.GaugeValue, v, s)
	}
}
