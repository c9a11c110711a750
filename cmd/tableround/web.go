package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/web"
)

// WebConfig configures the live web table. `tableround web` serves it
// alone; serve would start it beside the bots when WEB_ADDR is set (never
// on the metrics port, HTTP_ADDR): build the hub, wrap serve's store in
// web.Tap before handing it to the manager, and run webServer(…) in
// serve's errgroup. That wiring waits for the session seam (issue 14).
type WebConfig struct {
	// Addr is where the web table listens. Empty means off for serve;
	// `tableround web` then uses 127.0.0.1:8088.
	Addr string `env:"WEB_ADDR"`
	// Token is asked for on the start form; required unless Addr is a
	// loopback address.
	Token string `env:"WEB_TOKEN"`
	// PublicURL is how people reach the web table (printed links).
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
}

func runWeb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWebWith(ctx, args, stdout, stderr, webRun{})
}

func runWebWith(ctx context.Context, args []string, stdout, stderr io.Writer, wr webRun) int {
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
	l, err := lookuper()
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	cfg, err := loadBase(ctx, l)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	var wc WebConfig
	if err := loadConfig(ctx, l, &wc); err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if addrFlag != "" {
		wc.Addr = addrFlag
	}
	if wc.Addr == "" {
		wc.Addr = defaultWebAddr
	}
	if wc.Token == "" && !isLoopback(wc.Addr) {
		fmt.Fprintf(stderr, "tableround: WEB_TOKEN is required when WEB_ADDR (%s) is not a loopback address\n", wc.Addr)
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
	return withStore(ctx, stderr, func(sh storeHandle) int {
		hub := web.NewHub()
		if wr.hub != nil {
			wr.hub(hub)
		}
		store := web.Tap{Store: sh.Store, Hub: hub}
		mgr := roundtable.NewManager(cfg.Session, models.deps(store, logger), store,
			roundtable.ManagerOptions{Render: export.Render, Logger: logger, ScanEvery: time.Minute})
		srv, err := web.New(web.Options{Handler: mgr, Hub: hub, Token: wc.Token, Loopback: isLoopback(wc.Addr),
			MaxUpload: wc.MaxUpload, StartsPerHour: wc.StartsPerHour, Logger: logger, Packs: roundtable.BuiltinPacks(),
			Demo: models.Demo})
		if err != nil {
			fmt.Fprintln(stderr, "tableround:", err)
			return exitUsage
		}
		url := wc.PublicURL
		if url == "" {
			url = "http://" + ln.Addr().String()
		}
		fmt.Fprintf(stdout, "TableRound web table: %s/  (store: %s, model: %s)\n", strings.TrimRight(url, "/"), sh.Where, models.Name())
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return mgr.Run(gctx) })
		g.Go(func() error {
			err := webServer(gctx, ln, srv.Handler(), hub, logger)
			srv.WaitStreams() // streams left the server's handlers (web/sse.go)
			return err
		})
		if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("web stopped", "err", err)
			return exitFailure
		}
		return exitOK
	})
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
