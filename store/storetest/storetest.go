// Package storetest is the contract test suite every store.Store runs.
// A store's test calls Run with a function that opens a fresh, empty store
// on the clock it is given (the store's Clock option), so lease expiry and
// TTLs are tested by advancing a manual clock, never by sleeping. The suite
// owns no store and starts no server.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Run runs the contract suite. open must return a fresh, empty store built
// with the default store.Retention and the clock clk; the suite closes it.
// Each case runs as a subtest with its own manual clock at clock.Epoch():
//
//	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
//		st, err := bolt.Open(path, bolt.Options{Clock: clk})
//		...
//	})
func Run(t *testing.T, open func(t *testing.T, clk clock.Clock) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, st store.Store, clk *clock.Manual)
	}{
		{"Sessions", testSessions},
		{"Events", testEvents},
		{"Outbox", testOutbox},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Checkpoints", testCheckpoints},
		{"CheckpointFencing", testFencing},
		{"Blobs", testBlobs},
		{"Leases", testLeases},
		{"Orphans", testOrphans},
		{"ChannelMemory", testMemory},
		{"Quota", testQuota},
		{"QuotaConcurrent", testQuotaConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewManual(time.Time{})
			st := open(t, clk)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			if err := st.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			c.fn(t, st, clk)
		})
	}
}

// NewSession returns a running session created at the clock's time.
func NewSession(clk clock.Clock, id, channel string) store.Session {
	return store.Session{
		ID: id, Channel: channel, Topic: "topic of " + id, Language: "en", Pack: "papercut",
		Status: store.StatusRunning, CreatedAt: clk.Now(), UpdatedAt: clk.Now(),
	}
}

