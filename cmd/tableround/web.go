package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/web"
)

// WebConfig configures the live web table. `tableround web` serves it
// alone; serve starts it beside the bots when WEB_ADDR is set, on its own
// listener (never the metrics port, HTTP_ADDR), on the same session
// manager and store.
type WebConfig struct {
	// Addr is where the web table listens. Empty means off for serve;
	// `tableround web` then uses 127.0.0.1:8088.
	Addr string `env:"WEB_ADDR"`
	// Token is asked for on the start form; required unless Addr is a
	// loopback address.
	Token string `env:"WEB_TOKEN"`
	// PublicURL is how people reach the web table: printed links, and
	// (serve) the link in the opening message of every session started in
	// Discord or Telegram.
	PublicURL string `env:"WEB_PUBLIC_URL"`
	// MaxUpload caps the start form's photo, in bytes.
	MaxUpload int64 `env:"WEB_MAX_UPLOAD, default=20971520"`
	// StartsPerHour limits starts per client IP.
	StartsPerHour int `env:"WEB_STARTS_PER_HOUR, default=10"`
}

// defaultWebAddr is where `tableround web` listens with nothing set.
const defaultWebAddr = "127.0.0.1:8088"

// isLoopback reports whether addr (host:port) only listens on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webRun are the parts of runWeb a test replaces.
type webRun struct {
	// demo, when set, paces the demo model (tests stream fast but still
	// token by token).
	demo *demo.Options
	// hub, when set, is told the hub (tests drop its streams).
	hub func(*web.Hub)
	// stream tunes the viewers' event streams (tests have browsers
	// reconnect sooner); zero fields take web's defaults.
	stream web.StreamOptions
}

func runWeb(ctx context.Context, env environ, args []string, stdout, stderr io.Writer) int {
	return runWebWith(ctx, env, args, stdout, stderr, webRun{})
}

func runWebWith(ctx context.Context, env environ, args []string, stdout, stderr io.Writer, wr webRun) int {
	var addrFlag string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--addr" && i+1 < len(args):
			i++
			addrFlag = args[i]
		case strings.HasPrefix(a, "--addr="):
			addrFlag = strings.TrimPrefix(a, "--addr=")
		default:
			fmt.Fprintf(stderr, "tableround web: unknown argument %q (usage: tableround web [--addr HOST:PORT])\n", a)
			return exitUsage
		}
	}
	var wc WebConfig
	l, cfg, ok := readConfig(ctx, env, stderr, &wc)
	if !ok {
		return exitUsage
	}
	if addrFlag != "" {
		wc.Addr = addrFlag
	}
	if wc.Addr == "" {
		wc.Addr = defaultWebAddr
	}
	if err := wc.check(""); err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if err := os.MkdirAll(cfg.Store.DataDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "tableround: DATA_DIR %q: %v\n", cfg.Store.DataDir, err)
		return exitUsage
	}
	logger := ops.NewLogger(cfg.Log.Level, cfg.Log.Format, stderr)
	models, err := buildModels(ctx, l, logger, true, nil)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if models.hint != "" {
		fmt.Fprintln(stderr, models.hint)
	}
	if models.Demo && wr.demo != nil {
		m := demo.New(*wr.demo)
		models.Chat, models.Vision = m, m
	}
	ln, err := net.Listen("tcp", wc.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "tableround: WEB_ADDR %s: %v\n", wc.Addr, err)
		return exitFailure
	}
	defer ln.Close()
	return withStore(ctx, env, stderr, func(sh storeHandle) int {
		wt := newWebTable(wc, sh.Store, sh.Redis, cfg.Store.SessionTTL, logger)
		wt.stream = wr.stream
		if wr.hub != nil {
			wr.hub(wt.hub)
		}
		store := web.Tap{Store: sh.Store, Hub: wt.hub}
		mgr := roundtable.NewManager(cfg.Session, models.deps(store, logger), store,
			roundtable.ManagerOptions{Render: export.Render, Logger: logger, ScanEvery: time.Minute})
		mgr.AddResumer("web", wt.hub.Resume)
		run, err := wt.serve(mgr, ln, models.Demo)
		if err != nil {
			fmt.Fprintln(stderr, "tableround:", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "TableRound web table: %s/  (store: %s, model: %s)\n", wt.url(ln), sh.Where, models.Name())
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return mgr.Run(gctx) })
		g.Go(func() error { return run(gctx) })
		err = g.Wait()
		if serr := wt.hub.SaveLogs(context.WithoutCancel(ctx)); serr != nil { // the sessions have stopped
			logger.Error("keep the web tables", "err", serr)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("web stopped", "err", err)
			return exitFailure
		}
		return exitOK
	})
}

