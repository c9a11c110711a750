package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord"
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/imagepipe"
	"github.com/tableround/tableround/internal/httpx"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/buffered"
	"github.com/tableround/tableround/store/redis"
)

// engine is the bot as serve wires it: the session manager, the Discord
// adapter and the buffered store (embedded, or Redis), in this process.
type engine struct {
	store   *buffered.Store
	inner   io.Closer // the embedded store, or the Redis client
	mgr     *roundtable.Manager
	adapter interface {
		Run(ctx context.Context) error
	} // *discord.Adapter or *telegram.Adapter
	starts *startLog
	lags   *lagLog // the engine's own chat lags (roundtable.LagObserver)
}

// engineConfig is what the run varies.
type engineConfig struct {
	dir, llmURL, discordURL, guild string
	llmTLS                         *tls.Config   // trust for an HTTPS fake model; nil: plain HTTP
	redisURL                       string        // the store: Redis at this URL; empty: the embedded store in dir
	people                         time.Duration // the people's-turn timeout
	stagger                        int           // roundtable.Config.StaggerMinTokens
	limits                         string        // the regime: limitsDiscord, limitsRaised or limitsNone
	logger                         *slog.Logger
	platform                       string // platformDiscord or platformTelegram (discordURL is then the fake Telegram's)
	personaBots                    bool   // Telegram: six persona bots post the seats
}

func newEngine(ec engineConfig) (*engine, error) {
	var inner interface {
		store.Store
		io.Closer
	}
	var err error
	if ec.redisURL != "" {
		inner, err = redis.Open(context.Background(), ec.redisURL, redis.Options{})
	} else {
		inner, err = bolt.Open(filepath.Join(ec.dir, "tableround.db"), bolt.Options{})
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	store := buffered.New(inner, buffered.Options{})
	oc := openai.DefaultConfig()
	oc.Provider, oc.BaseURL, oc.Model, oc.KeyVariable = "fake", ec.llmURL+"/v1", "fake-model", "AI_API_KEY"
	// The fake LLM, like most compatible servers, reads max_tokens.
	oc.TokenParam = openai.MaxTokens
	if ec.llmTLS != nil { // the providers' transport, trusting the fake's certificate
		t := httpx.PooledTransport(providers.IdleConnsPerHost)
		t.TLSClientConfig = ec.llmTLS
		oc.HTTPClient = &http.Client{Transport: t}
	}
	model, err := openai.New(oc)
	if err != nil {
		_ = inner.Close()
		return nil, fmt.Errorf("build model: %w", err)
	}
	cfg := roundtable.Config{MaxTurns: 2, MaxKeywords: 10, VotingThreshold: 0.6, UserInputTimeout: ec.people,
		Language: "en", Pack: "papercut", MaxSessionTokens: 2_000_000, MaxSessionDuration: 30 * time.Minute, ContextBudget: 6000,
		StaggerMinTokens: ec.stagger, DeliveryWindow: 1} // serve's DELIVERY_WINDOW default
	lags := &lagLog{}
	deps := roundtable.Deps{Chat: model, Vision: model, Store: store, ModelName: "fake-model", Logger: ec.logger,
		Now: time.Now, Prepare: preparePhoto, Observer: lags}
	starts := &startLog{keys: map[int]string{}}
	mgr := roundtable.NewManager(cfg, deps, store, roundtable.ManagerOptions{MaxSessions: 100_000,
		UserSessionLimit: 0, Render: export.Render, Logger: ec.logger})
	starts.next = mgr
	if ec.platform == platformTelegram {
		a, err := newTelegramAdapter(ec, starts)
		if err != nil {
			_ = inner.Close()
			return nil, err
		}
		return &engine{store: store, inner: inner, mgr: mgr, adapter: a, starts: starts, lags: lags}, nil
	}
	o := discord.Options{Logger: ec.logger.With("component", "discord"), PeopleTimeout: ec.people}
	dc := discord.Config{Token: loadToken, APIURL: ec.discordURL, GuildID: ec.guild}
	switch ec.limits {
	case limitsRaised: // as an operator with a raised global limit configures it
		dc.GlobalRate = raisedGlobalRate
	case limitsNone:
		o.Limits = &discord.Limits{Global: bot.Budget{Rate: 10_000, Burst: 100}, Webhook: bot.Budget{Rate: 1000, Burst: 20},
			EditInterval: 50 * time.Millisecond, Channel: bot.Budget{Rate: 1000, Burst: 20}}
	}
	a, err := discord.New(dc, starts, o)
	if err != nil {
		_ = inner.Close()
		return nil, fmt.Errorf("build discord adapter: %w", err)
	}
	return &engine{store: store, inner: inner, mgr: mgr, adapter: a, starts: starts, lags: lags}, nil
}

// run serves until ctx ends, then flushes and closes the store.
func (e *engine) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.store.Run(gctx) })
	g.Go(func() error { return e.mgr.Run(gctx) })
	g.Go(func() error { return e.adapter.Run(gctx) })
	err := g.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = e.store.Flush(fctx)
	_ = e.inner.Close()
	return err
}

// finished returns a session's end time once the store shows it ended.
func (e *engine) finished(ctx context.Context, session int) (time.Time, store.Status, bool) {
	key, ok := e.starts.key(session)
	if !ok {
		return time.Time{}, "", false
	}
	ss, err := e.store.ListSessions(ctx, key, 1)
	if err != nil || len(ss) == 0 {
		return time.Time{}, "", false
	}
	switch s := ss[0]; s.Status {
	case store.StatusFinished, store.StatusFailed, store.StatusStopped:
		return s.UpdatedAt, s.Status, true
	}
	return time.Time{}, "", false
}

// startLog passes requests to the manager and notes, for each load
// session, the channel key of the place its start opened (the manager
// decides that a mention starts, then calls Open).
type startLog struct {
	next bot.Handler
	mu   sync.Mutex
	keys map[int]string
}

var sessionTopicRe = regexp.MustCompile(`load s(\d+)`)

func (l *startLog) Handle(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if m := sessionTopicRe.FindStringSubmatch(req.Text); m != nil && req.Open != nil {
		n, _ := strconv.Atoi(m[1])
		open := req.Open
		req.Open = func(ctx context.Context) (bot.Conversation, string, error) {
			conv, ch, err := open(ctx)
			if err == nil {
				l.mu.Lock()
				l.keys[n] = ch
				l.mu.Unlock()
			}
			return conv, ch, err
		}
	}
	return l.next.Handle(ctx, req)
}

func (l *startLog) key(session int) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.keys[session]
	return k, ok
}

func (l *startLog) started() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// photoGate is serve's (cmd/tableround): GOMAXPROCS photos at once.
var photoGate = imagepipe.NewGate(imagepipe.New(), 0)

func preparePhoto(ctx context.Context, data []byte) (roundtable.PreparedImage, error) {
	r, err := photoGate.Prepare(ctx, data, imagepipe.DefaultOptions())
	if err != nil {
		return roundtable.PreparedImage{}, fmt.Errorf("prepare photo: %w", err)
	}
	return roundtable.PreparedImage{MIME: r.MIME, Data: r.Data, Width: r.Width, Height: r.Height}, nil
}
