package discordfake

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// frozen is a clock the test moves by hand.
type frozen struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozen) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozen) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// do sends one authorised JSON request and decodes the answer into out.
func do(t *testing.T, s *Server, method, path, body string, out any) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+"/api/v9"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if out == nil {
		out = &m
	}
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode, m
}

func createHook(t *testing.T, s *Server, channel string) (int, Webhook) {
	t.Helper()
	var h struct{ ID, Token string }
	st, _ := do(t, s, http.MethodPost, "/channels/"+channel+"/webhooks", `{"name":"TableRound"}`, &h)
	return st, Webhook{ID: h.ID, Token: h.Token}
}

const msg = `{"content":"hi","allowed_mentions":{"parse":[]}}`

func TestWebhookBucketIsPerWebhookID(t *testing.T) {
	clock := &frozen{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{Token: "tok", Limits: DiscordLimits(), Now: clock.Now})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	_, a := createHook(t, s, ch)
	_, b := createHook(t, s, ch)
	exec := func(h Webhook) int {
		st, _ := do(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg, nil)
		return st
	}
	for i := range 5 {
		if st := exec(a); st != http.StatusOK {
			t.Fatalf("execute %d on webhook A: %d", i+1, st)
		}
	}
	if st := exec(a); st != http.StatusTooManyRequests {
		t.Fatalf("6th execute on webhook A within 2 s: %d, want 429", st)
	}
	for i := range 5 { // B has a bucket of its own in the same channel
		if st := exec(b); st != http.StatusOK {
			t.Fatalf("execute %d on webhook B: %d, want 200 (buckets are per webhook)", i+1, st)
		}
	}
	clock.add(2 * time.Second)
	if st := exec(a); st != http.StatusOK {
		t.Fatalf("webhook A after its window: %d", st)
	}
	if n := s.RateLimited(); n != 1 {
		t.Errorf("429s = %d, want 1", n)
	}
}

func TestWebhookCapPerChannel(t *testing.T) {
	s := New(Options{Token: "tok"})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	other := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	for range 10 {
		s.AddWebhook(Webhook{ChannelID: ch, ApplicationID: "42"}) // another integration's
	}
	for i := range MaxWebhooksPerChannel - 10 {
		if st, _ := createHook(t, s, ch); st != http.StatusOK {
			t.Fatalf("create %d: %d", i+1, st)
		}
	}
	st, body := do(t, s, http.MethodPost, "/channels/"+ch+"/webhooks", `{"name":"TableRound"}`, nil)
	if st != http.StatusBadRequest || body["code"] != float64(30007) {
		t.Fatalf("16th webhook: %d %v, want 400 code 30007", st, body)
	}
	if st, _ := createHook(t, s, other); st != http.StatusOK {
		t.Fatalf("a webhook in another channel: %d", st)
	}
	var list []map[string]any
	do(t, s, http.MethodGet, "/channels/"+ch+"/webhooks", "", &list)
	ours := 0
	for _, h := range list {
		if h["application_id"] == s.AppID() {
			ours++
		}
	}
	if len(list) != MaxWebhooksPerChannel || ours != 5 {
		t.Errorf("listed %d webhooks, %d of them the bot's; want 15 and 5", len(list), ours)
	}
}

func TestEditThroughAnotherWebhookIsRefused(t *testing.T) {
	s := New(Options{Token: "tok"})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	_, a := createHook(t, s, ch)
	_, b := createHook(t, s, ch)
	var m struct{ ID string }
	if st, _ := do(t, s, http.MethodPost, "/webhooks/"+a.ID+"/"+a.Token+"?wait=true", msg, &m); st != http.StatusOK {
		t.Fatalf("execute: %d", st)
	}
	st, body := do(t, s, http.MethodPatch, "/webhooks/"+b.ID+"/"+b.Token+"/messages/"+m.ID, msg, nil)
	if st != http.StatusNotFound || body["code"] != float64(10008) {
		t.Fatalf("edit through webhook B: %d %v, want 404 Unknown Message", st, body)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "created by "+a.ID) {
		t.Errorf("violations = %q", v)
	}
	if st, _ := do(t, s, http.MethodPatch, "/webhooks/"+a.ID+"/"+a.Token+"/messages/"+m.ID, msg, nil); st != http.StatusOK {
		t.Errorf("edit through webhook A: %d", st)
	}
}

// TestListenerAndWrap: the fake serves on a given listener, its URL and
// gateway discovery follow it, and Wrap sees every request with the
// fake's answer.
func TestListenerAndWrap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	s := New(Options{Token: "tok", Listener: ln, Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Path)
			mu.Unlock()
		})
	}})
	defer s.Close()
	if want := "http://" + ln.Addr().String(); s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	var gw struct{ URL string }
	if st, _ := do(t, s, http.MethodGet, "/gateway/bot", "", &gw); st != http.StatusOK || gw.URL != "ws://"+ln.Addr().String()+"/ws" {
		t.Errorf("gateway: %d %q", st, gw.URL)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "GET /api/v9/gateway/bot" {
		t.Errorf("Wrap saw %v, want the one request", seen)
	}
}

// TestMessageTimestampIsTheCreateOnTheFakesClock: a message's timestamp
// is when it was created on Options.Now, and an edit keeps it.
func TestMessageTimestampIsTheCreateOnTheFakesClock(t *testing.T) {
	clk := &frozen{now: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	s := New(Options{Token: "tok", Now: clk.Now})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	var m struct{ ID, Timestamp string }
	if st, _ := do(t, s, http.MethodPost, "/channels/"+ch+"/messages", msg, &m); st != http.StatusOK {
		t.Fatalf("create: %d", st)
	}
	want := clk.Now().Format(time.RFC3339Nano)
	clk.add(time.Hour)
	var e struct{ Timestamp string }
	if st, _ := do(t, s, http.MethodPatch, "/channels/"+ch+"/messages/"+m.ID, msg, &e); st != http.StatusOK {
		t.Fatalf("edit: %d", st)
	}
	if m.Timestamp != want || e.Timestamp != want {
		t.Errorf("timestamps = %q (create), %q (edit), want %q", m.Timestamp, e.Timestamp, want)
	}
}
