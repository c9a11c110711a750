package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
)

//go:embed static
var staticFiles embed.FS

// Options configure the web server.
type Options struct {
	// Handler is the session manager.
	Handler bot.Handler
	Hub     *Hub
	// Token (WEB_TOKEN) is asked for on the start form. It is required
	// unless the server listens on loopback only (Loopback).
	Token    string
	Loopback bool
	// MaxUpload caps the start form's body, photo included (default 20 MiB).
	MaxUpload int64
	// StartsPerHour limits starts per client IP (default 10). The IP is
	// the connection's: X-Forwarded-For is not trusted.
	StartsPerHour int
	// Stream tunes the viewers' event streams.
	Stream StreamOptions
	Logger *slog.Logger
	// Now is the clock of the start limit (time.Now by default).
	Now func() time.Time
	// Packs are the persona packs the start form offers.
	Packs []string
	// Demo says tables run on the demo model; the form says so.
	Demo bool
}

// Server serves the live web table.
type Server struct {
	o      Options
	limit  *ipLimit
	log    *slog.Logger
	static fs.FS
	// streams counts the viewers' streams, which outlive their handlers
	// (sse.go): WaitStreams waits for them.
	streams sync.WaitGroup
}

// WaitStreams waits until every viewer's stream has ended. Streams end
// when their viewer leaves or the hub's CloseStreams is called; the HTTP
// server's Shutdown does not wait for them (they left its handlers).
func (s *Server) WaitStreams() { s.streams.Wait() }

// ErrNoToken means WEB_TOKEN is empty while the server listens beyond
// loopback, where anyone could start sessions on the operator's account.
var ErrNoToken = errors.New("web: WEB_TOKEN is required unless WEB_ADDR is a loopback address")

// New returns a server. It refuses to serve beyond loopback without a token.
func New(o Options) (*Server, error) {
	if o.Token == "" && !o.Loopback {
		return nil, ErrNoToken
	}
	if o.Handler == nil || o.Hub == nil {
		return nil, errors.New("web: Handler and Hub are required")
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 20 << 20
	}
	if o.StartsPerHour <= 0 {
		o.StartsPerHour = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	return &Server{o: o, limit: newIPLimit(o.StartsPerHour, time.Hour, o.Now), log: o.Logger.With("component", "web"), static: sub}, nil
}

// csp allows only this origin's script and style files: no inline script
// or style, no eval, no other origin. Pictures may be data: or blob: URLs
// (the SVG diagrams are shown through blob: images, which cannot run code).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler returns the HTTP handler: pages, the event stream and actions,
// with security headers on every answer and a same-origin check on every
// state-changing request.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(s.static)))
	mux.HandleFunc("POST /start", s.handleStart)
	mux.HandleFunc("GET /s/{id}", s.viewer(RoleViewer, func(w http.ResponseWriter, r *http.Request, t *Table, _ <-chan struct{}) {
		s.file("table.html")(w, r)
	}))
	mux.HandleFunc("GET /s/{id}/events", s.viewer(RoleViewer, func(w http.ResponseWriter, r *http.Request, t *Table, revoked <-chan struct{}) {
		s.streams.Add(1)
		serveStream(w, r, t.Log, revoked, s.o.Hub.dropped(), s.o.Stream, s.streams.Done)
	}))
	mux.HandleFunc("GET /s/{id}/img/{n}", s.viewer(RoleViewer, s.handleImage))
	mux.HandleFunc("GET /s/{id}/role", s.viewer(RoleViewer, s.handleRole))
	mux.HandleFunc("GET /s/{id}/export", s.viewer(RoleParticipant, s.handleExport))
	mux.HandleFunc("POST /s/{id}/say", s.action(s.handleSay))
	mux.HandleFunc("POST /s/{id}/answer", s.action(s.handleAnswer))
	mux.HandleFunc("POST /s/{id}/stop", s.action(s.handleStop))
	mux.HandleFunc("POST /s/{id}/rotate", s.action(s.handleRotate))
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer") // keys are in URLs
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// file serves an embedded page.
func (s *Server) file(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.static, name)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	}
}

// indexPage is parsed on first use, not at start-up.
var indexPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(staticFiles, "static/index.html"))
})

// index serves the start form.
func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	packs := s.o.Packs
	if len(packs) == 0 {
		packs = []string{"papercut"}
	}
	_ = indexPage().Execute(w, map[string]any{"Packs": packs, "Token": s.o.Token != "", "Demo": s.o.Demo})
}

// table finds the table in the path and checks the key; an unknown table
// and a wrong key look the same (404), so keys cannot be probed per table.
func (s *Server) table(r *http.Request, key string) (*Table, Role, <-chan struct{}) {
	t := s.o.Hub.Lookup(r.Context(), r.PathValue("id"))
	if t == nil {
		return nil, RoleNone, nil
	}
	role, revoked := t.Check(key)
	if role == RoleNone && s.o.Hub.RefreshKeys(r.Context(), t) { // rotated on another replica?
		role, revoked = t.Check(key)
	}
	return t, role, revoked
}

type tableHandler func(w http.ResponseWriter, r *http.Request, t *Table, revoked <-chan struct{})

// viewer guards a GET that needs at least role, with the key in ?k=.
func (s *Server) viewer(need Role, next tableHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, role, revoked := s.table(r, r.URL.Query().Get("k"))
		if t == nil || role < need {
			http.Error(w, "This table does not exist, or the link's key is wrong or was replaced.", http.StatusNotFound)
			return
		}
		next(w, r, t, revoked)
	}
}

