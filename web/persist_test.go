package web

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// logText is the table's log as one string of its events' data.
func logText(l *Log) string {
	frames, _ := l.Since(0)
	return string(joinFrames(frames))
}

// After a restart (a new hub on the same store) a chat session's page
// shows the session from its stored log, and, when the session resumes
// here, the live tail after it.
func TestChatTableSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st := openBolt(t, path)
	hub := NewHub()
	hub.Store = st
	tap := Tap{Store: st, Hub: hub}
	chat := &chatConv{}
	conv := watchedSession(t, &Watcher{Hub: hub, PublicURL: "https://table.example"}, tap, "00aa00aa00aa", chat)
	link := chat.shownLink(t, conv)
	key := link[strings.Index(link, "?k=")+3:]
	info, _ := json.Marshal(transcript.SessionStart{Seats: []transcript.SeatInfo{{ID: "craftsman", Name: "Bayar", Emoji: "✂️", Color: "#aa0000"}}})
	for _, ev := range []store.Event{
		{Type: transcript.EventSession, Text: "kites", Data: info},
		{Type: transcript.EventNote, Text: "Welcome to the table."},
		{Type: transcript.EventSpeech, Seat: "craftsman", Name: "Bayar", Text: "Paper and bamboo."},
		{Type: transcript.EventOutbox},
	} {
		if _, err := tap.Append(ctx, "00aa00aa00aa", ev); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	// The restart.
	st = openBolt(t, path)
	defer st.Close()
	hub = NewHub()
	hub.Store = st
	for _, bad := range []string{"00aa00aa00ab", "../x", ""} {
		if hub.Lookup(ctx, bad) != nil {
			t.Fatalf("Lookup(%q) found a table", bad)
		}
	}
	tb := hub.Lookup(ctx, "00aa00aa00aa")
	if tb == nil {
		t.Fatal("the table is gone after the restart")
	}
	if role, _ := tb.Check(key); role != RoleViewer {
		t.Fatalf("the link's key after the restart: %v", role)
	}
	if role, _ := tb.Check(strings.Repeat("f", 32)); role != RoleNone {
		t.Fatal("any key opens the table")
	}
	got := logText(tb.Log)
	for _, want := range []string{`"s":"Welcome to the table."`, `"s":"Paper and bamboo."`, `"name":"Bayar","emoji":"✂️","color":"#aa0000"`, `"type":"session"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the rebuilt page lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "outbox") {
		t.Error("the chat's delivery records reached the page")
	}
	before := tb.Log.Len()

	// The session resumes in this process: the live tail follows.
	s, _ := st.GetSession(ctx, "00aa00aa00aa")
	s.Step = 3
	conv = (&Watcher{Hub: hub, PublicURL: "https://table.example"}).Watch(ctx, s, &chatConv{})
	say(t, conv, bot.KindSpeech, "craftsman", "And ", "silk.")
	frames, _ := tb.Log.Since(before)
	tail := string(joinFrames(frames))
	if !strings.Contains(tail, `"s":"And "`) || !strings.Contains(tail, `"s":"silk."`) {
		t.Fatalf("the live tail after the restart:\n%s", tail)
	}
	// Message numbers go on after the rebuilt ones.
	if !strings.Contains(tail, `"t":"open","m":3`) {
		t.Fatalf("the resumed message is not message 3:\n%s", tail)
	}
}

// shownLink opens the board as a session does and returns the link it
// carries in the chat.
func (c *chatConv) shownLink(t *testing.T, conv bot.Conversation) string {
	t.Helper()
	st, err := conv.Open(context.Background(), bot.Post{Kind: bot.KindBoard, Placeholder: "board"})
	if err != nil {
		t.Fatal(err)
	}
	st.Update("board")
	texts := c.shown(len(c.texts) - 1)
	_, link, ok := strings.Cut(texts[len(texts)-1], "Watch live: ")
	if !ok {
		t.Fatalf("no link in %q", texts)
	}
	return link
}

// A table started on the web keeps both keys across a restart, and its
// session resumes into it.
func TestWebTableKeysSurviveARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st := openBolt(t, path)
	hub := NewHub()
	hub.Store = st
	tb := NewTable()
	hub.Add(tb)
	view, part := tb.Keys()
	tap := Tap{Store: st, Hub: hub}
	if err := tap.CreateSession(ctx, store.Session{ID: "0123456789ab", Channel: tb.Channel(), Status: store.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	say(t, tb.Conv, bot.KindSpeech, "designer", "Red ", "paper.")
	if _, err := tap.Append(ctx, "0123456789ab", store.Event{Type: transcript.EventSpeech, Seat: "designer", Name: "Lin", Text: "Red paper."}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openBolt(t, path)
	defer st.Close()
	hub = NewHub()
	hub.Store = st
	conv, err := hub.Resume(ctx, tb.Channel())
	if err != nil {
		t.Fatal(err)
	}
	again := hub.Table(tb.ID)
	if again == nil || again.SessionID() != "0123456789ab" {
		t.Fatalf("the web table after the restart: %+v", again)
	}
	if role, _ := again.Check(view); role != RoleViewer {
		t.Fatalf("the view key: %v", role)
	}
	if role, _ := again.Check(part); role != RoleParticipant {
		t.Fatalf("the participant key: %v", role)
	}
	say(t, conv, bot.KindSpeech, "designer", "More.")
	if got := logText(again.Log); !strings.Contains(got, `"s":"Red paper."`) || !strings.Contains(got, `"s":"More."`) {
		t.Fatalf("the resumed web table:\n%s", got)
	}
	// A rotated view key is what survives.
	newView := again.RotateViewKey()
	if err := hub.SaveKeys(ctx, again); err != nil {
		t.Fatal(err)
	}
	hub2 := NewHub()
	hub2.Store = st
	third := hub2.Lookup(ctx, tb.ID)
	if r, _ := third.Check(view); r != RoleNone {
		t.Fatal("the rotated-away key still opens the table")
	}
	if r, _ := third.Check(newView); r != RoleViewer {
		t.Fatal("the new view key does not open the table")
	}
}

// A view key rotated on one replica opens the table on another, and cuts
// the old key's viewers there once it does.
func TestRotatedKeyReachesTheOtherReplica(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	a, b := NewHub(), NewHub()
	counter := &keyCounter{Store: st}
	a.Store, b.Store = st, counter
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Now = func() time.Time { return now }
	tb := NewTable()
	a.Add(tb)
	if err := (Tap{Store: st, Hub: a}).CreateSession(ctx, store.Session{ID: "0c0c0c0c0c0c", Channel: tb.Channel(), Status: store.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	old, _ := tb.Keys()
	srvB := viewerServer(t, b)
	resp := get(t, srvB.URL+"/s/"+tb.ID+"/events?k="+old, 0)
	if resp.StatusCode != 200 {
		t.Fatalf("B's stream with the first key: %d", resp.StatusCode)
	}
	cut := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		close(cut)
	}()

	view := tb.RotateViewKey()
	if err := a.SaveKeys(ctx, tb); err != nil {
		t.Fatal(err)
	}
	if code := status(t, srvB.URL+"/s/"+tb.ID+"?k="+view); code != 200 {
		t.Fatalf("the new key on B: %d", code)
	}
	select {
	case <-cut:
	case <-time.After(10 * time.Second):
		t.Fatal("the old key's stream on B goes on")
	}
	if code := status(t, srvB.URL+"/s/"+tb.ID+"?k="+old); code != 404 {
		t.Fatalf("the old key on B: %d", code)
	}
	// Wrong keys read the store at most once per interval.
	probe := func() int {
		before := counter.keyReads.Load()
		for range 5 {
			if code := status(t, srvB.URL+"/s/"+tb.ID+"?k="+strings.Repeat("e", 32)); code != 404 {
				t.Fatalf("a wrong key: %d", code)
			}
		}
		return int(counter.keyReads.Load() - before)
	}
	if n := probe(); n != 0 {
		t.Fatalf("%d reads of the keys within the interval", n)
	}
	now = now.Add(keysRefresh)
	if n := probe(); n != 1 {
		t.Fatalf("%d reads of the keys after the interval, want 1", n)
	}
}

// keyCounter counts reads of the key digests.
type keyCounter struct {
	Store
	keyReads atomic.Int32
}

func (k *keyCounter) GetBlob(ctx context.Context, id, name string) ([]byte, error) {
	if name == keysBlob {
		k.keyReads.Add(1)
	}
	return k.Store.GetBlob(ctx, id, name)
}

// A table whose session is suspended by a clean shutdown is kept whole:
// after the restart its page has the same events under the same IDs (a
// reconnecting browser misses and doubles nothing), pictures included.
// The kept copy is taken back once, so a later crash rebuilds from the
// session's log instead of bringing back a stale copy.
func TestKeptTableResumesWithTheSameIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st := openBolt(t, path)
	hub := NewHub()
	hub.Store = st
	tap := Tap{Store: st, Hub: hub}
	conv := watchedSession(t, &Watcher{Hub: hub, PublicURL: "https://t.example"}, tap, "0d0d0d0d0d0d", &chatConv{})
	say(t, conv, bot.KindSpeech, "craftsman", "Paper ", "and ", "bamboo.")
	if err := conv.SendImage(ctx, bot.Persona{ID: "designer"}, bot.Attachment{MIME: "image/png", Data: []byte("png bytes")}, "design"); err != nil {
		t.Fatal(err)
	}
	if _, err := tap.Append(ctx, "0d0d0d0d0d0d", store.Event{Type: transcript.EventSpeech, Seat: "craftsman", Text: "Paper and bamboo."}); err != nil {
		t.Fatal(err)
	}
	before := logText(hub.Table("0d0d0d0d0d0d").Log)
	if err := hub.SaveLogs(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openBolt(t, path)
	defer st.Close()
	again := NewHub()
	again.Store = st
	tb := again.Lookup(ctx, "0d0d0d0d0d0d")
	if tb == nil {
		t.Fatal("no table after the restart")
	}
	if got := logText(tb.Log); got != before {
		t.Fatalf("after the restart the page's events are\n%s\nbefore they were\n%s", got, before)
	}
	if mime, data, ok := again.Image(ctx, tb, 1); !ok || mime != "image/png" || string(data) != "png bytes" {
		t.Fatalf("picture 1 after the restart: %q %q %v", mime, data, ok)
	}
	// The kept copy was taken back: a crash now rebuilds from the log.
	third := NewHub()
	third.Store = st
	if got := logText(third.Lookup(ctx, "0d0d0d0d0d0d").Log); got == before || !strings.Contains(got, `"s":"Paper and bamboo."`) {
		t.Fatalf("after a second restart:\n%s", got)
	}
}
