package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/transcript"
)

// chatConv records what a session posts in a chat, message by message.
type chatConv struct {
	mu    sync.Mutex
	texts [][]string // every text each message showed, placeholder first
	kinds []bot.Kind
}

func (c *chatConv) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.texts = append(c.texts, []string{p.Placeholder})
	c.kinds = append(c.kinds, p.Kind)
	return &chatStream{c: c, i: len(c.texts) - 1}, nil
}

func (c *chatConv) SendImage(context.Context, bot.Persona, bot.Attachment, string) error { return nil }

func (c *chatConv) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	return bot.Answer{Action: bot.ActionKeep, Keywords: q.Keywords, By: "ada"}, nil
}

func (c *chatConv) shown(i int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.texts[i]...)
}

type chatStream struct {
	c *chatConv
	i int
}

func (s *chatStream) Update(text string) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.texts[s.i] = append(s.c.texts[s.i], text)
}

func (s *chatStream) Close(_ context.Context, final string) error {
	if final != "" {
		s.Update(final)
	}
	return nil
}

func openBolt(t *testing.T, path string) *bolt.Store {
	t.Helper()
	b, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// viewerServer serves hub's tables.
func viewerServer(t *testing.T, hub *Hub) *httptest.Server {
	t.Helper()
	s, err := New(Options{Handler: &fakeManager{hub: hub}, Hub: hub, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// watchedSession hands a new Discord session's conversation to w, then
// creates the session, as the manager does.
func watchedSession(t *testing.T, w *Watcher, tap Tap, id string, chat bot.Conversation) bot.Conversation {
	t.Helper()
	conv := w.Watch(context.Background(), store.Session{Channel: "discord:42"}, chat)
	s := store.Session{ID: id, Channel: "discord:42", Topic: "kites", Language: "en", Status: store.StatusRunning}
	if err := tap.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return conv
}

// say posts a finished speech into conv, token by token.
func say(t *testing.T, conv bot.Conversation, kind bot.Kind, from string, words ...string) {
	t.Helper()
	st, err := conv.Open(context.Background(), bot.Post{From: bot.Persona{ID: from, Name: from}, Kind: kind, Placeholder: from + " …"})
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, w := range words {
		text += w
		st.Update(text)
	}
	if err := st.Close(context.Background(), text); err != nil {
		t.Fatal(err)
	}
}

// A Discord session gets a table: its board in the chat links the page
// with a read-only key, every post reaches the page too, and only the
// key's digest is stored.
func TestWatcherLinksTheBoardAndTeesTheSession(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	hub := NewHub()
	hub.Store = st
	tap := Tap{Store: st, Hub: hub}
	w := &Watcher{Hub: hub, PublicURL: "https://table.example/"}
	chat := &chatConv{}
	conv := watchedSession(t, w, tap, "0a0b0c0d0e0f", chat)

	say(t, conv, bot.KindBoard, "moderator", "Roundtable: kites", " · stage 1/9")
	say(t, conv, bot.KindSpeech, "craftsman", "Paper ", "and ", "bamboo.")
	kj, _ := json.Marshal(transcript.KJ{Core: "light", Groups: []transcript.KJGroup{{Name: "Form", Keywords: []string{"wing"}}}})
	if _, err := tap.Append(ctx, "0a0b0c0d0e0f", store.Event{Type: transcript.EventKJ, Data: kj}); err != nil {
		t.Fatal(err)
	}

	board := chat.shown(0)
	var link string
	for _, text := range board {
		i := strings.Index(text, "🔗 Watch live: https://table.example/s/0a0b0c0d0e0f?k=")
		if i < 0 {
			t.Fatalf("a board text without the link: %q", text)
		}
		link = strings.TrimPrefix(text[i:], "🔗 Watch live: ")
	}
	if got := board[len(board)-1]; !strings.HasPrefix(got, "Roundtable: kites · stage 1/9\n\n🔗") {
		t.Fatalf("final board: %q", got)
	}
	for _, text := range chat.shown(1) {
		if strings.Contains(text, "🔗") {
			t.Fatalf("a speech carries the link: %q", text)
		}
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	key := u.Query().Get("k")
	if len(key) != 32 {
		t.Fatalf("view key %q", key)
	}
	keys, err := st.GetBlob(ctx, "0a0b0c0d0e0f", keysBlob)
	if err != nil || strings.Contains(string(keys), key) || !strings.Contains(string(keys), `"view":"`) ||
		strings.Contains(string(keys), `"part"`) {
		t.Fatalf("stored keys %s (%v): want the view key's digest only", keys, err)
	}

	srv := viewerServer(t, hub)
	if code := status(t, srv.URL+u.Path+"?k="+key); code != 200 {
		t.Fatalf("the link's page: %d", code)
	}
	if code := status(t, srv.URL+u.Path+"?k="+strings.Repeat("0", 32)); code != 404 {
		t.Fatalf("a wrong key: %d", code)
	}
	// Watching is all the key allows.
	tb := hub.Table("0a0b0c0d0e0f")
	if role, _ := tb.Check(key); role != RoleViewer {
		t.Fatalf("the link's key is %v, want a viewer's", role)
	}
	resp := get(t, srv.URL+u.Path+"/events?k="+key, 0)
	evs := readSSE(t, resp.Body, func(e sseEvent) bool { return e.Ev.T == "record" })
	var text strings.Builder
	for _, e := range evs {
		if e.Ev.M == 2 && e.Ev.T == "delta" {
			text.WriteString(e.Ev.S)
		}
	}
	if text.String() != "Paper and bamboo." || evs[len(evs)-1].Ev.Record.Type != "kj" {
		t.Fatalf("the page streamed %q, then %+v", text.String(), evs[len(evs)-1].Ev)
	}
	if strings.Contains(evs[0].Raw, "🔗") {
		t.Fatal("the page shows its own link")
	}
}

// Without WEB_PUBLIC_URL a chat session stays off the web.
func TestWatcherWithoutPublicURL(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	hub := NewHub()
	hub.Store = st
	chat := &chatConv{}
	conv := watchedSession(t, &Watcher{Hub: hub}, Tap{Store: st, Hub: hub}, "0a0b0c0d0e01", chat)
	if conv != bot.Conversation(chat) {
		t.Fatalf("the conversation was wrapped: %T", conv)
	}
	if hub.Lookup(context.Background(), "0a0b0c0d0e01") != nil {
		t.Fatal("a table without a link")
	}
}

// A participant's answer to a people's turn that is not open on this
// replica goes to the manager, which relays it to the replica running the
// session.
func TestAnswerIsRelayedWhenNotAskedHere(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	tb, part := f.started(t)
	var got []bot.Request
	f.mgr.mu.Lock()
	f.mgr.relayed = func(req bot.Request) bool {
		got = append(got, req)
		return req.Ref == "q7"
	}
	f.mgr.mu.Unlock()
	if code, _ := f.post(t, "/s/"+tb.ID+"/answer", actionBody{Key: part, Ref: "q7", Action: "edit", Keywords: []string{"kite"}}, ""); code != 200 {
		t.Fatalf("a relayed answer: %d", code)
	}
	if len(got) != 1 || got[0].Channel != tb.Channel() || got[0].Answer == nil || got[0].Answer.Keywords[0] != "kite" ||
		got[0].User.ID != starter(tb).ID {
		t.Fatalf("the manager got %+v", got)
	}
	if code, _ := f.post(t, "/s/"+tb.ID+"/answer", actionBody{Key: part, Ref: "q8", Action: "keep"}, ""); code != http.StatusConflict {
		t.Fatalf("an answer nobody asked for: %d, want 409", code)
	}
}
