package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
)

// Platform states reported by /readyz.
const (
	StateConnecting = "connecting"
	StateConnected  = "connected"
	StateFailed     = "failed"
	// StateRejected is a platform that rejected its token: it stays off
	// until the configuration is fixed and the process restarted.
	StateRejected = "rejected"
)

// PlatformState is one chat platform's connection as /readyz reports it.
type PlatformState struct {
	State string `json:"state"`           // StateConnecting, StateConnected, StateFailed or StateRejected
	Error string `json:"error,omitempty"` // the last error, if any
}

// ServerOptions are the checks and handlers the listener serves. Every
// field is optional.
type ServerOptions struct {
	// Store pings the store; readiness is this check passing (DESIGN §8).
	Store func(ctx context.Context) error
	// Platforms reports each chat platform's state, keyed by platform name.
	Platforms func() map[string]PlatformState
	// Circuits reports each LLM provider's circuit state ("closed", "open",
	// "half-open"), keyed by provider.
	Circuits func() map[string]string
	// Pending reports the buffered store writes not yet flushed.
	Pending func() int
	// Avatars serves /avatars/; nil serves none.
	Avatars *Avatars
	// Metrics is served at /metrics; nil serves an empty registry.
	Metrics *Metrics
	// Handlers are extra routes (e.g. "POST /telegram/webhook"), as
	// http.ServeMux patterns; a pattern that conflicts with the built-in
	// routes panics in NewServer, like http.ServeMux.Handle.
	Handlers map[string]http.Handler
	// Logger receives the listener's errors; nil discards them.
	Logger *slog.Logger
	// CheckTimeout bounds the store check of /readyz; 0 means 2 s.
	CheckTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown; 0 means 10 s.
	ShutdownTimeout time.Duration
}

// Readiness is the JSON body of /readyz.
type Readiness struct {
	Ready         bool                     `json:"ready"`
	Store         Check                    `json:"store"`
	Platforms     map[string]PlatformState `json:"platforms"`
	Circuits      map[string]string        `json:"circuits"`
	PendingWrites int                      `json:"pending_writes"`
}

// Check is the outcome of one readiness check.
type Check struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Server is the HTTP listener of DESIGN §4 (HTTP_ADDR): health, readiness,
// metrics, the alert history (GET /alerts) and avatars.
type Server struct {
	cfg     Config
	o       ServerOptions
	handler http.Handler
	log     *slog.Logger
}

// NewServer builds the listener; Run starts it.
func NewServer(cfg Config, o ServerOptions) *Server {
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 2 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, o: o, log: log.With("component", "http")}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	metrics := o.Metrics
	if metrics == nil {
		metrics = NewMetrics()
	}
	metrics.reportReady(func() bool { return s.storeOK(context.Background()) == nil })
	metrics.ReportCircuits(o.Circuits)
	reg := metrics.Registry()
	mux.Handle("GET /alerts", metrics.Alerts())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}))
	if o.Avatars != nil {
		mux.Handle("GET /avatars/", o.Avatars)
	}
	for pattern, h := range o.Handlers {
		mux.Handle(pattern, h)
	}
	s.handler = mux
	return s
}

// Handler returns the routes, for tests and for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on Config.HTTPAddr and serves until ctx ends, then shuts down
// gracefully. It returns nil after a shutdown caused by ctx.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", s.cfg.HTTPAddr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("listening", "addr", ln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down http: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// Check runs the readiness checks. Only the store decides readiness; the
// platforms, circuits and pending writes are reported.
func (s *Server) Check(ctx context.Context) Readiness {
	r := Readiness{Store: Check{OK: true}, Platforms: map[string]PlatformState{}, Circuits: map[string]string{}}
	if err := s.storeOK(ctx); err != nil {
		r.Store = Check{Error: Redact(err.Error())}
	}
	r.Ready = r.Store.OK
	if s.o.Platforms != nil {
		left := 0
		for name, st := range s.o.Platforms() {
			st.Error = Redact(st.Error)
			r.Platforms[name] = st
			if st.State != StateRejected {
				left++
			}
		}
		if len(r.Platforms) > 0 && left == 0 {
			r.Ready = false // every platform rejected its token: nothing to serve
		}
	}
	if s.o.Circuits != nil {
		maps.Copy(r.Circuits, s.o.Circuits())
	}
	if s.o.Pending != nil {
		r.PendingWrites = s.o.Pending()
	}
	return r
}

// storeOK runs the store check under CheckTimeout (nil without a check).
func (s *Server) storeOK(ctx context.Context) error {
	if s.o.Store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
	defer cancel()
	return s.o.Store(ctx)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.Check(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !res.Ready {
		s.log.Warn("not ready", "store_error", res.Store.Error)
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}
