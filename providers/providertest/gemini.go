package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
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
	respond := f.respond
	if len(f.script) > 0 {
		reply, f.script, respond = f.script[0], f.script[1:], nil
	}
	f.mu.Unlock()
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
			m["usageMetadata"] = map[string]any{"promptTokenCount": 10, "candidatesTokenCount": len(chunks), "totalTokenCount": 10 + len(chunks)}
		}
		send(m)
	}
	if len(chunks) == 0 {
		send(cand([]any{}, cmp(reply.FinishReason, "STOP")))
	}
}
