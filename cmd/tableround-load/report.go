package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// runResult is what a run collected.
type runResult struct {
	opts                 runOptions
	channels             []string
	mentions, ends       []time.Time
	failed, notStarted   int
	calls                []Call
	writes               []Write
	stats                fakeStats
	cpu                  float64
	baseRSSKB, peakRSSKB int
	peaks                peaks
	fakesCPU             [3]float64 // fake-llm, fake-discord, redis-server, over the same span as cpu
	engineLags           []float64  // ms, the engine's LagObserver
}

// Report is the outcome of a run; durations in milliseconds or seconds as
// named.
type Report struct {
	Sessions     int     `json:"sessions"`
	Failed       int     `json:"failed"`
	NotStarted   int     `json:"not_started"` // mentions that never became a session
	RampS        float64 `json:"ramp_s,omitempty"`
	Platform     string  `json:"platform"`               // discord or telegram
	Warm         bool    `json:"warm,omitempty"`         // one unmeasured session ran first (-warm)
	Chats        string  `json:"chats,omitempty"`        // Telegram: private or group
	PersonaBots  bool    `json:"persona_bots,omitempty"` // Telegram: six persona bots
	Limits       string  `json:"limits"`                 // discord, telegram, raised or none
	EditInterval float64 `json:"edit_interval_ms"`       // the fake's, between two edits of a message
	MemLimitMB   float64 `json:"mem_limit_mb,omitempty"` // -memlimit of the run process
	FakesNice    int     `json:"fakes_nice"`
	TTFTMs       float64 `json:"ttft_ms"`
	TokensPerSec float64 `json:"tokens_per_second"`
	ChunkTokens  int     `json:"chunk_tokens"`
	PeopleWaitS  float64 `json:"people_wait_s"`
	ModelCalls   int     `json:"model_calls"`
	// ModelProtocols counts the model calls by the protocol they came in.
	ModelProtocols map[string]int `json:"model_protocols"`
	// Tokens of all calls as the fake model reported them: input, the part
	// of it cached by the prefix rule (promptcache, -cache-unit/-cache-min),
	// and output; CachedShare is cached ÷ input.
	InputTokens  int     `json:"input_tokens"`
	CachedTokens int     `json:"cached_input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CachedShare  float64 `json:"cached_share"`
	CacheUnit    int     `json:"cache_unit_tokens"`
	CacheMin     int     `json:"cache_min_tokens"`

	Chunks         int     `json:"chunks"`
	ChunksNotShown int     `json:"chunks_not_shown"`
	LatencyP50Ms   float64 `json:"latency_p50_ms"`
	LatencyP99Ms   float64 `json:"latency_p99_ms"`
	// Added latency: token → visible beyond the platform's per-message edit
	// interval (see addedLatencies).
	AddedP50Ms      float64 `json:"added_latency_p50_ms"`
	AddedP99Ms      float64 `json:"added_latency_p99_ms"`
	AddedFirstP50Ms float64 `json:"added_first_text_p50_ms"`
	AddedFirstP99Ms float64 `json:"added_first_text_p99_ms"`
	FirstTextP50Ms  float64 `json:"first_text_p50_ms"`
	FirstTextP99Ms  float64 `json:"first_text_p99_ms"`
	StalenessP50Ms  float64 `json:"staleness_p50_ms"`
	StalenessP99Ms  float64 `json:"staleness_p99_ms"`
	// Chat lag: a speech's last token → its whole text visible in a
	// message (drafts aside), at the fakes; EngineLag is the same as the
	// session sees it (roundtable.LagObserver, tableround_chat_lag_seconds).
	ChatLagP50Ms   float64 `json:"chat_lag_p50_ms"`
	ChatLagP99Ms   float64 `json:"chat_lag_p99_ms"`
	EngineLagP50Ms float64 `json:"engine_chat_lag_p50_ms"`
	EngineLagP99Ms float64 `json:"engine_chat_lag_p99_ms"`
	EditsPerMsgSec float64 `json:"edits_per_message_per_second"`
	MaxWritesIn1s  int     `json:"max_writes_per_message_in_1s"`
	Writes         int     `json:"writes"`
	Drafts         int     `json:"drafts,omitempty"` // of Writes, Telegram draft previews
	RateLimited    int     `json:"rate_limited_429s"`
	// RateLimitedBy counts the 429s by write ("edit", "create") and scope.
	RateLimitedBy map[string]int `json:"rate_limited_by,omitempty"`
	Violations    int            `json:"violations"`
	CPUSeconds    float64        `json:"cpu_seconds"`
	CPUPer100     float64        `json:"cpu_seconds_per_100_sessions"`
	// The fakes' CPU over the same span: they share the machine's cores.
	FakeLLMCPU     float64 `json:"fake_llm_cpu_seconds"`
	FakeDiscordCPU float64 `json:"fake_discord_cpu_seconds"`    // the fake platform's (Telegram's with -platform telegram)
	Store          string  `json:"store"`                       // bolt (embedded) or redis
	RedisCPU       float64 `json:"redis_cpu_seconds,omitempty"` // redis-server's, with -redis
	BaseRSSMB      float64 `json:"base_rss_mb"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	PeakHeapMB     float64 `json:"peak_go_heap_mb"` // live and not yet swept heap objects, sampled every 0.5 s
	PeakStacksMB   float64 `json:"peak_goroutine_stacks_mb"`
	// At the highest sampled VmRSS (every 0.5 s; VmHWM can be a little
	// higher): its anonymous part (Go) and its file pages (the binary and
	// the bbolt file's memory map).
	SampledRSSMB   float64 `json:"sampled_peak_rss_mb"`
	AnonRSSMB      float64 `json:"sampled_peak_rss_anon_mb"`
	FileRSSMB      float64 `json:"sampled_peak_rss_file_mb"`
	PeakGoroutines int     `json:"peak_goroutines"`
	WallP50S       float64 `json:"session_wall_p50_s"`
	WallMaxS       float64 `json:"session_wall_max_s"`
	CriticalP50S   float64 `json:"critical_path_p50_s"`
	RatioP50       float64 `json:"wall_over_critical_p50"`
	RatioMax       float64 `json:"wall_over_critical_max"`
	// BudgetBound is the least time a session's messages take under the
	// platform's budgets (budgetBounds); wall time is compared with the
	// larger of it and the model's critical path plus the people's turn.
	BudgetBoundP50S float64 `json:"budget_bound_p50_s"`
	BudgetBoundMaxS float64 `json:"budget_bound_max_s"`
	RatioBudgetP50  float64 `json:"wall_over_bound_p50"`
	RatioBudgetMax  float64 `json:"wall_over_bound_max"`
	// TokenBoundS is the least time all sessions' messages take under the
	// token's budget; RunWallS is the first mention to the last end.
	TokenBoundS     float64 `json:"token_bound_s"`
	RunWallS        float64 `json:"run_wall_s"`
	LastVisibleP50S float64 `json:"last_visible_p50_s"`
	LastVisibleMaxS float64 `json:"last_visible_max_s"`
}

