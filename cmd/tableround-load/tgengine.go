package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram"
	"github.com/tableround/tableround/internal/httpx"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/roundtable"
)

// The platforms a run drives.
const (
	platformDiscord  = "discord"
	platformTelegram = "telegram"
)

// newTelegramAdapter is the Telegram adapter as serve builds it, against
// the fake Telegram at ec.discordURL, paced as the regime allows.
func newTelegramAdapter(ec engineConfig, h bot.Handler) (*telegram.Adapter, error) {
	cfg := telegram.Config{Token: loadTGToken, APIURL: ec.discordURL}
	if ec.personaBots {
		cfg.PersonaTokens = personaTokens
	}
	lim := telegram.DefaultLimits()
	switch ec.limits {
	case limitsRaised: // as with a raised per-bot limit: chat and group budgets kept
		lim.Bot = bot.Budget{Rate: 10_000, Burst: 100}
	case limitsNone:
		lim = telegram.Limits{Bot: bot.Budget{Rate: 10_000, Burst: 100}, Chat: bot.Budget{Rate: 1000, Burst: 20},
			Group: bot.Budget{Rate: 1000, Burst: 20}, EditInterval: 50 * time.Millisecond, GroupEditInterval: 50 * time.Millisecond}
	}
	o := telegram.Options{Logger: ec.logger.With("component", "telegram"), PeopleTimeout: ec.people, Limits: &lim,
		HTTPClient: &http.Client{Transport: httpx.PooledTransport(providers.IdleConnsPerHost)}, PollTimeout: 10 * time.Second}
	a, err := telegram.New(cfg, h, o)
	if err != nil {
		return nil, fmt.Errorf("build telegram adapter: %w", err)
	}
	return a, nil
}

// lagLog is the engine's roundtable.LagObserver: the chat lag of every
// speech as the session sees it (from its last token to its final text's
// write answered), which serve exports as tableround_chat_lag_seconds.
type lagLog struct {
	mu   sync.Mutex
	lags []float64 // milliseconds
}

var _ roundtable.LagObserver = (*lagLog)(nil)

// StageDone makes lagLog a roundtable.Observer.
func (l *lagLog) StageDone(string, time.Duration) {}

// ModelCall makes lagLog a roundtable.Observer.
func (l *lagLog) ModelCall(string, time.Duration, int, time.Duration, error) {}

// ChatLag records one speech's lag.
func (l *lagLog) ChatLag(d time.Duration) {
	l.mu.Lock()
	l.lags = append(l.lags, ms(d))
	l.mu.Unlock()
}

func (l *lagLog) all() []float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]float64(nil), l.lags...)
}