// check validates the web settings; metricsAddr (HTTP_ADDR, serve only)
// must be another address.
func (wc WebConfig) check(metricsAddr string) error {
	if wc.Token == "" && !isLoopback(wc.Addr) {
		return fmt.Errorf("WEB_TOKEN is required when WEB_ADDR (%s) is not a loopback address", wc.Addr)
	}
	if metricsAddr != "" && sameListener(wc.Addr, metricsAddr) {
		return fmt.Errorf("WEB_ADDR (%s) must differ from HTTP_ADDR (%s): the web table is never served on the metrics port", wc.Addr, metricsAddr)
	}
	if wc.PublicURL != "" {
		u, err := url.Parse(wc.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("WEB_PUBLIC_URL must be an http(s) URL such as https://table.example.com, got %q", wc.PublicURL)
		}
	}
	return nil
}

// sameListener reports whether two host:port addresses would collide:
// the same port on the same host, or on a wildcard host.
func sameListener(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return pa == pb && (ha == hb || wild(ha) || wild(hb))
}

// webTable is the live web table as serve and web run it: the hub (which
// finds tables in the store after a restart, and shares them with the
// other replicas through Redis when the store is Redis), and its server.
type webTable struct {
	wc     WebConfig
	hub    *web.Hub
	feed   *web.RedisFeed    // nil with the embedded store
	stream web.StreamOptions // zero: web's defaults
	logger *slog.Logger
}

func newWebTable(wc WebConfig, st web.Store, redis goredis.UniversalClient, ttl time.Duration, logger *slog.Logger) *webTable {
	wt := &webTable{wc: wc, hub: web.NewHub(), logger: logger}
	wt.hub.Store = st
	if redis != nil {
		wt.feed = web.NewRedisFeed(redis, web.RedisFeedOptions{TTL: ttl, Logger: logger})
		wt.hub.Feed = wt.feed
	}
	return wt
}

// watcher links the chats' sessions to their pages (WEB_PUBLIC_URL).
func (wt *webTable) watcher() roundtable.Watch {
	w := &web.Watcher{Hub: wt.hub, PublicURL: wt.wc.PublicURL}
	return w.Watch
}

// url is how people reach the table: WEB_PUBLIC_URL, else the listener.
func (wt *webTable) url(ln net.Listener) string {
	if wt.wc.PublicURL != "" {
		return strings.TrimRight(wt.wc.PublicURL, "/")
	}
	return "http://" + ln.Addr().String()
}

// serve builds the server on the session manager h and returns the
// function that runs it (and the feed) on ln until its context ends.
func (wt *webTable) serve(h bot.Handler, ln net.Listener, demo bool) (func(context.Context) error, error) {
	srv, err := web.New(web.Options{Handler: h, Hub: wt.hub, Token: wt.wc.Token, Loopback: isLoopback(wt.wc.Addr),
		MaxUpload: wt.wc.MaxUpload, StartsPerHour: wt.wc.StartsPerHour, Logger: wt.logger, Packs: roundtable.BuiltinPacks(),
		Demo: demo, Stream: wt.stream})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		g, gctx := errgroup.WithContext(ctx)
		if wt.feed != nil {
			g.Go(func() error { return wt.feed.Run(gctx) })
		}
		g.Go(func() error {
			err := webServer(gctx, ln, srv.Handler(), wt.hub, wt.logger)
			srv.WaitStreams() // streams left the server's handlers (web/sse.go)
			return err
		})
		return g.Wait()
	}, nil
}

// webServer serves h on ln until ctx ends. The server has no write
// timeout (event streams are long); each stream sets its own deadlines.
func webServer(ctx context.Context, ln net.Listener, h http.Handler, hub *web.Hub, logger *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web server: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.CloseStreams() // or Shutdown would wait for them
		_ = srv.Shutdown(sctx)
		return ctx.Err()
	}
}
