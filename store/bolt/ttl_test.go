package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/storetest"
	"github.com/tableround/tableround/transcript"
)

func TestBoltOpenTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tr.db")
	held, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer held.Close()
	_, err = bolt.Open(path, bolt.Options{Timeout: 20 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open = %v, want a clear ErrUnavailable", err)
	}
}

func TestBoltTTLs(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Time{})
	st := openBolt(t, bolt.Options{Clock: clk, Retention: store.Retention{
		SessionTTL: time.Hour, ExportTTL: 10 * time.Hour, MemoryTTL: 100 * time.Hour,
	}})
	defer st.Close()
	mustOK := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	mustOK("CreateSession", st.CreateSession(ctx, storetest.NewSession(clk, "s1", "console:a")))
	_, err := st.Append(ctx, "s1", store.Event{Type: transcript.EventNote, Text: "hi"})
	mustOK("Append", err)
	mustOK("SaveCheckpoint", st.SaveCheckpoint(ctx, "s1", store.Checkpoint{Step: 1, State: []byte("x")}))
	mustOK("PutBlob", st.PutBlob(ctx, "s1", "photo", []byte("jpeg")))
	mustOK("Remember", st.Remember(ctx, "console:a", store.Memory{SessionID: "s1"}))

	clk.Advance(59 * time.Minute)
	_, err = st.LoadCheckpoint(ctx, "s1")
	mustOK("LoadCheckpoint before SESSION_TTL", err)
	clk.Advance(time.Minute)
	_, err = st.LoadCheckpoint(ctx, "s1")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("checkpoint after SESSION_TTL: %v", err)
	}
	if _, err := st.GetBlob(ctx, "s1", "photo"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("blob after SESSION_TTL: %v", err)
	}
	// The transcript outlives the working state, refreshed by activity.
	clk.Advance(8 * time.Hour)
	_, err = st.Append(ctx, "s1", store.Event{Type: transcript.EventEnd})
	mustOK("Append at 9h", err)
	clk.Advance(9 * time.Hour)
	evs, err := st.Events(ctx, "s1")
	if err != nil || len(evs) != 2 {
		t.Fatalf("Events at 18h (refreshed at 9h) = %v, %v", evs, err)
	}
	clk.Advance(time.Hour)
	if _, err := st.GetSession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after EXPORT_TTL: %v", err)
	}
	if _, err := st.Events(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("events after EXPORT_TTL: %v", err)
	}
	if list, err := st.ListSessions(ctx, "console:a", 0); err != nil || len(list) != 0 {
		t.Fatalf("ListSessions after EXPORT_TTL = %v, %v", list, err)
	}
	if m, err := st.Memories(ctx, "console:a", 5); err != nil || len(m) != 1 {
		t.Fatalf("memory before MEMORY_TTL = %v, %v", m, err)
	}

	n, err := st.Purge(ctx)
	if err != nil || n != 3 { // checkpoint, blob, session (+ its log and index)
		t.Fatalf("Purge = %d, %v", n, err)
	}
	// The ID is free again, with an empty log.
	mustOK("CreateSession(reused ID)", st.CreateSession(ctx, storetest.NewSession(clk, "s1", "console:a")))
	if evs, err := st.Events(ctx, "s1"); err != nil || len(evs) != 0 {
		t.Fatalf("Events of reused ID = %v, %v", evs, err)
	}
	clk.Advance(100 * time.Hour)
	if m, err := st.Memories(ctx, "console:a", 5); err != nil || len(m) != 0 {
		t.Fatalf("memory after MEMORY_TTL = %v, %v", m, err)
	}
}
