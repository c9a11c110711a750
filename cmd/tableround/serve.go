package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord"
	"github.com/tableround/tableround/bot/discord/redislimit"
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store/buffered"
	redisstore "github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/web"
)

// ServeConfig are the serving knobs of DESIGN §4.
type ServeConfig struct {
	MaxSessions      int `env:"MAX_SESSIONS, default=50"`
	UserSessionLimit int `env:"USER_SESSION_LIMIT, default=5"`
	// UserCallLimit is the model calls a person's sessions may make per
	// hour (a session makes about 60-70).
	UserCallLimit int `env:"USER_CALL_LIMIT, default=400"`
	// OperatorIDs are the people the per-person limits do not apply to, as
	// <platform>:<user ID> ("discord:80351110224678912,telegram:12345").
	OperatorIDs []string `env:"OPERATOR_IDS"`
	// LeaseTTL is how long a channel's lease outlives its last renewal: a
	// replica that dies without a word has its sessions resumed elsewhere
	// after at most this long (renewed every third of it).
	LeaseTTL time.Duration `env:"LEASE_TTL, default=30s"`
	// InstanceID names this process in leases and logs (default: host name
	// plus a random suffix; must differ between replicas).
	InstanceID string `env:"INSTANCE_ID"`
	// StatusAlerts shows chat admins the process's recent warnings (kind,
	// subject, times; no error texts) under /status. In a Telegram private
	// chat everyone is the admin of their own chat.
	StatusAlerts bool `env:"STATUS_ALERTS, default=true"`
}

// platform is a chat adapter as serve runs it.
type platform struct {
	name   string
	run    func(ctx context.Context) error
	resume roundtable.Resumer
	// wait is the backoff's sleep (tests record it); nil sleeps.
	wait func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	state string // "connecting", "connected", "failed"
	err   string
}

func (p *platform) snapshot() ops.PlatformState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ops.PlatformState{State: p.state, Error: p.err}
}

func (p *platform) set(state string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.err = state, ""
	if err != nil {
		p.err = err.Error()
	}
}

