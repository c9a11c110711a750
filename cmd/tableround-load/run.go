package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runOptions are the knobs of `run`.
type runOptions struct {
	sessions  int
	unlimited bool
	asJSON    bool
	verbose   bool
	people    time.Duration
	ramp      time.Duration // spread the mentions over this long
	timeout   time.Duration
	pace      pace
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var o runOptions
	fs.IntVar(&o.sessions, "sessions", 1, "concurrent sessions")
	fs.BoolVar(&o.unlimited, "unlimited", false, "raise the fake's and the adapter's limits (footprint)")
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.verbose, "v", false, "log the engine's warnings and errors")
	fs.DurationVar(&o.people, "people", time.Second, "people's-turn timeout (nobody answers in a load run)")
	fs.DurationVar(&o.ramp, "ramp", 0, "spread the N mentions evenly over this long (0: all at once)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	o.pace.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.sessions < 1 {
		return errors.New("run: -sessions must be at least 1")
	}
	r, err := load(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.writeText(stdout)
	return nil
}

// load runs one measurement: fakes in child processes, the engine here.
func load(ctx context.Context, o runOptions, stderr io.Writer) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	llm, err := startChild(ctx, stderr, append([]string{"fake-llm", "-addr", "127.0.0.1:0"}, o.pace.args()...)...)
	if err != nil {
		return nil, err
	}
	defer llm.stop()
	dargs := []string{"fake-discord", "-addr", "127.0.0.1:0"}
	if o.unlimited {
		dargs = append(dargs, "-unlimited")
	}
	dc, err := startChild(ctx, stderr, dargs...)
	if err != nil {
		return nil, err
	}
	defer dc.stop()
	var setup setupReply
	if err := dc.call(ctx, "/_load/setup", setupRequest{Channels: o.sessions}, &setup); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tableround-load-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	level := slog.LevelError + 4
	if o.verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	eng, err := newEngine(engineConfig{dir: dir, llmURL: llm.url, discordURL: dc.url, guild: setup.Guild,
		people: o.people, fastAdapter: o.unlimited, logger: logger})
	if err != nil {
		return nil, err
	}
	ectx, stopEngine := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.run(ectx) }()
	defer func() {
		stopEngine()
		<-done
	}()
	if err := waitFor(ctx, func() bool {
		var st fakeStats
		return dc.call(ctx, "/_load/stats", nil, &st) == nil && st.Connected == 1
	}); err != nil {
		return nil, fmt.Errorf("wait for the gateway: %w", err)
	}

	photos := make([][]byte, o.sessions) // made before the measurement starts
	for i := range photos {
		photos[i] = photo(i)
	}
	cpu0, rss0 := cpuSeconds(), vmKB("VmRSS")
	mentions := make([]time.Time, o.sessions)
	for i, ch := range setup.Channels {
		if i > 0 && o.ramp > 0 {
			if err := sleepUntil(ctx, mentions[0].Add(o.ramp*time.Duration(i)/time.Duration(o.sessions))); err != nil {
				return nil, err
			}
		}
		mentions[i] = time.Now()
		req := mentionRequest{Channel: ch, User: fmt.Sprintf("user%03d", i), FileName: "photo.jpg", FileType: "image/jpeg",
			Content: fmt.Sprintf("A paper-cut bookmark for travellers (load s%03d)", i), FileData: photos[i]}
		var reply map[string]string
		if err := dc.call(ctx, "/_load/mention", req, &reply); err != nil {
			return nil, err
		}
	}
	ends := make([]time.Time, o.sessions)
	failed, notStarted := 0, map[int]bool{}
	err = waitFor(ctx, func() bool {
		left := 0
		for i := range ends {
			if _, ok := eng.starts.key(i); !ok && !notStarted[i] && time.Since(mentions[i]) > startWait {
				notStarted[i] = true // the adapter never handed the mention to the manager
			}
			if ends[i].IsZero() && !notStarted[i] {
				if t, st, ok := eng.finished(ctx, i); ok {
					ends[i] = t
					if st != "finished" {
						failed++
					}
				} else {
					left++
				}
			}
		}
		return left == 0 && eng.mgr.Running() == 0
	})
	if err != nil {
		return nil, fmt.Errorf("wait for %d sessions (%d started): %w", o.sessions, eng.starts.started(), err)
	}
	cpu := cpuSeconds() - cpu0
	hwm := vmKB("VmHWM")

	var calls []Call
	var writes []Write
	var st fakeStats
	if err := llm.call(ctx, "/_load/calls", nil, &calls); err != nil {
		return nil, err
	}
	if err := dc.call(ctx, "/_load/writes", nil, &writes); err != nil {
		return nil, err
	}
	if err := dc.call(ctx, "/_load/stats", nil, &st); err != nil {
		return nil, err
	}
	in := runResult{opts: o, channels: setup.Channels, mentions: mentions, ends: ends, failed: failed, notStarted: len(notStarted),
		calls: calls, writes: writes, stats: st, cpu: cpu, baseRSSKB: rss0, peakRSSKB: hwm}
	return buildReport(in), nil
}

// startWait is how long a mention may take to become a session.
const startWait = 30 * time.Second

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// photo is a small generated JPEG, a little different per session.
func photo(i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{R: uint8(200 + (x+i)%56), G: uint8(y * 255 / 480), B: uint8((x * y / 97) % 256), A: 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 85})
	return b.Bytes()
}

// cpuSeconds is this process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// vmKB reads a field of /proc/self/status (VmRSS, VmHWM) in kB.
func vmKB(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	return 0
}
