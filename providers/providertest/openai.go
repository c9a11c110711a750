// Package providertest holds httptest fakes that speak the real wire formats
// of the model APIs: an OpenAI-compatible SSE server, Gemini and Volcengine
// Ark image generation. They script replies per request, record requests,
// inject failures (HTTP errors, cut and stalled streams, malformed chunks)
// and can hold requests at a barrier to prove that calls run concurrently.
//
// It is for tests only and must never be imported by production code.
package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/promptcache"
)

// Request is a request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// JSON decodes the request body into a generic map.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Usage is the usage chunk a Reply ends with.
type Usage struct {
	PromptTokens, CompletionTokens int
	Cost                           float64 // OpenRouter's usage.cost; 0 omits it
	// CachedTokens is sent as prompt_tokens_details.cached_tokens (OpenAI,
	// OpenRouter, Ark), or with DeepSeek set as prompt_cache_hit_tokens and
	// prompt_cache_miss_tokens.
	CachedTokens int
	DeepSeek     bool
}

// Reply scripts the answer to one chat completion request.
type Reply struct {
	Status int               // HTTP status; 0 means 200
	Header map[string]string // extra response headers (e.g. Retry-After)
	Body   string            // the whole body of a non-200 answer

	Text           string // visible content, streamed in chunks
	Reasoning      string // streamed before Text in ReasoningField
	ReasoningField string // "reasoning" (default, OpenRouter) or "reasoning_content" (DeepSeek)
	ChunkSize      int    // runes per content chunk; default 4
	// Chunks, when set, are the content fragments sent as they are (to split
	// <think> tags exactly); Text is then ignored.
	Chunks       []string
	FinishReason string // default "stop"
	Model        string // model field of the chunks; default "fake-model"
	Usage        *Usage // sent as a final chunk with "choices": []
	// Before are raw SSE lines written before the content, e.g.
	// ": OPENROUTER PROCESSING" or "data: {not json".
	Before []string
	// After are raw SSE lines written after the content and before [DONE],
	// e.g. an OpenRouter error object.
	After []string

	// CutAfter, when > 0, aborts the connection after that many content
	// chunks, with no [DONE].
	CutAfter int
	// StallAfter, when > 0, stops writing after that many content chunks
	// and holds the connection open until the client gives up.
	StallAfter int
	// NoDone omits the final "data: [DONE]".
	NoDone bool
}

// TextReply is a plain successful reply.
func TextReply(text string) Reply { return Reply{Text: text} }

// OpenAI is a fake OpenAI-compatible chat completions server. Its base URL
// (for a client's BaseURL) is URL()+"/v1".
type OpenAI struct {
	*httptest.Server

	mu       sync.Mutex
	script   []Reply
	requests []Request
	// Respond, when set, answers requests the script does not cover.
	respond func(Request) Reply

	cache    *promptcache.Cache
	deepSeek bool

	barrierN  int
	arrived   int
	gate      chan struct{}
	open, max int
}

// NewOpenAI starts a fake answering with replies in order; when they run
// out it answers "ok". The server is closed when the test ends.
func NewOpenAI(t testing.TB, replies ...Reply) *OpenAI {
	f := &OpenAI{script: replies, gate: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// BaseURL is the URL to configure a client with.
func (f *OpenAI) BaseURL() string { return f.URL + "/v1" }

// Push appends replies to the script.
func (f *OpenAI) Push(replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, replies...)
}

// RespondWith sets the function answering requests beyond the script, e.g.
// a reply chosen from the request's prompt.
func (f *OpenAI) RespondWith(fn func(Request) Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respond = fn
}

// Barrier makes the fake hold each request until n requests are open at
// once, then release them together (and again for the next n). n <= 1
// turns it off. A test that sees all its replies proves n calls ran
// concurrently, without timing anything.
func (f *OpenAI) Barrier(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.barrierN = n
}

// SimulateCache makes the fake end every reply that scripts no usage with
// a usage chunk computed by the prefix rule of promptcache: the prompt's
// estimated tokens and how many of them an earlier, already answered
// request had sent. With deepSeek the cached tokens are reported in
// DeepSeek's fields, else in OpenAI's.
func (f *OpenAI) SimulateCache(rule promptcache.Rule, deepSeek bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cache, f.deepSeek = promptcache.New(rule), deepSeek
}

// Requests returns the requests received so far.
func (f *OpenAI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// MaxOpen is the highest number of requests that were open at once.
func (f *OpenAI) MaxOpen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}

func (f *OpenAI) next(req Request) Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if len(f.script) > 0 {
		r := f.script[0]
		f.script = f.script[1:]
		return r
	}
	if f.respond != nil {
		fn := f.respond
		f.mu.Unlock()
		defer f.mu.Lock()
		return fn(req)
	}
	return TextReply("ok")
}

