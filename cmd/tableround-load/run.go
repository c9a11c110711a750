package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tableround/tableround/store/redis/redistest"
)

// runOptions are the knobs of `run`.
type runOptions struct {
	sessions int
	limits   string // limitsDiscord, limitsRaised or limitsNone
	llmHTTP1 bool   // the fake model speaks plain HTTP/1.1 (a local model) instead of HTTP/2 over TLS
	nice     int    // the fakes' niceness
	redis    bool   // the store is a redis-server the run starts, not the embedded one
	asJSON   bool
	verbose  bool
	people   time.Duration
	stagger  int           // the engine's StaggerMinTokens
	ramp     time.Duration // spread the mentions over this long
	timeout  time.Duration
	pace     pace
	// cpuProfile and memProfile are files for a CPU profile of the
	// measured span and a heap profile taken at the highest RSS.
	cpuProfile, memProfile string
	// platform is platformDiscord or platformTelegram; chats (Telegram)
	// chatsPrivate or chatsGroup; personaBots gives the six seats their
	// own Telegram bots.
	platform, chats string
	personaBots     bool
	warm            bool   // one unmeasured session first
	records         string // file for the raw calls and writes
	// memLimit is the Go runtime's soft memory limit for the run process,
	// as GOMEMLIMIT sets it for serve (by default serve takes 90 % of a
	// container's limit); 0 leaves the runtime's setting alone.
	memLimit int64
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var o runOptions
	fs.IntVar(&o.sessions, "sessions", 1, "concurrent sessions")
	fs.StringVar(&o.limits, "limits", limitsDiscord, "discord (Discord's limits), raised (per-webhook and per-message limits, no global one: a large bot's) or none (nothing enforced, the adapter edits every 50 ms)")
	fs.BoolVar(&o.llmHTTP1, "llm-http1", false, "the fake model speaks plain HTTP/1.1, as a local model (Ollama) does, instead of HTTP/2 over TLS as the hosted providers do")
	fs.IntVar(&o.nice, "fakes-nice", 10, "niceness of the fakes' processes (0-19): they stand for remote services, so the bot gets the cores first; 0 shares them evenly")
	fs.BoolVar(&o.redis, "redis", false, "store sessions in a redis-server the run starts (AOF on, as deploy/ runs it; niced like the fakes) instead of the embedded bbolt file")
	fs.BoolFunc("unlimited", "same as -limits none", func(string) error { o.limits = limitsNone; return nil })
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.verbose, "v", false, "log the engine's warnings and errors")
	fs.IntVar(&o.stagger, "stagger", 1024, "STAGGER_MIN_TOKENS of the engine: concurrent stages with a shared prefix this long send one call first (0: all six at once)")
	fs.DurationVar(&o.people, "people", time.Second, "people's-turn timeout (nobody answers in a load run)")
	fs.DurationVar(&o.ramp, "ramp", 0, "spread the N mentions evenly over this long (0: all at once)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run process (first mention to the end) to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken at the run process's highest RSS to this file (and its goroutine profile to FILE.goroutines)")
	fs.Func("memlimit", "soft memory limit of the run process (e.g. 200MiB), as GOMEMLIMIT sets it for serve; the fakes are not limited", func(v string) error {
		n, err := parseBytes(v)
		o.memLimit = n
		return err
	})
	fs.StringVar(&o.platform, "platform", platformDiscord, "discord or telegram")
	fs.StringVar(&o.chats, "chats", chatsPrivate, "Telegram: private chats or groups")
	fs.StringVar(&o.records, "records", "", "write the fake model's calls and the fake platform's writes to this JSON file, for analysis")
	fs.BoolVar(&o.warm, "warm", false, "run one session to its end before the measured ones (a warm process); without it the first sessions are a fresh process's")
	fs.BoolVar(&o.personaBots, "persona-bots", false, "Telegram: six persona bots post the seats (TELEGRAM_PERSONA_TOKENS)")
	o.pace.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.checkPlatform(); err != nil {
		return err
	}
	if o.sessions < 1 {
		return errors.New("run: -sessions must be at least 1")
	}
	if o.memLimit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(o.memLimit))
	}
	r, err := load(ctx, o, stderr)
	if err != nil {
		return err
	}
	return printReport(stdout, r, o.asJSON)
}