func mustCreate(t *testing.T, st store.Store, s store.Session) {
	t.Helper()
	if err := st.CreateSession(context.Background(), s); err != nil {
		t.Fatalf("CreateSession(%s): %v", s.ID, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func testSessions(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	_, err := st.GetSession(ctx, "nope")
	wantErr(t, "GetSession(unknown)", err, store.ErrNotFound)
	wantErr(t, "UpdateSession(unknown)", st.UpdateSession(ctx, NewSession(clk, "nope", "c:1")), store.ErrNotFound)

	for i := 1; i <= 3; i++ {
		mustCreate(t, st, NewSession(clk, fmt.Sprintf("s%d", i), "console:a"))
		clk.Advance(time.Minute)
	}
	mustCreate(t, st, NewSession(clk, "other", "console:b"))
	wantErr(t, "CreateSession(duplicate)", st.CreateSession(ctx, NewSession(clk, "s1", "console:a")), store.ErrExists)

	got, err := st.GetSession(ctx, "s2")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if got.Channel != "console:a" || got.Topic != "topic of s2" || !got.CreatedAt.Equal(clock.Epoch().Add(time.Minute)) {
		t.Fatalf("GetSession = %+v", got)
	}

	got.Status, got.Stage, got.Step, got.InputTokens, got.CostUSD = store.StatusFinished, "closing", 12, 345, 0.25
	if err := st.UpdateSession(ctx, got); err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	again, err := st.GetSession(ctx, "s2")
	if err != nil {
		t.Fatalf("GetSession after update: %v", err)
	}
	if again.Status != store.StatusFinished || again.Step != 12 || again.InputTokens != 345 || again.CostUSD != 0.25 {
		t.Fatalf("after update = %+v", again)
	}

	list, err := st.ListSessions(ctx, "console:a", 0)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if ids := sessionIDs(list); fmt.Sprint(ids) != "[s3 s2 s1]" {
		t.Fatalf("ListSessions = %v, want newest first [s3 s2 s1]", ids)
	}
	list, err = st.ListSessions(ctx, "console:a", 2)
	if err != nil || fmt.Sprint(sessionIDs(list)) != "[s3 s2]" {
		t.Fatalf("ListSessions(limit 2) = %v, %v", sessionIDs(list), err)
	}
	list, err = st.ListSessions(ctx, "console:none", 10)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListSessions(empty channel) = %v, %v", list, err)
	}
}

func sessionIDs(list []store.Session) []string {
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func testEvents(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	_, err := st.Append(ctx, "nope", store.Event{Type: transcript.EventNote})
	wantErr(t, "Append(unknown)", err, store.ErrNotFound)

	mustCreate(t, st, NewSession(clk, "e1", "console:a"))
	mustCreate(t, st, NewSession(clk, "e2", "console:a"))
	if evs, err := st.Events(ctx, "e1"); err != nil || len(evs) != 0 {
		t.Fatalf("Events(empty) = %v, %v", evs, err)
	}
	types := []string{transcript.EventSession, transcript.EventStage, transcript.EventSpeech, transcript.EventVote, transcript.EventEnd}
	for i, typ := range types {
		ev := store.Event{Type: typ, Stage: "discussion", Seat: "craftsman", Name: "Bayar", Text: fmt.Sprintf("text %d", i),
			Data: []byte(`{"round":1}`)}
		if i == 0 {
			ev.Time = clock.Epoch().Add(-time.Hour) // a time given by the caller is kept
		}
		got, err := st.Append(ctx, "e1", ev)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if got.Seq != int64(i+1) {
			t.Fatalf("Append #%d Seq = %d", i+1, got.Seq)
		}
		if i > 0 && !got.Time.Equal(clk.Now()) {
			t.Fatalf("Append filled Time = %v, want the store's clock %v", got.Time, clk.Now())
		}
		clk.Advance(time.Second)
	}
	if ev, err := st.Append(ctx, "e2", store.Event{Type: transcript.EventNote}); err != nil || ev.Seq != 1 {
		t.Fatalf("Append to second session = %+v, %v; Seq is per session", ev, err)
	}
	evs, err := st.Events(ctx, "e1")
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(evs) != len(types) {
		t.Fatalf("Events = %d events, want %d", len(evs), len(types))
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ev.Type != types[i] || ev.Text != fmt.Sprintf("text %d", i) ||
			ev.Seat != "craftsman" || ev.Name != "Bayar" || ev.Stage != "discussion" || string(ev.Data) != `{"round":1}` {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	if !evs[0].Time.Equal(clock.Epoch().Add(-time.Hour)) {
		t.Fatalf("event 1 Time = %v, want the caller's", evs[0].Time)
	}
	_, err = st.Events(ctx, "nope")
	wantErr(t, "Events(unknown)", err, store.ErrNotFound)
}

func testCheckpoints(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	mustCreate(t, st, NewSession(clk, "c1", "console:a"))
	_, err := st.LoadCheckpoint(ctx, "c1")
	wantErr(t, "LoadCheckpoint(none)", err, store.ErrNotFound)
	for step := 1; step <= 3; step++ {
		state := []byte(fmt.Sprintf(`{"step":%d,"bin":"\u0000\u00ff"}`, step))
		if err := st.SaveCheckpoint(ctx, "c1", store.Checkpoint{Step: step, State: state}); err != nil {
			t.Fatalf("SaveCheckpoint: %v", err)
		}
	}
	cp, err := st.LoadCheckpoint(ctx, "c1")
	if err != nil || cp.Step != 3 || string(cp.State) != `{"step":3,"bin":"\u0000\u00ff"}` {
		t.Fatalf("LoadCheckpoint = %+v, %v", cp, err)
	}
}

func testBlobs(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	mustCreate(t, st, NewSession(clk, "b1", "console:a"))
	_, err := st.GetBlob(ctx, "b1", "photo")
	wantErr(t, "GetBlob(none)", err, store.ErrNotFound)
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := st.PutBlob(ctx, "b1", "photo", data); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if err := st.PutBlob(ctx, "b1", "final-1", []byte("png")); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if err := st.PutBlob(ctx, "b1", "final-1", []byte("png2")); err != nil {
		t.Fatalf("PutBlob(overwrite): %v", err)
	}
	got, err := st.GetBlob(ctx, "b1", "photo")
	if err != nil || string(got) != string(data) {
		t.Fatalf("GetBlob(photo) = %d bytes, %v", len(got), err)
	}
	got, err = st.GetBlob(ctx, "b1", "final-1")
	if err != nil || string(got) != "png2" {
		t.Fatalf("GetBlob(final-1) = %q, %v", got, err)
	}
}