func buildReport(in runResult) *Report {
	o := in.opts
	r := &Report{Platform: o.platform, Warm: o.warm, PersonaBots: o.personaBots, Sessions: o.sessions, Failed: in.failed, NotStarted: in.notStarted, RampS: o.ramp.Seconds(), Limits: o.limits, FakesNice: o.nice, MemLimitMB: float64(o.memLimit) / (1 << 20), TTFTMs: ms(o.pace.TTFT),
		TokensPerSec: o.pace.TPS, ChunkTokens: o.pace.Chunk, PeopleWaitS: o.people.Seconds(), ModelCalls: len(in.calls),
		Writes: len(in.writes), Violations: len(in.stats.Violations), CPUSeconds: in.cpu,
		CPUPer100: in.cpu * 100 / float64(max(o.sessions-in.notStarted, 1)),
		BaseRSSMB: float64(in.baseRSSKB) / 1024, PeakRSSMB: float64(in.peakRSSKB) / 1024,
		PeakHeapMB: float64(in.peaks.heapBytes) / (1 << 20), PeakStacksMB: float64(in.peaks.stackBytes) / (1 << 20),
		PeakGoroutines: in.peaks.goroutines, SampledRSSMB: float64(in.peaks.rss.totalKB) / 1024,
		AnonRSSMB: float64(in.peaks.rss.anonKB) / 1024, FileRSSMB: float64(in.peaks.rss.fileKB) / 1024,
		FakeLLMCPU: in.fakesCPU[0], FakeDiscordCPU: in.fakesCPU[1], RedisCPU: in.fakesCPU[2], Store: "bolt"}
	if o.redis {
		r.Store = "redis"
	}
	if o.platform == platformTelegram {
		r.Chats = o.chats
	}
	r.ModelProtocols = map[string]int{}
	for _, c := range in.calls {
		r.ModelProtocols[c.Proto]++
		r.InputTokens, r.CachedTokens, r.OutputTokens = r.InputTokens+c.Input, r.CachedTokens+c.Cached, r.OutputTokens+c.Output
	}
	if r.InputTokens > 0 {
		r.CachedShare = float64(r.CachedTokens) / float64(r.InputTokens)
	}
	r.CacheUnit, r.CacheMin = o.pace.CacheUnit, o.pace.CacheMin
	for _, w := range in.writes {
		if w.Draft {
			r.Drafts++
		}
		if w.Status == 429 {
			r.RateLimited++
			kind := "create"
			if w.Edit {
				kind = "edit"
			}
			if r.RateLimitedBy == nil {
				r.RateLimitedBy = map[string]int{}
			}
			r.RateLimitedBy[kind+"/"+w.Limit]++
		}
	}
	vs := correlate(in.calls, in.writes)
	all, first, missing := latencies(vs)
	r.Chunks, r.ChunksNotShown = len(all)+missing, missing
	r.LatencyP50Ms, r.LatencyP99Ms = percentile(all, 50), percentile(all, 99)
	r.FirstTextP50Ms, r.FirstTextP99Ms = percentile(first, 50), percentile(first, 99)
	r.EditInterval = ms(o.editInterval())
	added, addedFirst := addedLatencies(vs, in.writes, o.editInterval())
	r.AddedP50Ms, r.AddedP99Ms = percentile(added, 50), percentile(added, 99)
	r.AddedFirstP50Ms, r.AddedFirstP99Ms = percentile(addedFirst, 50), percentile(addedFirst, 99)
	stale := staleness(vs, 100*time.Millisecond)
	r.StalenessP50Ms, r.StalenessP99Ms = percentile(stale, 50), percentile(stale, 99)
	r.EditsPerMsgSec, r.MaxWritesIn1s = editRates(in.writes)
	lags := chatLags(in.calls, in.writes)
	r.ChatLagP50Ms, r.ChatLagP99Ms = percentile(lags, 50), percentile(lags, 99)
	r.EngineLagP50Ms, r.EngineLagP99Ms = percentile(in.engineLags, 50), percentile(in.engineLags, 99)

	sessionOf := sessionsByChannel(in.channels, in.stats.Parents)
	marker := map[string]int{} // call marker → session, from where it showed
	last := make([]int64, o.sessions)
	for _, w := range in.writes {
		i, ok := sessionOf[w.Channel]
		if !ok || w.Status/100 != 2 {
			continue
		}
		if w.Marker != "" {
			marker[w.Marker] = i
		}
		last[i] = max(last[i], w.T)
	}
	perSession := make([][]Call, o.sessions)
	for _, c := range in.calls {
		i := c.Session
		if j, ok := marker[c.Marker]; i < 0 && ok {
			i = j
		}
		if i >= 0 && i < o.sessions {
			perSession[i] = append(perSession[i], c)
		}
	}
	bounds, token := budgetBounds(o, in.writes, sessionOf)
	r.TokenBoundS = token.Seconds()
	for _, e := range in.ends {
		if !e.IsZero() {
			r.RunWallS = max(r.RunWallS, e.Sub(in.mentions[0]).Seconds())
		}
	}
	var walls, crits, ratios, lasts, bs, bratios []float64
	for i := range o.sessions {
		if in.ends[i].IsZero() {
			continue // never started
		}
		wall := in.ends[i].Sub(in.mentions[i]).Seconds()
		crit := criticalPath(perSession[i]).Seconds()
		walls, crits = append(walls, wall), append(crits, crit)
		ratios = append(ratios, wall/(crit+o.people.Seconds()))
		b := bounds[i].Seconds()
		bs, bratios = append(bs, b), append(bratios, wall/max(crit+o.people.Seconds(), b))
		if last[i] > 0 {
			lasts = append(lasts, time.Unix(0, last[i]).Sub(in.mentions[i]).Seconds())
		}
	}
	r.WallP50S, r.WallMaxS = percentile(walls, 50), percentile(walls, 100)
	r.CriticalP50S = percentile(crits, 50)
	r.RatioP50, r.RatioMax = percentile(ratios, 50), percentile(ratios, 100)
	r.LastVisibleP50S, r.LastVisibleMaxS = percentile(lasts, 50), percentile(lasts, 100)
	r.BudgetBoundP50S, r.BudgetBoundMaxS = percentile(bs, 50), percentile(bs, 100)
	r.RatioBudgetP50, r.RatioBudgetMax = percentile(bratios, 50), percentile(bratios, 100)
	return r
}

