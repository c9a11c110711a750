package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/providers/promptcache"
	"github.com/tableround/tableround/roundtable"
)

// pace is the fake model's speed (DESIGN §7's load profile by default).
type pace struct {
	TTFT           time.Duration
	TPS            float64
	Chunk          int
	MinTok, MaxTok int
	// CacheUnit and CacheMin are the prompt-cache rule the fake applies
	// (promptcache.Rule): DeepSeek's 64-token units by default.
	CacheUnit, CacheMin int
}

func (p *pace) flags(fs *flag.FlagSet) {
	fs.DurationVar(&p.TTFT, "ttft", 300*time.Millisecond, "model time to first token")
	fs.Float64Var(&p.TPS, "tps", 40, "model tokens per second (0: no delay)")
	fs.IntVar(&p.Chunk, "chunk", 4, "tokens per streamed chunk")
	fs.IntVar(&p.MinTok, "min", 120, "fewest tokens of a speech")
	fs.IntVar(&p.MaxTok, "max", 250, "most tokens of a speech")
	fs.IntVar(&p.CacheUnit, "cache-unit", 64, "prompt cache block, tokens (DeepSeek 64, OpenAI 128)")
	fs.IntVar(&p.CacheMin, "cache-min", 0, "fewest prompt tokens a cache hit needs (OpenAI 1024)")
}

func (p pace) args() []string {
	return []string{"-ttft", p.TTFT.String(), "-tps", strconv.FormatFloat(p.TPS, 'f', -1, 64),
		"-chunk", strconv.Itoa(p.Chunk), "-min", strconv.Itoa(p.MinTok), "-max", strconv.Itoa(p.MaxTok),
		"-cache-unit", strconv.Itoa(p.CacheUnit), "-cache-min", strconv.Itoa(p.CacheMin)}
}

// Chunk is one streamed piece: when it was flushed and how many letters
// and digits of the call's text (after its marker) had been sent by then.
type Chunk struct {
	T int64 `json:"t"` // Unix nanoseconds
	N int   `json:"n"`
}

// Call is what the fake model recorded of one completion.
type Call struct {
	ID      int     `json:"id"`
	Stage   string  `json:"stage"`
	Persona string  `json:"persona,omitempty"`
	Session int     `json:"session"` // from the topic; -1 when the prompt has none (vision)
	Marker  string  `json:"marker,omitempty"`
	Proto   string  `json:"proto"` // the request's protocol: HTTP/2.0 or HTTP/1.1
	Start   int64   `json:"start"`
	End     int64   `json:"end"`
	Chunks  []Chunk `json:"chunks"`
	// Input, Cached and Output are the tokens the fake reported in the
	// call's usage: the prompt's estimate, the part of it an earlier call
	// of the same session had sent and had been answered (the prefix rule
	// of promptcache), and the reply's estimate.
	Input  int `json:"input"`
	Cached int `json:"cached"`
	Output int `json:"output"`
}

type fakeLLM struct {
	p      pace
	mu     sync.Mutex
	next   int
	calls  []Call
	caches map[int]*promptcache.Cache // per session (-1: calls without a topic)
}

// cache is the session's simulated prompt cache. Each session has its
// own, so the share measured does not depend on how many run at once.
func (f *fakeLLM) cache(session int) *promptcache.Cache {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.caches[session]
	if !ok {
		c = promptcache.New(promptcache.Rule{Unit: f.p.CacheUnit, Min: f.p.CacheMin})
		f.caches[session] = c
	}
	return c
}

func runFakeLLM(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fake-llm", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	certFile := fs.String("cert", "", "serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate (PEM) and -key")
	keyFile := fs.String("key", "", "the certificate's key (PEM)")
	f := &fakeLLM{caches: map[int]*promptcache.Cache{}}
	f.p.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.complete)
	mux.HandleFunc("GET /_load/calls", f.records)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return serveTLS(ctx, ln, mux, stdout, *certFile, *keyFile)
}

// serveTLS prints "listening http(s)://ADDR" for the parent and serves
// until ctx ends: HTTPS (ALPN offers HTTP/2, then HTTP/1.1) with a
// certificate, plain HTTP/1.1 without.
func serveTLS(ctx context.Context, ln net.Listener, h http.Handler, stdout io.Writer, certFile, keyFile string) error {
	srv := &http.Server{Handler: h}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "listening %s://%s\n", scheme, ln.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	var err error
	if certFile != "" {
		err = srv.ServeTLS(ln, certFile, keyFile)
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func (f *fakeLLM) records(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(f.calls)
}

var (
	personaRe = regexp.MustCompile(`You are\s*([^,]+),`)
	topicRe   = regexp.MustCompile(`«([^»]*)»`)
	sessionRe = regexp.MustCompile(`load s(\d+)`)
)

// prose stages are shown as speeches; the others answer with JSON.
var jsonStages = map[string]bool{roundtable.StageKeywords: true, roundtable.StageVoting: true, roundtable.StageKJ: true}

func (f *fakeLLM) complete(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var body struct {
		MaxTokens int `json:"max_tokens"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"message":"bad request body"}}`, http.StatusBadRequest)
		return
	}
	// The persona card is the last system message and the task the last
	// user message; the topic (and the session's number in it) is in the
	// shared context, an earlier user message.
	var system, user, all string
	msgs := make([]providers.Message, 0, len(body.Messages))
	for _, m := range body.Messages {
		text := contentText(m.Content)
		msgs = append(msgs, providers.Message{Role: providers.Role(m.Role), Content: text})
		switch m.Role {
		case "system":
			system = text
		case "user":
			user = text
			all += text + "\n"
		}
	}
	stage := roundtable.StageOfPrompt(user)
	c := Call{Stage: stage, Session: -1, Proto: r.Proto, Start: start.UnixNano()}
	if m := personaRe.FindStringSubmatch(system); m != nil {
		c.Persona = strings.TrimSpace(m[1])
	}
	if m := sessionRe.FindStringSubmatch(all); m != nil {
		c.Session, _ = strconv.Atoi(m[1])
	}
	f.mu.Lock()
	f.next++
	c.ID = f.next
	f.mu.Unlock()
	req := providers.Request{Tag: stage + "/" + c.Persona + "/en", Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: system}, {Role: providers.RoleUser, Content: user}}}
	text := demo.Reply(req)
	if !jsonStages[stage] {
		c.Marker = fmt.Sprintf("c%dk", c.ID)
		text = c.Marker + " " + pad(text, stage, f.p.speechTokens(c.ID, body.MaxTokens))
	}
	cache, prompt := f.cache(c.Session), promptcache.Text(msgs)
	c.Input, c.Cached = cache.Lookup(prompt)
	c.Output = roundtable.EstimateTokens(text)
	c.Chunks = f.stream(r.Context(), w, c, text, func() { cache.Store(prompt) })
	c.End = time.Now().UnixNano()
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

