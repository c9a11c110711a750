package discordfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// raw sends one authorised JSON request and returns the status, headers
// and body.
func raw(t *testing.T, s *Server, method, path, body string) (int, http.Header, map[string]any) {
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
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func TestDiscordLimitsIncludeTheReportedChannelLimit(t *testing.T) {
	l := DiscordLimits()
	if l.ChannelMessages != 30 || l.ChannelWindow != time.Minute || l.ChannelCountsEdits {
		t.Errorf("channel limit = %d per %v (edits %v), want 30 per 1m0s, creates only", l.ChannelMessages, l.ChannelWindow, l.ChannelCountsEdits)
	}
}

// TestChannelLimitIsSharedByWebhooksAndBot: 30 creates per 60 s per
// channel, whoever writes; the 31st gets a shared 429 whose retry_after
// runs to the end of the window, with no warning header before it.
func TestChannelLimitIsSharedByWebhooksAndBot(t *testing.T) {
	clock := &frozen{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{Token: "tok", Limits: Limits{ChannelMessages: 30, ChannelWindow: time.Minute}, Now: clock.Now})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	other := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	var hooks []Webhook
	for range 3 {
		_, h := createHook(t, s, ch)
		hooks = append(hooks, h)
	}
	for i := range 30 {
		path := "/channels/" + ch + "/messages"
		if i%4 != 3 {
			h := hooks[i%4]
			path = "/webhooks/" + h.ID + "/" + h.Token + "?wait=true"
		}
		st, hdr, _ := raw(t, s, http.MethodPost, path, msg)
		if st != http.StatusOK {
			t.Fatalf("create %d: %d", i+1, st)
		}
		if hdr.Get("X-RateLimit-Remaining") == "0" {
			t.Fatalf("create %d warned with X-RateLimit-Remaining: 0; Discord gives no warning for this limit", i+1)
		}
		clock.add(time.Second)
	}
	// 30 s after the first create: the 31st waits 30 s more.
	h := hooks[0]
	st, hdr, body := raw(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg)
	if st != http.StatusTooManyRequests || hdr.Get("X-RateLimit-Scope") != "shared" || body["global"] != false {
		t.Fatalf("31st create: %d scope %q %v, want 429 shared, not global", st, hdr.Get("X-RateLimit-Scope"), body)
	}
	if ra, _ := body["retry_after"].(float64); ra != 30 {
		t.Errorf("retry_after = %v, want 30 (to the end of the window)", body["retry_after"])
	}
	if st, _, _ := raw(t, s, http.MethodPost, "/channels/"+other+"/messages", msg); st != http.StatusOK {
		t.Errorf("another channel: %d, want 200 (the limit is per channel)", st)
	}
	clock.add(30 * time.Second) // the first create leaves the window
	if st, _, _ := raw(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg); st != http.StatusOK {
		t.Errorf("after the window: %d", st)
	}
	if n := s.SharedLimited(ch); n != 1 {
		t.Errorf("SharedLimited(ch) = %d, want 1", n)
	}
}

// TestThreadIsItsOwnChannel: a thread's messages (through the parent's
// webhook) count toward the thread, not the parent.
func TestThreadIsItsOwnChannel(t *testing.T) {
	clock := &frozen{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{Token: "tok", Limits: Limits{ChannelMessages: 2, ChannelWindow: time.Minute}, Now: clock.Now})
	defer s.Close()
	ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
	_, h := createHook(t, s, ch)
	var m struct{ ID string }
	if st, _ := do(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg, &m); st != http.StatusOK {
		t.Fatalf("starter: %d", st)
	}
	if st, _ := do(t, s, http.MethodPost, "/channels/"+ch+"/messages/"+m.ID+"/threads", `{"name":"t"}`, nil); st != http.StatusCreated {
		t.Fatalf("thread: %d", st)
	}
	inThread := "/webhooks/" + h.ID + "/" + h.Token + "?wait=true&thread_id=" + m.ID
	for i := range 2 {
		if st, _ := do(t, s, http.MethodPost, inThread, msg, nil); st != http.StatusOK {
			t.Fatalf("thread create %d: %d", i+1, st)
		}
	}
	if st, _ := do(t, s, http.MethodPost, inThread, msg, nil); st != http.StatusTooManyRequests {
		t.Errorf("third thread create: %d, want 429", st)
	}
	if st, _ := do(t, s, http.MethodPost, "/channels/"+ch+"/messages", msg, nil); st != http.StatusOK {
		t.Errorf("second parent create: %d, want 200 (the thread has its own limit)", st)
	}
	if s.SharedLimited(m.ID) != 1 || s.SharedLimited(ch) != 0 {
		t.Errorf("shared 429s: thread %d, parent %d; want 1 and 0", s.SharedLimited(m.ID), s.SharedLimited(ch))
	}
}

// TestChannelLimitEditsOption: edits are free by default and count with
// ChannelCountsEdits.
func TestChannelLimitEditsOption(t *testing.T) {
	for _, counts := range []bool{false, true} {
		clock := &frozen{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := New(Options{Token: "tok", Limits: Limits{ChannelMessages: 3, ChannelWindow: time.Minute, ChannelCountsEdits: counts}, Now: clock.Now})
		ch := s.AddChannel(Channel{GuildID: "1", Type: 0}).ID
		_, h := createHook(t, s, ch)
		var m struct{ ID string }
		do(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg, &m)
		for range 2 {
			if st, _ := do(t, s, http.MethodPatch, "/webhooks/"+h.ID+"/"+h.Token+"/messages/"+m.ID, msg, nil); st != http.StatusOK {
				t.Fatalf("counts=%v: edit %d", counts, st)
			}
		}
		st, _ := do(t, s, http.MethodPost, "/webhooks/"+h.ID+"/"+h.Token+"?wait=true", msg, nil)
		if want := map[bool]int{false: http.StatusOK, true: http.StatusTooManyRequests}[counts]; st != want {
			t.Errorf("counts=%v: create after a create and two edits: %d, want %d", counts, st, want)
		}
		s.Close()
	}
}