// load runs one measurement: fakes in child processes, the engine here.
func load(ctx context.Context, o runOptions, stderr io.Writer) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "tableround-load-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	largs := append([]string{"fake-llm", "-addr", "127.0.0.1:0"}, o.pace.args()...)
	// Each client gets its own tls.Config: a transport adds its ALPN
	// protocols to the one it is given.
	var cert *localCert
	if !o.llmHTTP1 {
		if cert, err = newLocalCert(dir); err != nil {
			return nil, err
		}
		largs = append(largs, "-cert", cert.certFile, "-key", cert.keyFile)
	}
	llm, err := startChild(ctx, stderr, largs...)
	if err != nil {
		return nil, err
	}
	defer llm.stop()
	var llmTLS *tls.Config
	if cert != nil {
		llm.client = &http.Client{Transport: &http.Transport{TLSClientConfig: cert.tlsConfig()}}
		llmTLS = cert.tlsConfig()
	}
	dargs := o.platformFakeArgs()
	dc, err := startChild(ctx, stderr, dargs...)
	if err != nil {
		return nil, err
	}
	defer dc.stop()
	for _, c := range []*child{llm, dc} {
		if err := c.renice(o.nice); err != nil {
			return nil, err
		}
	}
	var rds *redistest.Server
	if o.redis {
		if rds, err = redistest.Start(redistest.FreePort(), dir); err != nil {
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		defer rds.Stop()
		if err := renice("redis-server", rds.Pid(), o.nice); err != nil {
			return nil, err
		}
	}
	var setup setupReply
	if err := dc.call(ctx, "/_load/setup", setupRequest{Channels: o.sessions + o.warmChannels()}, &setup); err != nil {
		return nil, err
	}
	level := slog.LevelError + 4
	if o.verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	redisURL := ""
	if rds != nil {
		redisURL = rds.URL(0)
	}
	eng, err := newEngine(engineConfig{dir: dir, llmURL: llm.url, llmTLS: llmTLS, redisURL: redisURL, discordURL: dc.url, guild: setup.Guild,
		people: o.people, stagger: o.stagger, limits: o.limits, logger: logger, platform: o.platform, personaBots: o.personaBots})
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
	if o.warm {
		if err := warmUp(ctx, dc, eng, setup.Channels[o.sessions], o.sessions); err != nil {
			return nil, err
		}
		setup.Channels = setup.Channels[:o.sessions]
	}
	measured := time.Now() // the warm-up's calls and writes are left out

	cpu0, rss0 := cpuSeconds(), vmKB("VmRSS")
	llmCPU0, discordCPU0 := llm.cpuSeconds(), dc.cpuSeconds()
	redisCPU := func() float64 { return 0 }
	if rds != nil {
		redisCPU = func() float64 { return pidCPUSeconds(rds.Pid()) }
	}
	redisCPU0 := redisCPU()
	prof, err := startProfiler(o.cpuProfile, o.memProfile)
	if err != nil {
		return nil, err
	}
	mentions := make([]time.Time, o.sessions)
	for i, ch := range setup.Channels {
		if i > 0 && o.ramp > 0 {
			if err := sleepUntil(ctx, mentions[0].Add(o.ramp*time.Duration(i)/time.Duration(o.sessions))); err != nil {
				return nil, err
			}
		}
		mentions[i] = time.Now()
		req := mentionRequest{Channel: ch, User: fmt.Sprintf("user%03d", i), FileName: "photo.jpg", FileType: "image/jpeg",
			Content: fmt.Sprintf("A paper-cut bookmark for travellers (load s%03d)", i), Photo: &i}
		var reply map[string]string
		if err := dc.call(ctx, "/_load/mention", req, &reply); err != nil {
			return nil, err
		}
	}
	ends := make([]time.Time, o.sessions)
	failed, notStarted := 0, map[int]bool{}
	// The store is read once a second: a session's end time is the
	// UpdatedAt it stored, not when it was seen, and reading every
	// session's record more often costs CPU that counts as the bot's.
	var idleSince time.Time // when the manager was last seen running nothing while sessions were left
	suspended := 0
	err = waitEvery(ctx, time.Second, func() bool {
		left, leftStarted := 0, 0
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
					if _, ok := eng.starts.key(i); ok {
						leftStarted++
					}
				}
			}
		}
		running := eng.mgr.Running()
		if leftStarted > 0 && running == 0 {
			// Sessions left that nothing runs were suspended (a lost lease;
			// the tool resumes nothing): count them as failed and stop
			// waiting, rather than until -timeout.
			if idleSince.IsZero() {
				idleSince = time.Now()
			} else if time.Since(idleSince) > suspendedWait {
				for i := range ends {
					if _, ok := eng.starts.key(i); ok && ends[i].IsZero() {
						ends[i] = time.Now()
						failed++
						suspended++
					}
				}
				return left == leftStarted
			}
		} else {
			idleSince = time.Time{}
		}
		return left == 0 && running == 0
	})
	if suspended > 0 {
		fmt.Fprintf(stderr, "tableround-load: %d session(s) stopped without finishing (suspended); counted as failed\n", suspended)
	}
	cpu := cpuSeconds() - cpu0
	hwm := vmKB("VmHWM")
	fakesCPU := [3]float64{llm.cpuSeconds() - llmCPU0, dc.cpuSeconds() - discordCPU0, redisCPU() - redisCPU0}
	pk, perr := prof.finish(ctx)
	if err != nil {
		return nil, fmt.Errorf("wait for %d sessions (%d started): %w", o.sessions, eng.starts.started(), err)
	}
	if perr != nil {
		return nil, perr
	}

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
	calls, writes = since(measured, calls, writes)
	if err := saveRecords(o.records, calls, writes); err != nil {
		return nil, err
	}
	in := runResult{opts: o, channels: setup.Channels, mentions: mentions, ends: ends, failed: failed, notStarted: len(notStarted),
		calls: calls, writes: writes, stats: st, cpu: cpu, baseRSSKB: rss0, peakRSSKB: hwm,
		peaks: pk, fakesCPU: fakesCPU, engineLags: eng.lags.all()}
	return buildReport(in), nil
}

// startWait is how long a mention may take to become a session.
const startWait = 30 * time.Second

// suspendedWait is how long the manager may run nothing while sessions
// have not finished before they are counted as failed.
const suspendedWait = 10 * time.Second

// waitFor polls cond every 200 ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	return waitEvery(ctx, 200*time.Millisecond, cond)
}

// waitEvery polls cond every d until it holds or ctx ends.
func waitEvery(ctx context.Context, d time.Duration, cond func() bool) error {
	t := time.NewTicker(d)
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
func vmKB(field string) int { return vmKBs(field)[0] }

// vmKBs reads several fields of /proc/self/status in kB from one read (0
// for a field it cannot read).
func vmKBs(fields ...string) []int {
	out := make([]int, len(fields))
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		for i, f := range fields {
			if rest, ok := strings.CutPrefix(line, f+":"); ok {
				out[i], _ = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			}
		}
	}
	return out
}

// parseBytes reads a size as GOMEMLIMIT writes it: a number of bytes with an
// optional B, KiB, MiB or GiB suffix.
func parseBytes(v string) (int64, error) {
	num, mult := v, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes with an optional B, KiB, MiB or GiB suffix", v)
	}
	return n * mult, nil
}
