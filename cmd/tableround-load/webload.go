package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/internal/clock"
)

// webOptions are the knobs of `web`.
type webOptions struct {
	sessions, viewers int
	pace              webPace
	span              time.Duration
	asJSON            bool
}

// runWebLoad measures the live web table with many viewers: the web server
// runs in a child process (web-server), the viewers here, each a
// goroutine with a raw TCP connection reading its table's SSE stream as a
// browser's EventSource does.
func runWebLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	var o webOptions
	fs.IntVar(&o.sessions, "sessions", 1, "tables, each streaming speeches")
	fs.IntVar(&o.viewers, "viewers", 1000, "viewers per table")
	fs.IntVar(&o.pace.Speakers, "speakers", 1, "concurrent speeches per table (6: a concurrent stage)")
	fs.IntVar(&o.pace.TPS, "tps", 40, "model tokens per second")
	fs.IntVar(&o.pace.Chunk, "chunk", 4, "tokens per chunk (one event)")
	fs.IntVar(&o.pace.Tokens, "tokens", 200, "tokens per speech")
	fs.DurationVar(&o.span, "duration", 20*time.Second, "how long the tables stream")
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.sessions < 1 || o.viewers < 1 || o.span <= 0 {
		return errors.New("web: -sessions, -viewers and -duration must be positive")
	}
	r, err := webLoad(ctx, o, stderr)
	if err != nil {
		return err
	}
	return printReport(stdout, r, o.asJSON)
}

// printReport prints a run's report as text, or as indented JSON.
func printReport(w io.Writer, r interface{ writeText(io.Writer) }, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.writeText(w)
	return nil
}

// WebReport is what a `web` run measured.
type WebReport struct {
	Sessions          int     `json:"sessions"`
	ViewersPerSession int     `json:"viewers_per_session"`
	Viewers           int     `json:"viewers"`
	Speakers          int     `json:"speakers_per_session"`
	EventsPerSecond   float64 `json:"events_per_second"` // deltas handed over, all tables
	Seconds           float64 `json:"seconds"`
	Deltas            int     `json:"deltas"`     // chunks handed over
	Deliveries        int     `json:"deliveries"` // chunks read by viewers
	Missing           int     `json:"missing"`    // deltas × viewers per session − deliveries
	P50Ms             float64 `json:"token_to_viewer_p50_ms"`
	P99Ms             float64 `json:"token_to_viewer_p99_ms"`
	MaxMs             float64 `json:"token_to_viewer_max_ms"`
	// IdleBytesPerViewer is the server's heap and goroutine stacks (after
	// a GC) per connected idle viewer; IdleRSSPerViewer its resident set.
	IdleBytesPerViewer  float64 `json:"idle_bytes_per_viewer"`
	IdleStackPerViewer  float64 `json:"idle_stack_bytes_per_viewer"`
	IdleRSSPerViewer    float64 `json:"idle_rss_bytes_per_viewer"`
	GoroutinesPerViewer float64 `json:"server_goroutines_per_viewer"`
	ServerRSSMB         float64 `json:"server_rss_mb_after"`
	// ServerCPU and ClientCPU are cores used while streaming (CPU seconds
	// over wall seconds): the server process and this one (the viewers).
	ServerCPU float64 `json:"server_cpu_cores"`
	ClientCPU float64 `json:"client_cpu_cores"`
}

// webViewer is one viewer's connection and what it measured.
type webViewer struct {
	conn   net.Conn
	delays []time.Duration
	deltas int
	mu     sync.Mutex
}

