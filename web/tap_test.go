package web

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tableround/tableround/memory"
)

// countingStore counts GetSession calls, to check the tap looks a
// session up at most once.
type countingStore struct {
	memory.Store
	gets atomic.Int32
}

func (c *countingStore) GetSession(ctx context.Context, id string) (memory.Session, error) {
	c.gets.Add(1)
	return c.Store.GetSession(ctx, id)
}

func TestTapTeesWebSessionsOnly(t *testing.T) {
	ctx := context.Background()
	bolt, err := memory.OpenBolt(filepath.Join(t.TempDir(), "t.db"), memory.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	inner := &countingStore{Store: bolt}
	hub := NewHub()
	tb := NewTable()
	hub.Add(tb)
	tap := Tap{Store: inner, Hub: hub}

	if err := tap.CreateSession(ctx, memory.Session{ID: "w1", Channel: tb.Channel(), Status: memory.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if tb.SessionID() != "w1" {
		t.Fatalf("the table is bound to %q", tb.SessionID())
	}
	kj, _ := json.Marshal(memory.KJ{Core: "light", Groups: []memory.KJGroup{{Name: "G", Keywords: []string{"<k>"}}}})
	for _, ev := range []memory.Event{
		{Type: memory.EventKJ, Stage: "kj", Data: kj},
		{Type: memory.EventOutbox}, // the chat's delivery record: not for the page
		{Type: memory.EventEnd, Text: "finished"},
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
	if err := bolt.CreateSession(ctx, memory.Session{ID: "d1", Channel: "discord:1", Status: memory.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tap.Append(ctx, "d1", memory.Event{Type: memory.EventNote, Text: "x"}); err != nil {
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
