package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/promptcache"
)

// GeminiReply scripts the answer to one streamGenerateContent request.
type GeminiReply struct {
	Status int    // 0 means 200
	Body   string // the body of a non-200 answer

	Text         string
	Thought      string // sent first as a part with "thought": true
	ChunkSize    int    // runes per chunk; default 4
	FinishReason string // default "STOP"
	BlockReason  string // promptFeedback.blockReason, sent instead of content
	CutAfter     int    // abort the connection after that many chunks
}

// Gemini is a fake of the native Gemini streaming API.
type Gemini struct {
	*httptest.Server
	mu       sync.Mutex
	script   []GeminiReply
	requests []Request
	respond  func(Request) GeminiReply
	cache    *promptcache.Cache
}

// SimulateCache makes the fake report usageMetadata computed by the prefix
// rule of promptcache (promptTokenCount and cachedContentTokenCount), as
// Gemini 2.5's implicit caching does.
func (f *Gemini) SimulateCache(rule promptcache.Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cache = promptcache.New(rule)
}

// geminiText is the prompt of a generateContent body: the system
// instruction, then every content's text parts, in order.
func geminiText(body []byte) string {
	var req struct {
		SystemInstruction *struct {
			Parts []struct{ Text string } `json:"parts"`
		} `json:"systemInstruction"`
		Contents []struct {
			Role  string                  `json:"role"`
			Parts []struct{ Text string } `json:"parts"`
		} `json:"contents"`
	}
	_ = json.Unmarshal(body, &req)
	var msgs []providers.Message
	if si := req.SystemInstruction; si != nil {
		for _, p := range si.Parts {
			msgs = append(msgs, providers.Message{Role: providers.RoleSystem, Content: p.Text})
		}
	}
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			msgs = append(msgs, providers.Message{Role: providers.Role(c.Role), Content: p.Text})
		}
	}
	return promptcache.Text(msgs)
}

// RespondWith answers requests the script does not cover with fn, called
// outside the fake's lock (it may block).
func (f *Gemini) RespondWith(fn func(Request) GeminiReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respond = fn
}

// NewGemini starts a fake answering with replies in order, then "ok".
func NewGemini(t testing.TB, replies ...GeminiReply) *Gemini {
	f := &Gemini{script: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Requests returns the requests received so far (URL path in Path, query
// kept in Header["X-Query"] for checks).
func (f *Gemini) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *Gemini) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := r.Header.Clone()
	h.Set("X-Query", r.URL.RawQuery)
	f.mu.Lock()
	req := Request{Method: r.Method, Path: r.URL.Path, Header: h, Body: body}
	f.requests = append(f.requests, req)
	reply := GeminiReply{Text: "ok"}
	respond, cache := f.respond, f.cache
	if len(f.script) > 0 {
		reply, f.script, respond = f.script[0], f.script[1:], nil
	}
	f.mu.Unlock()
	prompt, cached := 10, 0
	if cache != nil {
		text := geminiText(body)
		prompt, cached = cache.Lookup(text)
		cache.Store(text)
	}
	if respond != nil {
		reply = respond(req)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(reply.Status)
		_, _ = io.WriteString(w, reply.Body)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		_, _ = io.WriteString(w, "data: "+string(b)+"\r\n\r\n")
		fl.Flush()
	}
	cand := func(parts []any, finish string) map[string]any {
		c := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
		if finish != "" {
			c["finishReason"] = finish
		}
		return map[string]any{"candidates": []any{c}, "modelVersion": "gemini-fake"}
	}
	if reply.BlockReason != "" {
		send(map[string]any{"promptFeedback": map[string]any{"blockReason": reply.BlockReason}})
		return
	}
	if reply.Thought != "" {
		send(cand([]any{map[string]any{"text": reply.Thought, "thought": true}}, ""))
	}
	chunks := Split(reply.Text, reply.ChunkSize)
	for i, c := range chunks {
		if reply.CutAfter > 0 && i == reply.CutAfter {
			panic(http.ErrAbortHandler)
		}
		finish := ""
		if i == len(chunks)-1 {
			finish = cmp(reply.FinishReason, "STOP")
		}
		m := cand([]any{map[string]any{"text": c}}, finish)
		if finish != "" {
			um := map[string]any{"promptTokenCount": prompt, "candidatesTokenCount": len(chunks), "totalTokenCount": prompt + len(chunks)}
			if cached > 0 {
				um["cachedContentTokenCount"] = cached
			}
			m["usageMetadata"] = um
		}
		send(m)
	}
	if len(chunks) == 0 {
		send(cand([]any{}, cmp(reply.FinishReason, "STOP")))
	}
}
