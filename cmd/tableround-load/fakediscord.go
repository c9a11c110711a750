package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/httpx"
)

// loadToken is the bot token the run and its fake Discord share.
const loadToken = "load-token"

// Write is one message write the fake Discord answered: a create or an
// edit of a bot or webhook message, with the call marker it carried and
// how many letters and digits followed the marker.
type Write struct {
	T       int64  `json:"t"` // Unix nanoseconds, when the fake answered
	Edit    bool   `json:"edit"`
	Status  int    `json:"status"`
	Channel string `json:"channel"`
	Message string `json:"message"`
	Marker  string `json:"marker,omitempty"`
	N       int    `json:"n"`
	Limit   string `json:"limit,omitempty"` // a 429's X-RateLimit-Scope, or "global"
}

// fakeDiscord is discordfake behind a recording reverse proxy, with a
// control API for the load generator under /_load/.
type fakeDiscord struct {
	fake  *discordfake.Server
	proxy *httputil.ReverseProxy
	self  string // the proxy's base URL

	mu     sync.Mutex
	writes []Write
	guild  string
}

func runFakeDiscord(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fake-discord", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	unlimited := fs.Bool("unlimited", false, "raise Discord's limits (footprint runs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lim := discordfake.DiscordLimits()
	if *unlimited {
		lim = discordfake.Limits{}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	f := newFakeDiscord(discordfake.New(discordfake.Options{Token: loadToken, Limits: lim}), "http://"+ln.Addr().String())
	defer f.fake.Close()
	return serve(ctx, ln, f.handler(), stdout)
}

func newFakeDiscord(fake *discordfake.Server, self string) *fakeDiscord {
	f := &fakeDiscord{fake: fake, self: self}
	target, _ := url.Parse(fake.URL())
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// discordgo dials "<gateway>/?v=9"; the fake routes "/ws" only.
			if strings.HasPrefix(r.Out.URL.Path, "/ws") {
				r.Out.URL.Path = "/ws"
			}
		},
		ModifyResponse: f.inspect,
		// As many idle connections to the fake as the bot keeps to the
		// proxy: with DefaultTransport's 2 the proxy dialled the fake for
		// nearly every write, CPU taken from the bot's share.
		Transport: httpx.PooledTransport(1024),
	}
	return f
}

func (f *fakeDiscord) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_load/setup", f.setup)
	mux.HandleFunc("POST /_load/mention", f.mention)
	mux.HandleFunc("GET /_load/writes", f.records)
	mux.HandleFunc("GET /_load/stats", f.stats)
	mux.HandleFunc("/", f.forward)
	return mux
}

type contentKey struct{}

// forward proxies a request to the fake, keeping a message write's content
// for inspect.
func (f *fakeDiscord) forward(w http.ResponseWriter, r *http.Request) {
	if isMessageWrite(r.Method, r.URL.Path) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if content, ok := requestContent(r.Header.Get("Content-Type"), raw); ok {
			r = r.WithContext(context.WithValue(r.Context(), contentKey{}, content))
		}
	}
	f.proxy.ServeHTTP(w, r)
}

// inspect points gateway discovery at the proxy and records message writes.
func (f *fakeDiscord) inspect(resp *http.Response) error {
	req := resp.Request
	path := req.URL.Path
	switch {
	case strings.HasSuffix(path, "/gateway") || strings.HasSuffix(path, "/gateway/bot"):
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		ws := func(u string) string { return "ws" + strings.TrimPrefix(u, "http") }
		body = bytes.ReplaceAll(body, []byte(ws(f.fake.URL())), []byte(ws(f.self)))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
	case isMessageWrite(req.Method, path):
		w := Write{T: time.Now().UnixNano(), Edit: req.Method == http.MethodPatch, Status: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests {
			w.Limit = resp.Header.Get("X-RateLimit-Scope")
			if resp.Header.Get("X-RateLimit-Global") == "true" {
				w.Limit = "global"
			}
		}
		if content, ok := req.Context().Value(contentKey{}).(string); ok {
			w.Marker, w.N = markerCount(content)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var m struct {
			ID        string `json:"id"`
			ChannelID string `json:"channel_id"`
		}
		_ = json.Unmarshal(body, &m)
		w.Channel, w.Message = m.ChannelID, m.ID
		f.mu.Lock()
		f.writes = append(f.writes, w)
		f.mu.Unlock()
	}
	return nil
}

// isMessageWrite matches webhook executes and edits and bot message
// creates and edits.
func isMessageWrite(method, path string) bool {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	for len(seg) > 0 && (seg[0] == "api" || strings.HasPrefix(seg[0], "v")) {
		seg = seg[1:]
	}
	switch {
	case len(seg) == 3 && seg[0] == "webhooks" && method == http.MethodPost:
		return true
	case len(seg) == 5 && seg[0] == "webhooks" && seg[3] == "messages" && method == http.MethodPatch:
		return true
	case len(seg) == 3 && seg[0] == "channels" && seg[2] == "messages" && method == http.MethodPost:
		return true
	case len(seg) == 4 && seg[0] == "channels" && seg[2] == "messages" && method == http.MethodPatch:
		return true
	}
	return false
}

// requestContent is the "content" of a JSON or multipart request body.
func requestContent(contentType string, raw []byte) (string, bool) {
	if mt, params, err := mime.ParseMediaType(contentType); err == nil && strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return "", false
			}
			if p.FormName() == "payload_json" {
				raw, _ = io.ReadAll(p)
				break
			}
		}
	}
	var body struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Content == nil {
		return "", false
	}
	return *body.Content, true
}