func webLoad(ctx context.Context, o webOptions, stderr io.Writer) (*WebReport, error) {
	srv, err := startChild(ctx, stderr, "web-server", "-sessions", strconv.Itoa(o.sessions),
		"-speakers", strconv.Itoa(o.pace.Speakers), "-tps", strconv.Itoa(o.pace.TPS),
		"-chunk", strconv.Itoa(o.pace.Chunk), "-tokens", strconv.Itoa(o.pace.Tokens))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	u, err := url.Parse(srv.url)
	if err != nil {
		return nil, fmt.Errorf("web-server url: %w", err)
	}
	var tables []tableLink
	if err := srv.call(ctx, "/_load/tables", nil, &tables); err != nil {
		return nil, err
	}
	var base, idle, after serverStats
	if err := srv.call(ctx, "/_load/stats", nil, &base); err != nil {
		return nil, err
	}
	var viewers []*webViewer
	var wg sync.WaitGroup
	defer func() {
		for _, v := range viewers {
			v.conn.Close()
		}
		wg.Wait()
	}()
	for _, t := range tables {
		for range o.viewers {
			v, br, err := connectViewer(u.Host, t)
			if err != nil {
				return nil, err
			}
			viewers = append(viewers, v)
			wg.Add(1)
			go func() {
				defer wg.Done()
				v.read(br)
			}()
		}
	}
	if err := srv.call(ctx, "/_load/stats", nil, &idle); err != nil {
		return nil, err
	}
	start, cpu0, self0 := time.Now(), srv.cpuSeconds(), pidCPUSeconds(os.Getpid())
	var ok map[string]string
	if err := srv.call(ctx, "/_load/stream", struct{}{}, &ok); err != nil {
		return nil, err
	}
	if err := clock.Sleep(ctx, o.span); err != nil {
		return nil, err
	}
	if err := srv.call(ctx, "/_load/stop", struct{}{}, &ok); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	cpu, self := srv.cpuSeconds()-cpu0, pidCPUSeconds(os.Getpid())-self0
	if err := srv.call(ctx, "/_load/stats", nil, &after); err != nil {
		return nil, err
	}
	// The last chunks may still be on their way: wait (bounded) for every
	// viewer to have them all; what never arrives is reported as missing.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if delivered(viewers) >= after.Deltas*o.viewers {
			break
		}
		if err := clock.Sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	n := float64(len(viewers))
	r := &WebReport{Sessions: o.sessions, ViewersPerSession: o.viewers, Viewers: len(viewers), Speakers: o.pace.Speakers,
		Seconds: wall, Deltas: after.Deltas, EventsPerSecond: float64(after.Deltas) / wall,
		IdleBytesPerViewer:  float64(int64(idle.HeapBytes+idle.StackBytes)-int64(base.HeapBytes+base.StackBytes)) / n,
		IdleStackPerViewer:  float64(int64(idle.StackBytes)-int64(base.StackBytes)) / n,
		IdleRSSPerViewer:    float64(idle.RSSKB-base.RSSKB) * 1024 / n,
		GoroutinesPerViewer: float64(idle.Goroutines-base.Goroutines) / n,
		ServerRSSMB:         float64(after.RSSKB) / 1024,
		ServerCPU:           cpu / wall, ClientCPU: self / wall}
	var all []time.Duration
	for _, v := range viewers {
		v.mu.Lock()
		all = append(all, v.delays...)
		r.Deliveries += v.deltas
		v.mu.Unlock()
	}
	r.Missing = after.Deltas*o.viewers - r.Deliveries // a table's chunks go to its own viewers
	if len(all) > 0 {
		slices.Sort(all)
		r.P50Ms, r.P99Ms, r.MaxMs = ms(all[len(all)/2]), ms(all[len(all)*99/100]), ms(all[len(all)-1])
	}
	return r, nil
}

func delivered(viewers []*webViewer) int {
	n := 0
	for _, v := range viewers {
		v.mu.Lock()
		n += v.deltas
		v.mu.Unlock()
	}
	return n
}

// connectViewer opens a table's event stream as EventSource does and
// returns once the stream is established (its retry line read).
func connectViewer(host string, t tableLink) (*webViewer, *bufio.Reader, error) {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return nil, nil, fmt.Errorf("viewer: %w", err)
	}
	fmt.Fprintf(conn, "GET /s/%s/events?k=%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n", t.ID, t.View, host)
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		conn.Close()
		return nil, nil, fmt.Errorf("viewer: stream answered %q: %v", strings.TrimSpace(status), err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("viewer: no retry line: %w", err)
		}
		if strings.HasPrefix(line, "retry:") {
			return &webViewer{conn: conn}, br, nil
		}
	}
}

// read reads the stream until it ends, timing each chunk of each delta.
func (v *webViewer) read(br *bufio.Reader) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		now := time.Now()
		if !bytes.HasPrefix(line, []byte(`data: {"t":"delta"`)) {
			continue
		}
		stamps := chunkStamps(line)
		v.mu.Lock()
		for _, s := range stamps {
			v.delays = append(v.delays, now.Sub(time.Unix(0, s)))
		}
		v.deltas += len(stamps)
		v.mu.Unlock()
	}
}

// chunkStamps returns the hand-over times ("@<unix ns>") in a line.
func chunkStamps(line []byte) []int64 {
	var out []int64
	for {
		i := bytes.IndexByte(line, stampMark)
		if i < 0 {
			return out
		}
		line = line[i+1:]
		j := 0
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if n, err := strconv.ParseInt(string(line[:j]), 10, 64); err == nil && j > 0 {
			out = append(out, n)
		}
		line = line[j:]
	}
}

func (r *WebReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "web table: %d session(s) × %d viewers = %d viewers, %d speech(es) at a time per session\n",
		r.Sessions, r.ViewersPerSession, r.Viewers, r.Speakers)
	fmt.Fprintf(w, "  streamed %.1f s: %d chunks handed over (%.0f/s), %d deliveries, %d missing\n",
		r.Seconds, r.Deltas, r.EventsPerSecond, r.Deliveries, r.Missing)
	fmt.Fprintf(w, "  token → viewer: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.P50Ms, r.P99Ms, r.MaxMs)
	fmt.Fprintf(w, "  per idle viewer (server): %.1f KB heap+stacks (%.1f KB stacks), %.1f KB RSS, %.2f goroutines\n",
		r.IdleBytesPerViewer/1024, r.IdleStackPerViewer/1024, r.IdleRSSPerViewer/1024, r.GoroutinesPerViewer)
	fmt.Fprintf(w, "  CPU while streaming: server %.2f cores, viewers %.2f cores; server RSS after %.1f MB\n",
		r.ServerCPU, r.ClientCPU, r.ServerRSSMB)
}
