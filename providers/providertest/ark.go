package providertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// ArkReply scripts the answer to one Ark /images/generations request. The
// response format is the one the request asks for (url by default, as Ark).
type ArkReply struct {
	Status int    // 0 means 200
	Body   string // the body of a non-200 answer
	Images [][]byte
}

// Ark is a fake of Volcengine Ark's image generation API. URLs it returns
// are served by the fake itself under /files/.
type Ark struct {
	*httptest.Server
	mu       sync.Mutex
	script   []ArkReply
	requests []Request
	files    map[string][]byte
}

// NewArk starts a fake answering with replies in order, then one tiny PNG.
func NewArk(t testing.TB, replies ...ArkReply) *Ark {
	f := &Ark{script: replies, files: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// BaseURL is the URL to configure a client with (like .../api/v3).
func (f *Ark) BaseURL() string { return f.URL + "/api/v3" }

// Requests returns the generation requests received so far.
func (f *Ark) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// PNG returns a tiny valid PNG header-prefixed payload for image tests.
func PNG() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00fake")
}

func (f *Ark) serve(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
		f.mu.Lock()
		data, found := f.files[name]
		f.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	reply := ArkReply{Images: [][]byte{PNG()}}
	if len(f.script) > 0 {
		reply, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.WriteHeader(reply.Status)
		_, _ = io.WriteString(w, reply.Body)
		return
	}
	var req struct {
		Model          string `json:"model"`
		ResponseFormat string `json:"response_format"`
	}
	_ = json.Unmarshal(body, &req)
	var data []map[string]string
	for _, img := range reply.Images {
		if req.ResponseFormat == "b64_json" {
			data = append(data, map[string]string{"b64_json": base64.StdEncoding.EncodeToString(img)})
			continue
		}
		f.mu.Lock()
		name := fmt.Sprintf("img-%d.png", len(f.files))
		f.files[name] = img
		f.mu.Unlock()
		data = append(data, map[string]string{"url": f.URL + "/files/" + name + "?X-Tos-Expires=86400"})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "created": 1, "data": data,
		"usage": map[string]int{"generated_images": len(data), "output_tokens": 4096 * len(data), "total_tokens": 4096 * len(data)}})
}
