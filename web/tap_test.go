package web

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/transcript"
)

// countingStore counts GetSession calls, to check the tap looks a
// session up at most once.
type countingStore struct {
	store.Store
	gets atomic.Int32
}

func (c *countingStore) GetSession(ctx context.Context, id string) (store.Session, error) {
	c.gets.Add(1)
	return c.Store.GetSession(ctx, id)
}

func TestTapTeesWebSessionsOnly(t *testing.T) {
	ctx := context.Background()
	bolt, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	inner := &countingStore{Store: bolt}
	hub := NewHub()
	tb := NewTable()
	hub.Add(tb)
	tap := Tap{Store: inner, Hub: hub}

	if err := tap.CreateSession(ctx, store.Session{ID: "w1", Channel: tb.Channel(), Status: store.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if tb.SessionID() != "w1" {
		t.Fatalf("the table is bound to %q", tb.SessionID())
	}
	kj, _ := json.Marshal(transcript.KJ{Core: "light", Groups: []transcript.KJGroup{{Name: "G", Keywords: []string{"<k>"}}}})
	for _, ev := range []store.Event{
		{Type: transcript.EventKJ, Stage: "kj", Data: kj},
		{Type: transcript.EventOutbox}, // the chat's delivery record: not for the page
		{Type: transcript.EventEnd, Text: "finished"},
	} {
		if _, err := tap.Append(ctx, "w1", ev); err != nil {
			t.Fatal(err)
		}
	}
	frames, _ := tb.Log.Since(0)
	all := string(joinFrames(frames))
	if len(frames) != 3 || !strings.Contains(all, `"type":"kj"`) || !strings.Contains(all, `"svg":"\u003csvg`) ||
		!strings.Contains(all, `"t":"end"`) || strings.Contains(all, "outbox") {
		t.Errorf("the table's log:\n%s", all)
	}
	if !tb.Log.Ended() {
		t.Error("the end was not noted")
	}
	// The events are stored as well.
	if evs, _ := bolt.Events(ctx, "w1"); len(evs) != 3 {
		t.Errorf("%d events stored, want 3", len(evs))
	}

	// A Discord session created before this process: looked up once, then
	// known not to be ours.
	if err := bolt.CreateSession(ctx, store.Session{ID: "d1", Channel: "discord:1", Status: store.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tap.Append(ctx, "d1", store.Event{Type: transcript.EventNote, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.gets.Load(); n != 1 {
		t.Errorf("GetSession called %d times for another platform's session, want 1", n)
	}
	if tb.Log.Len() != 3 {
		t.Error("another session's events reached the table")
	}
}

func joinFrames(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}