// sessionsByChannel maps the load channels and their threads to sessions.
func sessionsByChannel(channels []string, parents map[string]string) map[string]int {
	out := map[string]int{}
	for i, c := range channels {
		out[c] = i
	}
	for thread, parent := range parents {
		if i, ok := out[parent]; ok {
			out[thread] = i
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func (r *Report) writeText(w io.Writer) {
	limits := map[string]string{limitsDiscord: "Discord's limits", limitsRaised: "Discord's per-webhook and per-message limits, global limit raised",
		limitsNone: "no limits (the adapter edits every 50 ms)", limitsTelegram: "Telegram's budgets"}[r.Limits]
	if r.Platform == platformTelegram {
		limits = fmt.Sprintf("Telegram, %s chats (persona bots: %v), ", r.Chats, r.PersonaBots) + map[string]string{
			limitsTelegram: "Telegram's budgets", limitsRaised: "per-chat and per-group budgets, per-bot limit raised",
			limitsNone: "no limits"}[r.Limits]
	}
	if r.Warm {
		limits += "; a warm process (one session ran first)"
	}
	fmt.Fprintf(w, "%d session(s), %s; model TTFT %.0f ms, %.0f tokens/s, %d tokens/chunk; people's turn %.1f s\n\n",
		r.Sessions, limits, r.TTFTMs, r.TokensPerSec, r.ChunkTokens, r.PeopleWaitS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, a...)...) }
	row("sessions finished / failed / not started", "%d / %d / %d", r.Sessions-r.Failed-r.NotStarted, r.Failed, r.NotStarted)
	row("model calls (by protocol) / chunks (not shown)", "%d %v / %d (%d)", r.ModelCalls, r.ModelProtocols, r.Chunks, r.ChunksNotShown)
	row("model tokens in (cached, share) · out", "%d (%d cached, %.1f%% by %d-token blocks from %d) · out %d",
		r.InputTokens, r.CachedTokens, 100*r.CachedShare, r.CacheUnit, r.CacheMin, r.OutputTokens)
	row("token → visible edit p50 / p99", "%.0f / %.0f ms", r.LatencyP50Ms, r.LatencyP99Ms)
	row("first token → first words p50 / p99", "%.0f / %.0f ms", r.FirstTextP50Ms, r.FirstTextP99Ms)
	row("added latency (beyond the edit interval) p50 / p99", "%.0f / %.0f ms (first words %.0f / %.0f ms; interval %.0f ms)",
		r.AddedP50Ms, r.AddedP99Ms, r.AddedFirstP50Ms, r.AddedFirstP99Ms, r.EditInterval)
	row("staleness p50 / p99", "%.0f / %.0f ms", r.StalenessP50Ms, r.StalenessP99Ms)
	row("chat lag (last token → final text shown) p50 / p99", "%.0f / %.0f ms (the engine's view: %.0f / %.0f ms)",
		r.ChatLagP50Ms, r.ChatLagP99Ms, r.EngineLagP50Ms, r.EngineLagP99Ms)
	row("edits per message per second", "%.2f (max %d writes in 1 s)", r.EditsPerMsgSec, r.MaxWritesIn1s)
	row("message writes (drafts) / 429s received", "%d (%d) / %d %v", r.Writes, r.Drafts, r.RateLimited, r.RateLimitedBy)
	row("rule violations at the fake", "%d", r.Violations)
	row("bot CPU", "%.1f s (%.1f s per 100 sessions)", r.CPUSeconds, r.CPUPer100)
	row("fakes' CPU (model / platform), niceness", "%.1f s / %.1f s, %d", r.FakeLLMCPU, r.FakeDiscordCPU, r.FakesNice)
	row("store (redis-server's CPU)", "%s (%.1f s)", r.Store, r.RedisCPU)
	row("bot RSS before / peak", "%.0f / %.0f MB (sampled peak %.0f MB: %.0f anonymous, %.0f file pages)", r.BaseRSSMB, r.PeakRSSMB,
		r.SampledRSSMB, r.AnonRSSMB, r.FileRSSMB)
	row("Go heap / goroutines (their stacks) at peak", "%.0f MB / %d (%.0f MB)", r.PeakHeapMB, r.PeakGoroutines, r.PeakStacksMB)
	row("session wall p50 / max", "%.1f / %.1f s", r.WallP50S, r.WallMaxS)
	row("model critical path p50", "%.1f s (+ %.1f s people's turn)", r.CriticalP50S, r.PeopleWaitS)
	row("wall ÷ (critical path + people) p50 / max", "%.2f / %.2f", r.RatioP50, r.RatioMax)
	row("platform budget bound p50 / max", "%.1f / %.1f s (the least time the session's messages take under the budgets)",
		r.BudgetBoundP50S, r.BudgetBoundMaxS)
	row("wall ÷ max(critical path + people, budget bound) p50 / max", "%.2f / %.2f", r.RatioBudgetP50, r.RatioBudgetMax)
	row("run wall / the token's budget bound", "%.1f / %.1f s (first mention to last end / the least time all messages take)", r.RunWallS, r.TokenBoundS)
	row("time to last visible text p50 / max", "%.1f / %.1f s", r.LastVisibleP50S, r.LastVisibleMaxS)
	_ = tw.Flush()
}
