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
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
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
	// Draft marks a Telegram draft (sendMessageDraft): visible, but not
	// the message's final text.
	Draft bool `json:"draft,omitempty"`
	// Bot is the Telegram bot account that wrote (its numeric ID): each
	// has its own budgets, and with persona bots a chat has seven.
	Bot string `json:"bot,omitempty"`
	// More are the further markers a write showed (a Telegram group's
	// merged message carries six speeches).
	More []Section `json:"more,omitempty"`
}

// Section is a call marker a write showed and the letters and digits of
// its text shown so far.
type Section struct {
	Marker string `json:"marker"`
	N      int    `json:"n"`
}

// fakeDiscord is discordfake with a recorder wrapped around its handler in
// the same process, and a control API for the load generator under
// /_load/. (It was a reverse proxy in front of the fake until 2026-12-04:
// the extra HTTP hop per write cost more CPU than the fake itself, CPU
// the bot shares on the measuring machine.)
type fakeDiscord struct {
	fake *discordfake.Server

	mu     sync.Mutex
	writes []Write
	guild  string
}

func runFakeDiscord(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fake-discord", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	limits := fs.String("limits", limitsDiscord, "the limits it enforces: discord, raised (no global limit) or none")
	unlimited := fs.Bool("unlimited", false, "same as -limits none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *unlimited {
		*limits = limitsNone
	}
	lim, err := fakeLimits(*limits)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	f := newFakeDiscord(discordfake.Options{Token: loadToken, Limits: lim, Listener: ln})
	defer f.fake.Close()
	fmt.Fprintf(stdout, "listening %s\n", f.fake.URL())
	<-ctx.Done()
	return nil
}

// The limit regimes of a run (see README.md).
const (
	limitsDiscord = "discord" // Discord's published limits
	limitsRaised  = "raised"  // per-webhook and per-message limits kept, the global one raised
	limitsNone    = "none"    // nothing enforced; the adapter edits every 50 ms
)

// raisedGlobalRate is the bot's DISCORD_GLOBAL_RATE under -limits raised:
// a global limit Discord might grant a large bot (the fake enforces none).
const raisedGlobalRate = 20_000

// fakeLimits are the limits the fake enforces in a regime.
func fakeLimits(regime string) (discordfake.Limits, error) {
	switch regime {
	case limitsDiscord:
		return discordfake.DiscordLimits(), nil
	case limitsRaised:
		l := discordfake.DiscordLimits()
		l.GlobalRequests, l.GlobalWindow = 0, 0
		return l, nil
	case limitsNone:
		return discordfake.Limits{}, nil
	}
	return discordfake.Limits{}, fmt.Errorf("unknown -limits %q (discord, raised or none)", regime)
}

// newFakeDiscord starts the fake with o and the recorder around it.
func newFakeDiscord(o discordfake.Options) *fakeDiscord {
	f := &fakeDiscord{}
	o.Wrap = f.wrap
	f.fake = discordfake.New(o)
	return f
}

func (f *fakeDiscord) wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_load/setup", f.setup)
	mux.HandleFunc("POST /_load/mention", f.mention)
	mux.HandleFunc("GET /_load/writes", f.records)
	mux.HandleFunc("GET /_load/stats", f.stats)
	mux.Handle("/", f.record(next))
	return mux
}

// record passes a request to the fake and records it when it is a message
// write.
func (f *fakeDiscord) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isMessageWrite(r.Method, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		wr := Write{T: time.Now().UnixNano(), Edit: r.Method == http.MethodPatch, Status: rec.status}
		if rec.status == http.StatusTooManyRequests {
			wr.Limit = w.Header().Get("X-RateLimit-Scope")
			if w.Header().Get("X-RateLimit-Global") == "true" {
				wr.Limit = "global"
			}
		}
		if content, ok := requestContent(r.Header.Get("Content-Type"), raw); ok {
			wr.Marker, wr.N = markerCount(content)
		}
		var m struct {
			ID        string `json:"id"`
			ChannelID string `json:"channel_id"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &m)
		wr.Channel, wr.Message = m.ChannelID, m.ID
		f.mu.Lock()
		f.writes = append(f.writes, wr)
		f.mu.Unlock()
	})
}

// recorder keeps a response's status and a copy of its body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
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