// runServe runs every configured platform, the session manager and the
// HTTP listener under one context until it ends, then shuts down gracefully.
func runServe(ctx context.Context, env environ, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "tableround serve takes no arguments (got %q); configure it with the environment\n", args)
		return exitUsage
	}
	var sc ServeConfig
	var oc ops.Config
	var wc WebConfig
	l, cfg, ok := readConfig(ctx, env, stderr, &sc, &oc, &wc)
	if !ok {
		return exitUsage
	}
	if wc.Addr != "" {
		if err := wc.check(oc.HTTPAddr); err != nil {
			fmt.Fprintln(stderr, "tableround:", err)
			return exitUsage
		}
	} else if wc.PublicURL != "" {
		fmt.Fprintln(stderr, "tableround: WEB_PUBLIC_URL is set but WEB_ADDR is not: set WEB_ADDR to serve the web table")
		return exitUsage
	}
	if sc.LeaseTTL < 3*time.Second {
		fmt.Fprintf(stderr, "tableround: LEASE_TTL must be at least 3s (got %s)\n", sc.LeaseTTL)
		return exitUsage
	}
	operators, err := parseOperators(sc.OperatorIDs)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if sc.InstanceID == "" {
		host, _ := os.Hostname()
		sc.InstanceID = host + "-" + roundtable.NewID()
	}
	logger := ops.NewLogger(cfg.Log.Level, cfg.Log.Format, os.Stderr)
	if cfg.Store.RedisURL != "" {
		// go-redis's own lines follow LOG_FORMAT too. Its logger is the
		// process's (set only when serve has Redis clients, so serves run
		// side by side in one test binary do not race on it).
		redisstore.SetLogger(logger)
	}
	// 90 % of a container's memory limit, unless GOMEMLIMIT says otherwise.
	ops.SetMemoryLimit(logger, nil)
	metrics := ops.NewMetrics()
	models, err := buildModels(ctx, l, logger, false, metrics) // serve never falls back to the demo model
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	sh, err := openStore(ctx, cfg.Store)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitFailure
	}
	defer sh.Store.Close()
	store := buffered.New(storeMetrics{Store: sh.Store, m: metrics}, buffered.Options{})
	avatars := avatarsFor(oc.PublicBaseURL)
	pack, err := roundtable.LoadPack(cfg.Session.Pack)
	if err != nil {
		fmt.Fprintln(stderr, "tableround: PERSONA_PACK:", err)
		return exitUsage
	}
	var seats []string
	for _, s := range pack.Seats {
		seats = append(seats, s.ID)
	}

	// The manager is built first: it is the Handler every adapter calls
	// and decides every request itself. The adapters' Resume functions are
	// handed to it before it runs. Replicas sharing Redis relay commands to
	// the one running a session, and de-duplicate webhook updates.
	relay := sh.Relay
	var firstSeen func(ctx context.Context, key string) (bool, error)
	var shared discord.SharedLimiter // Discord's budgets, one for all replicas
	if relay != nil {
		firstSeen = func(ctx context.Context, key string) (bool, error) { return relay.Once(ctx, key, time.Hour) }
		shared = redislimit.New(sh.Redis, "")
	}
	obs := metricsObserver{metrics}
	deps := models.deps(store, logger)
	deps.Observer = obs
	mo := roundtable.ManagerOptions{
		Owner: sc.InstanceID, MaxSessions: sc.MaxSessions, UserSessionLimit: sc.UserSessionLimit,
		UserCallLimit: sc.UserCallLimit, Operators: operators,
		LeaseTTL: sc.LeaseTTL, ScanEvery: min(10*time.Second, sc.LeaseTTL/3), HandOff: true,
		Render: export.Render, Diagram: exportDiagram, Logger: logger, OnSession: obs.session,
	}
	if sc.StatusAlerts {
		mo.Alerts = func() string { return metrics.Alerts().Summary(10) }
	}
	if relay != nil {
		mo.Relay = relay
	}
	// The web table (WEB_ADDR) shares the manager and the store: a tap on
	// the store shows each session's log entries on its page.
	var wt *webTable
	var mstore roundtable.ManagerStore = store
	if wc.Addr != "" {
		wt = newWebTable(wc, store, sh.Redis, cfg.Store.SessionTTL, logger)
		mstore = web.Tap{Store: store, Hub: wt.hub}
		deps.Store = mstore
		mo.Watch = wt.watcher()
	}
	mgr := roundtable.NewManager(cfg.Session, deps, mstore, mo)
	handlers := map[string]http.Handler{}
	platforms, err := buildPlatforms(ctx, l, platformDeps{
		handler: mgr, logger: logger, seats: seats, firstSeen: firstSeen, metrics: metrics, shared: shared,
		avatar: func(p bot.Persona) string { return avatars.AvatarURL(pack.Name, p.ID) },
	}, handlers)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if len(platforms) == 0 {
		fmt.Fprintln(stderr, "tableround: serve needs DISCORD_TOKEN or TELEGRAM_TOKEN (for a terminal session use `tableround console`)")
		return exitUsage
	}
	for _, p := range platforms {
		if p.resume != nil {
			mgr.AddResumer(p.name, p.resume)
		}
	}
	var runWebTable func(context.Context) error
	if wt != nil {
		mgr.AddResumer("web", wt.hub.Resume)
		ln, err := net.Listen("tcp", wc.Addr)
		if err != nil {
			fmt.Fprintf(stderr, "tableround: WEB_ADDR %s: %v\n", wc.Addr, err)
			return exitFailure
		}
		defer ln.Close()
		if runWebTable, err = wt.serve(mgr, ln, models.Demo); err != nil {
			fmt.Fprintln(stderr, "tableround:", err)
			return exitUsage
		}
		logger.Info("web table", "url", wt.url(ln))
	}
	metrics.Expose(monitoringLabels(platforms, models.Providers()))
	metrics.ReportStages(mgr.StageAges)
	server := ops.NewServer(oc, ops.ServerOptions{
		Store:    store.Ping,
		Pending:  store.Pending,
		Circuits: models.Circuits,
		Platforms: func() map[string]ops.PlatformState {
			out := map[string]ops.PlatformState{}
			for _, p := range platforms {
				out[p.name] = p.snapshot()
			}
			return out
		},
		Avatars: avatars, Metrics: metrics, Handlers: handlers, Logger: logger,
	})

	logger.Info("serving", "platforms", len(platforms), "model", models.Name(), "store", sh.Where, "instance", sc.InstanceID)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return store.Run(gctx) })
	g.Go(func() error { return mgr.Run(gctx) })
	g.Go(func() error { return server.Run(gctx) })
	if runWebTable != nil {
		g.Go(func() error { return runWebTable(gctx) })
	}
	var rejected atomic.Int32
	for _, p := range platforms {
		g.Go(func() error {
			err := keepRunning(gctx, p, logger)
			if errors.Is(err, bot.ErrRejected) && int(rejected.Add(1)) < len(platforms) {
				return nil // the others go on
			}
			return err
		})
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("serve stopped", "err", err)
		return exitFailure
	}
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if wt != nil { // the sessions have stopped: keep their pages' logs
		if err := wt.hub.SaveLogs(flushCtx); err != nil {
			logger.Error("keep the web tables", "err", err)
		}
	}
	if err := store.Flush(flushCtx); err != nil {
		logger.Error("flush buffered writes", "err", err)
	}
	logger.Info("stopped")
	return exitOK
}

// keepRunning runs a platform and, when it fails (a network error, a lost
// gateway, a 5xx), retries with capped jittered backoff while the others go
// on. A rejected token (bot.ErrRejected) is final: the platform is marked
// rejected and keepRunning returns the error.
func keepRunning(ctx context.Context, p *platform, logger *slog.Logger) error {
	log := logger.With("component", p.name)
	backoff := time.Second
	for {
		p.set(ops.StateConnected, nil)
		start := time.Now()
		err := p.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, bot.ErrRejected) {
			p.set(ops.StateRejected, err)
			log.Error("the token was rejected; this platform stays off until the configuration is fixed", "err", err)
			return err
		}
		p.set(ops.StateFailed, err)
		if time.Since(start) > 5*time.Minute {
			backoff = time.Second // it ran fine for a while: start over
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		log.Error("platform stopped; retrying", "err", err, "in", wait.Round(time.Millisecond))
		if p.sleep(ctx, wait) != nil {
			return nil
		}
		backoff = min(backoff*2, 2*time.Minute)
	}
}

func (p *platform) sleep(ctx context.Context, d time.Duration) error {
	if p.wait != nil {
		return p.wait(ctx, d)
	}
	return clock.Sleep(ctx, d)
}
