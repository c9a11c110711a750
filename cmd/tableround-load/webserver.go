package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/web"
)

// webServer is the `web-server` child of a `web` run: the real web table
// (web.Server, its hub, tables, conversations and logs) on a listener of
// its own, in its own process so that its memory and CPU are measured
// apart from the viewers'. Speeches are posted into each table's
// conversation as the engine posts them (bot.Conversation: open, a
// snapshot per chunk, close), at the model's pace; the session engine and
// the model's HTTP stream are not in this process (the Discord and
// Telegram modes measure them). Each chunk carries the time it was handed
// over ("@<unix ns>"), so a viewer measures token to viewer itself.
type webServer struct {
	hub    *web.Hub
	tables []*web.Table
	p      webPace

	mu        sync.Mutex
	streaming bool
	stop      context.CancelFunc
	wg        sync.WaitGroup
	deltas    atomic.Int64 // chunks handed over
}

// webPace is how the fake speeches stream.
type webPace struct {
	Speakers int `json:"speakers"` // concurrent speeches per table
	TPS      int `json:"tps"`
	Chunk    int `json:"chunk"`
	Tokens   int `json:"tokens"` // per speech
}

// stampMark starts a chunk's hand-over time in the speech text.
const stampMark = '@'

// refuseStarts is the web server's session manager in a load run: tables
// are made by the run, not from the form.
type refuseStarts struct{}

func (refuseStarts) Handle(context.Context, bot.Request) (bot.Reply, error) {
	return bot.Reply{Text: "This is a load run: no sessions start here."}, nil
}

func runWebServer(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("web-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	sessions := fs.Int("sessions", 1, "tables")
	ws := &webServer{hub: web.NewHub()}
	fs.IntVar(&ws.p.Speakers, "speakers", 1, "concurrent speeches per table (6: a concurrent stage)")
	fs.IntVar(&ws.p.TPS, "tps", 40, "model tokens per second")
	fs.IntVar(&ws.p.Chunk, "chunk", 4, "tokens per chunk (one snapshot, one event)")
	fs.IntVar(&ws.p.Tokens, "tokens", 200, "tokens per speech")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sessions < 1 || ws.p.Speakers < 1 || ws.p.TPS < 1 || ws.p.Chunk < 1 || ws.p.Tokens < 1 {
		return errors.New("web-server: -sessions, -speakers, -tps, -chunk and -tokens must be positive")
	}
	ws.hub.MaxTables = *sessions
	for range *sessions {
		t := web.NewTable()
		ws.hub.Add(t)
		ws.tables = append(ws.tables, t)
	}
	srv, err := web.New(web.Options{Handler: refuseStarts{}, Hub: ws.hub, Loopback: true})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("GET /_load/tables", ws.listTables)
	mux.HandleFunc("GET /_load/stats", ws.stats)
	mux.HandleFunc("POST /_load/stream", ws.startStreaming)
	mux.HandleFunc("POST /_load/stop", ws.stopStreaming)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() {
		ws.hub.CloseStreams()
		srv.WaitStreams()
	}()
	defer ws.halt()
	return serveTLS(ctx, ln, mux, stdout, "", "")
}

// tableLink is what a viewer needs to open a table's stream.
type tableLink struct {
	ID   string `json:"id"`
	View string `json:"view"`
}

func (ws *webServer) listTables(w http.ResponseWriter, _ *http.Request) {
	out := make([]tableLink, len(ws.tables))
	for i, t := range ws.tables {
		view, _ := t.Keys()
		out[i] = tableLink{ID: t.ID, View: view}
	}
	writeJSONTo(w, out)
}

// serverStats is the web server's memory after a GC and its event count.
type serverStats struct {
	HeapBytes  uint64 `json:"heap_bytes"`
	StackBytes uint64 `json:"stack_bytes"`
	RSSKB      int    `json:"rss_kb"`
	Goroutines int    `json:"goroutines"`
	Events     int    `json:"events"` // in every table's log
	Deltas     int    `json:"deltas"` // chunks handed over
}

func (ws *webServer) stats(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := serverStats{HeapBytes: m.HeapInuse, StackBytes: m.StackInuse, RSSKB: vmKBs("VmRSS")[0], Goroutines: runtime.NumGoroutine()}
	for _, t := range ws.tables {
		s.Events += t.Log.Len()
	}
	s.Deltas = int(ws.deltas.Load())
	writeJSONTo(w, s)
}

// startStreaming starts every table's speakers; they stream until stop.
func (ws *webServer) startStreaming(w http.ResponseWriter, _ *http.Request) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.streaming {
		http.Error(w, "already streaming", http.StatusConflict)
		return
	}
	ws.streaming = true
	ctx, cancel := context.WithCancel(context.Background())
	ws.stop = cancel
	every := time.Duration(ws.p.Chunk) * time.Second / time.Duration(ws.p.TPS)
	for _, t := range ws.tables {
		for seat := range ws.p.Speakers {
			ws.wg.Add(1)
			go func() {
				defer ws.wg.Done()
				// A random phase: tables do not tick in lockstep.
				speak(ctx, t.Conv, seat, ws.p, every, time.Duration(rand.Int64N(int64(every))), &ws.deltas)
			}()
		}
	}
	writeJSONTo(w, map[string]string{"status": "streaming"})
}

func (ws *webServer) stopStreaming(w http.ResponseWriter, _ *http.Request) {
	ws.halt()
	writeJSONTo(w, map[string]string{"status": "stopped"})
}

// halt stops the speakers and waits for them.
func (ws *webServer) halt() {
	ws.mu.Lock()
	if ws.stop != nil {
		ws.stop()
	}
	ws.streaming = false
	ws.mu.Unlock()
	ws.wg.Wait()
}

// speak posts speeches into conv until ctx ends: a snapshot every chunk,
// each chunk starting with its hand-over time.
func speak(ctx context.Context, conv bot.Conversation, seat int, p webPace, every, phase time.Duration, count *atomic.Int64) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	if clock.Sleep(ctx, phase) != nil {
		return
	}
	filler := strings.Repeat(" word", p.Chunk-1)
	for ctx.Err() == nil {
		st, err := conv.Open(ctx, bot.Post{Kind: bot.KindSpeech, From: bot.Persona{ID: "seat" + strconv.Itoa(seat), Name: "Seat " + strconv.Itoa(seat)}})
		if err != nil {
			return
		}
		var text []byte
		for sent := 0; sent < p.Tokens && ctx.Err() == nil; sent += p.Chunk {
			select {
			case <-ctx.Done():
			case <-tick.C:
				text = append(text, stampMark)
				text = strconv.AppendInt(text, time.Now().UnixNano(), 10)
				text = append(text, filler...)
				text = append(text, ' ')
				st.Update(string(text))
				count.Add(1)
			}
		}
		_ = st.Close(context.WithoutCancel(ctx), string(text))
	}
}

func writeJSONTo(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