// enter counts an open request and waits at the barrier.
func (f *OpenAI) enter(r *http.Request) bool {
	f.mu.Lock()
	f.open++
	f.max = max(f.max, f.open)
	gate := f.gate
	if f.barrierN > 1 {
		f.arrived++
		if f.arrived >= f.barrierN {
			close(f.gate)
			f.gate, f.arrived = make(chan struct{}), 0
		}
	} else {
		gate = nil
	}
	f.mu.Unlock()
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (f *OpenAI) leave() {
	f.mu.Lock()
	f.open--
	f.mu.Unlock()
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	// A request stops counting as open before the end of its reply is
	// sent: a client that has read the end may send its next request on the
	// same kept-alive connection before this handler has returned.
	var once sync.Once
	leave := func() { once.Do(f.leave) }
	defer leave()
	if !f.enter(r) {
		return
	}
	reply := f.next(req)
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(reply.Status)
		_, _ = io.WriteString(w, reply.Body)
		return
	}
	f.mu.Lock()
	cache, deepSeek := f.cache, f.deepSeek
	f.mu.Unlock()
	if cache != nil && reply.Usage == nil {
		prompt := promptcache.Text(Messages(body))
		tokens, cached := cache.Lookup(prompt)
		cache.Store(prompt) // answered from here on, as at the first token
		reply.Usage = &Usage{PromptTokens: tokens, CachedTokens: cached, DeepSeek: deepSeek,
			CompletionTokens: len(Split(reply.Text, reply.ChunkSize)) + len(reply.Chunks)}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	writeSSE(w, r, reply, leave)
}

// writeSSE streams a scripted reply; ending is called just before the
// chunk with the finish reason, after which the client may see the end.
func writeSSE(w http.ResponseWriter, r *http.Request, reply Reply, ending func()) {
	fl, _ := w.(http.Flusher)
	line := func(s string) {
		_, _ = io.WriteString(w, s+"\n\n")
		if fl != nil {
			fl.Flush()
		}
	}
	model := cmp(reply.Model, "fake-model")
	chunk := func(delta map[string]any, finish any) string {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		return "data: " + string(b)
	}
	for _, l := range reply.Before {
		line(l)
	}
	line(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	field := cmp(reply.ReasoningField, "reasoning")
	for _, part := range Split(reply.Reasoning, reply.ChunkSize) {
		line(chunk(map[string]any{field: part}, nil))
	}
	parts := reply.Chunks
	if parts == nil {
		parts = Split(reply.Text, reply.ChunkSize)
	}
	for i, part := range parts {
		if reply.CutAfter > 0 && i == reply.CutAfter {
			panic(http.ErrAbortHandler) // drop the connection mid-stream
		}
		if reply.StallAfter > 0 && i == reply.StallAfter {
			<-r.Context().Done()
			return
		}
		line(chunk(map[string]any{"content": part}, nil))
	}
	for _, l := range reply.After {
		line(l)
	}
	ending()
	line(chunk(map[string]any{}, cmp(reply.FinishReason, "stop")))
	if u := reply.Usage; u != nil {
		usage := map[string]any{"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens,
			"total_tokens": u.PromptTokens + u.CompletionTokens}
		if u.Cost != 0 {
			usage["cost"] = u.Cost
		}
		if u.DeepSeek {
			usage["prompt_cache_hit_tokens"], usage["prompt_cache_miss_tokens"] = u.CachedTokens, u.PromptTokens-u.CachedTokens
		} else {
			usage["prompt_tokens_details"] = map[string]any{"cached_tokens": u.CachedTokens}
		}
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
			"choices": []any{}, "usage": usage})
		line("data: " + string(b))
	}
	if !reply.NoDone {
		line("data: [DONE]")
	}
}

// Split cuts s into pieces of n runes (4 when n <= 0).
func Split(s string, n int) []string {
	if n <= 0 {
		n = 4
	}
	var out []string
	for s != "" {
		i, k := 0, 0
		for i < len(s) && k < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			k++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ErrorBody is an OpenAI-style error body.
func ErrorBody(code any, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message}})
	return string(b)
}

// Messages decodes the messages of a chat completion request body, the
// text of content parts joined.
func Messages(body []byte) []providers.Message {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	out := make([]providers.Message, 0, len(req.Messages))
	for _, m := range req.Messages {
		out = append(out, providers.Message{Role: providers.Role(m.Role), Content: contentText(m.Content)})
	}
	return out
}

func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct{ Type, Text string }
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// LastUserText returns the text of the last user message of a chat
// completion request body (string or content parts).
func LastUserText(body []byte) string {
	msgs := Messages(body)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == providers.RoleUser {
			return msgs[i].Content
		}
	}
	return ""
}