// actionBody is the JSON body of a participant action.
type actionBody struct {
	Key      string   `json:"k"`
	Text     string   `json:"text,omitempty"`
	Ref      string   `json:"ref,omitempty"`
	Action   string   `json:"action,omitempty"`
	Keywords []string `json:"keywords,omitempty"`
}

type actionHandler func(ctx context.Context, t *Table, b actionBody) (int, any)

// action guards a participant's POST: a small JSON body with the
// participant key. The same-origin check is done for every POST by
// http.CrossOriginProtection in Handler.
func (s *Server) action(next actionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		var b actionBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
			return
		}
		t, role, _ := s.table(r, b.Key)
		if t == nil || role < RoleParticipant {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
			return
		}
		code, v := next(r.Context(), t, b)
		writeJSON(w, code, v)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) handleImage(w http.ResponseWriter, r *http.Request, t *Table, _ <-chan struct{}) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	mime, data, ok := s.o.Hub.Image(r.Context(), t, n)
	if !ok || !strings.HasPrefix(mime, "image/") || mime == "image/svg+xml" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(data)
}

// handleRole tells the page what its key allows.
func (s *Server) handleRole(w http.ResponseWriter, r *http.Request, t *Table, _ <-chan struct{}) {
	role, _ := t.Check(r.URL.Query().Get("k"))
	name := "viewer"
	if role == RoleParticipant {
		name = "participant"
	}
	writeJSON(w, http.StatusOK, map[string]string{"role": name})
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, t *Table, _ <-chan struct{}) {
	format := r.URL.Query().Get("format")
	reply, err := s.o.Handler.Handle(r.Context(), bot.Request{Command: bot.CmdExport, Channel: t.Channel(),
		User: starter(t), Options: map[string]string{"format": format}})
	if err != nil {
		s.log.Error("export", "table", t, "err", err)
		http.Error(w, "Sorry, the export failed.", http.StatusInternalServerError)
		return
	}
	if reply.File == nil {
		http.Error(w, reply.Text, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", reply.File.MIME+"; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(reply.File.Name, `"`, "")+`"`)
	if reply.File.MIME == "text/html" { // the export is a page of its own: its own strict policy
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
	}
	_, _ = w.Write(reply.File.Data)
}

func (s *Server) command(ctx context.Context, t *Table, cmd bot.Command, text string) (int, any) {
	reply, err := s.o.Handler.Handle(ctx, bot.Request{Command: cmd, Channel: t.Channel(), User: starter(t), Text: text})
	if err != nil {
		s.log.Error("action", "cmd", cmd, "table", t, "err", err)
		return http.StatusInternalServerError, map[string]string{"error": "Sorry, that did not work."}
	}
	return http.StatusOK, map[string]string{"reply": reply.Text}
}

// maxSay caps an interjection (the manager caps it again for the model).
const maxSay = 2000

func (s *Server) handleSay(ctx context.Context, t *Table, b actionBody) (int, any) {
	text := strings.TrimSpace(b.Text)
	if text == "" || len(text) > maxSay {
		return http.StatusBadRequest, map[string]string{"error": "Say something (up to 2000 characters)."}
	}
	return s.command(ctx, t, bot.CmdSay, text)
}

func (s *Server) handleStop(ctx context.Context, t *Table, _ actionBody) (int, any) {
	return s.command(ctx, t, bot.CmdStop, "")
}

func (s *Server) handleAnswer(ctx context.Context, t *Table, b actionBody) (int, any) {
	ans := bot.Answer{Action: b.Action, By: "web"}
	switch b.Action {
	case bot.ActionKeep, bot.ActionSkip:
	case bot.ActionEdit:
		for _, k := range b.Keywords {
			if k = strings.TrimSpace(k); k != "" && len(ans.Keywords) < 20 && len(k) <= 100 {
				ans.Keywords = append(ans.Keywords, k)
			}
		}
		if len(ans.Keywords) == 0 {
			return http.StatusBadRequest, map[string]string{"error": "Give at least one keyword."}
		}
	default:
		return http.StatusBadRequest, map[string]string{"error": "Keep, edit or skip."}
	}
	if t.Conv.SubmitAnswer(b.Ref, ans) {
		return http.StatusOK, map[string]string{"reply": "ok"}
	}
	// Not asked here: the session may run on another replica, which the
	// manager relays the answer to.
	_, err := s.o.Handler.Handle(ctx, bot.Request{Command: bot.CmdAnswer, Channel: t.Channel(), User: starter(t),
		Answer: &ans, Ref: b.Ref})
	switch {
	case err == nil:
		return http.StatusOK, map[string]string{"reply": "ok"}
	case errors.Is(err, bot.ErrNoQuestion):
		return http.StatusConflict, map[string]string{"error": "That question is closed."}
	default:
		s.log.Error("relay an answer", "table", t, "err", err)
		return http.StatusInternalServerError, map[string]string{"error": "Sorry, that did not work."}
	}
}

func (s *Server) handleRotate(ctx context.Context, t *Table, _ actionBody) (int, any) {
	view := t.RotateViewKey()
	if err := s.o.Hub.SaveKeys(ctx, t); err != nil { // the new key works until a restart
		s.log.Warn("keep the rotated view key", "table", t, "err", err)
	}
	s.log.Info("view key rotated", "table", t)
	return http.StatusOK, map[string]string{"view": view}
}

// drain discards what is left of a body so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20)) }
