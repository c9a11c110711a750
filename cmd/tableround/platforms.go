package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord"
	"github.com/tableround/tableround/bot/telegram"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/roundtable"
)

// platformDeps are what adapters share.
type platformDeps struct {
	handler bot.Handler
	logger  *slog.Logger
	avatar  func(p bot.Persona) string
	// firstSeen de-duplicates Telegram updates across replicas (nil: one process).
	firstSeen func(ctx context.Context, key string) (bool, error)
	seats     []string
	metrics   *ops.Metrics // nil: none
	// shared shares Discord's budgets across replicas (nil: one process).
	shared discord.SharedLimiter
}

// buildPlatforms builds the adapters whose tokens are configured. handlers
// collects the HTTP routes they need (the Telegram webhook).
func buildPlatforms(ctx context.Context, l envconfig.Lookuper, d platformDeps, handlers map[string]http.Handler) ([]*platform, error) {
	var out []*platform
	var dc discord.Config
	if err := loadConfig(ctx, l, &dc); err != nil {
		return nil, err
	}
	if dc.Token != "" {
		a, err := discord.New(dc, d.handler, discord.Options{Logger: d.logger, AvatarURL: d.avatar,
			WrapREST: func(rt http.RoundTripper) http.RoundTripper { return d.metrics.CountRequests("discord", rt) },
			Hooks:    streamHooks(d.metrics, "discord"), SharedLimiter: d.shared})
		if err != nil {
			return nil, &ConfigError{Msg: "DISCORD_TOKEN: " + err.Error()}
		}
		out = append(out, &platform{name: "discord", run: a.Run, resume: a.Resume})
	}
	var tc telegram.Config
	if err := loadConfig(ctx, l, &tc); err != nil {
		return nil, err
	}
	if tc.Token != "" {
		a, err := telegram.New(tc, d.handler, telegram.Options{Logger: d.logger,
			SeatOrder: d.seats, FirstSeen: d.firstSeen,
			HTTPClient: &http.Client{Transport: d.metrics.CountRequests("telegram", nil)},
			Hooks:      streamHooks(d.metrics, "telegram")})
		if err != nil {
			return nil, &ConfigError{Msg: "TELEGRAM_TOKEN: " + err.Error()}
		}
		if tc.WebhookURL != "" {
			u, err := url.Parse(tc.WebhookURL)
			if err != nil || u.Path == "" {
				return nil, &ConfigError{Msg: fmt.Sprintf("TELEGRAM_WEBHOOK_URL %q needs a path, e.g. https://bot.example.com/telegram", tc.WebhookURL)}
			}
			handlers["POST "+u.Path] = a.WebhookHandler()
		}
		out = append(out, &platform{name: "telegram", run: a.Run, resume: a.Resume})
	}
	return out, nil
}

// streamHooks feed a platform's streamed messages to the metrics: edit
// staleness, retried requests and edits per message.
func streamHooks(m *ops.Metrics, platform string) bot.WriterHooks {
	return bot.WriterHooks{
		OnEdit:      func(d time.Duration) { m.ObserveEdit(platform, d) },
		OnRetry:     func() { m.ObserveRetry(platform) },
		OnDelivered: func(edits int) { m.ObserveMessageEdits(platform, edits) },
	}
}

// avatarsFor draws the built-in packs' seats for PUBLIC_BASE_URL/avatars.
func avatarsFor(publicBaseURL string) *ops.Avatars {
	packs := map[string][]ops.AvatarSeat{}
	for _, name := range roundtable.BuiltinPacks() {
		p, err := roundtable.LoadPack(name)
		if err != nil {
			continue
		}
		for _, s := range p.Seats {
			packs[name] = append(packs[name], ops.AvatarSeat{ID: s.ID, Name: s.Name.In("en"), Color: s.Color})
		}
		packs[name] = append(packs[name], ops.AvatarSeat{ID: "moderator", Name: "TableRound", Color: p.Moderator.Color})
	}
	return ops.NewAvatars(publicBaseURL, packs)
}

// metricsObserver feeds the engine's events to Prometheus.
type metricsObserver struct{ m *ops.Metrics }

func (o metricsObserver) StageDone(stage string, d time.Duration) { o.m.ObserveStage(stage, d) }

// ModelUsage counts a call's tokens, cached ones apart, and its cost.
func (o metricsObserver) ModelUsage(provider string, u providers.Usage) {
	o.m.ObserveUsage(provider, u.InputTokens, u.CachedInputTokens, u.OutputTokens, u.CostUSD)
}

var _ roundtable.LagObserver = metricsObserver{}

// ChatLag makes metricsObserver a roundtable.LagObserver.
func (o metricsObserver) ChatLag(d time.Duration) { o.m.ObserveChatLag(d) }

func (o metricsObserver) ModelCall(provider string, first time.Duration, tokens int, d time.Duration, err error) {
	o.m.ObserveLLMCall(provider, d)
	if err != nil {
		o.m.ObserveLLMError(provider, providers.KindOf(err).String())
		return
	}
	if first > 0 {
		o.m.ObserveFirstToken(provider, first)
	}
	o.m.ObserveTokenRate(provider, tokens, d)
}

func (o metricsObserver) session(event string) {
	switch event {
	case "started":
		o.m.SessionStarted()
	case "suspended", "interrupted":
		o.m.SessionSuspended()
	case "finished":
		o.m.SessionEnded(ops.SessionFinished)
	case "stopped":
		o.m.SessionEnded(ops.SessionStopped)
	default:
		o.m.SessionEnded(ops.SessionFailed)
	}
}