// stream writes text as SSE chunks at the set pace and returns when each
// was flushed; answered is called with the first chunk (from then on the
// prompt is in the provider's cache). The reply ends with a usage chunk in
// OpenAI's shape, cached tokens included.
func (f *fakeLLM) stream(ctx context.Context, w http.ResponseWriter, c Call, text string, answered func()) []Chunk {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	// Each chunk is one event, written and flushed on its own as a real
	// API sends it; the JSON around the text is made once (the fake's CPU
	// is taken from the bot's share of the machine).
	id, _ := json.Marshal(c.Marker)
	head := []byte(`data: {"id":` + string(id) + `,"object":"chat.completion.chunk","model":"fake","choices":[{"index":0,"delta":{"content":`)
	const tail = `},"finish_reason":null}]}` + "\n\n"
	buf := make([]byte, 0, 512)
	send := func(piece string) {
		q, _ := json.Marshal(piece)
		buf = append(append(append(buf[:0], head...), q...), tail...)
		_, _ = w.Write(buf)
		if fl != nil {
			fl.Flush()
		}
	}
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	var per time.Duration
	if f.p.TPS > 0 {
		per = time.Duration(float64(f.p.Chunk) / f.p.TPS * float64(time.Second))
	}
	first := time.Unix(0, c.Start).Add(f.p.TTFT)
	var out []Chunk
	sent := 0
	for i, piece := range chunkWords(text, f.p.Chunk) {
		if err := sleepUntil(ctx, first.Add(time.Duration(i)*per)); err != nil {
			return out
		}
		if i == 0 {
			answered()
		}
		send(piece)
		sent += alnum(piece)
		n := sent - alnum(c.Marker)
		if c.Marker == "" {
			n = sent
		}
		out = append(out, Chunk{T: time.Now().UnixNano(), N: n})
	}
	fmt.Fprintf(w, "data: {\"id\":%s,\"object\":\"chat.completion.chunk\",\"model\":\"fake\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", id)
	fmt.Fprintf(w, "data: {\"id\":%s,\"object\":\"chat.completion.chunk\",\"model\":\"fake\",\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d,\"prompt_tokens_details\":{\"cached_tokens\":%d}}}\n\ndata: [DONE]\n\n",
		id, c.Input, c.Output, c.Input+c.Output, c.Cached)
	if fl != nil {
		fl.Flush()
	}
	return out
}

func sleepUntil(ctx context.Context, t time.Time) error { return clock.Sleep(ctx, time.Until(t)) }

// speechTokens is a deterministic length in [MinTok, MaxTok], capped by
// the request's max_tokens.
func (p pace) speechTokens(id, maxTokens int) int {
	h := fnv.New32a()
	fmt.Fprint(h, id)
	n := p.MinTok
	if p.MaxTok > p.MinTok {
		n += int(h.Sum32() % uint32(p.MaxTok-p.MinTok+1))
	}
	if maxTokens > 0 && n > maxTokens {
		n = maxTokens
	}
	return n
}

var filler = strings.Fields("and so we keep the cut clean with red paper that folds well for a gift people use every day at home or on the road")

// pad lengthens a scripted reply to about n words with filler, keeping a
// trailing "Keywords:" line last (the engine parses it).
func pad(text, stage string, n int) string {
	tail := ""
	if i := strings.LastIndex(text, "\nKeywords:"); i >= 0 {
		text, tail = text[:i], text[i:]
	}
	words := len(strings.Fields(text)) + len(strings.Fields(tail)) + 1
	if words >= n {
		return text + tail
	}
	extra := make([]string, 0, n-words)
	for i := 0; len(extra) < n-words; i++ {
		extra = append(extra, filler[i%len(filler)])
	}
	sep := " "
	if stage == roundtable.StageCards {
		sep = "\nNotes: "
	}
	return text + sep + strings.Join(extra, " ") + "." + tail
}

// chunkWords splits text into pieces of n words (a word ends at a space or
// a newline, which stays with it).
func chunkWords(text string, n int) []string {
	if n <= 0 {
		n = 4
	}
	var out []string
	words, last := 0, 0
	for i, r := range text {
		if r == ' ' || r == '\n' {
			words++
			if words == n {
				out = append(out, text[last:i+1])
				last, words = i+1, 0
			}
		}
	}
	if last < len(text) {
		out = append(out, text[last:])
	}
	return out
}

func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}
