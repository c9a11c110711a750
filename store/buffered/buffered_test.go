package buffered_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/buffered"
	"github.com/tableround/tableround/store/storetest"
	"github.com/tableround/tableround/transcript"
)

// flaky is a store that can go away (ErrUnavailable) or stall (block until
// the caller's context ends).
type flaky struct {
	store.Store
	down, stall atomic.Bool
}

func (f *flaky) fail(ctx context.Context) error {
	if f.stall.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.down.Load() {
		return fmt.Errorf("dial: connection refused: %w", store.ErrUnavailable)
	}
	return nil
}

func (f *flaky) Append(ctx context.Context, id string, ev store.Event) (store.Event, error) {
	if err := f.fail(ctx); err != nil {
		return store.Event{}, err
	}
	return f.Store.Append(ctx, id, ev)
}
func (f *flaky) UpdateSession(ctx context.Context, s store.Session) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	return f.Store.UpdateSession(ctx, s)
}
func (f *flaky) SaveCheckpoint(ctx context.Context, id string, cp store.Checkpoint) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	return f.Store.SaveCheckpoint(ctx, id, cp)
}
func (f *flaky) PutBlob(ctx context.Context, id, name string, data []byte) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	return f.Store.PutBlob(ctx, id, name, data)
}
func (f *flaky) Events(ctx context.Context, id string) ([]store.Event, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return f.Store.Events(ctx, id)
}
func (f *flaky) Ping(ctx context.Context) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

func newFlaky(t *testing.T, opts buffered.Options) (*flaky, *buffered.Store, *clock.Manual) {
	clk := clock.NewManual(time.Time{})
	f := &flaky{Store: openBolt(t, bolt.Options{Clock: clk})}
	b := buffered.New(f, opts)
	t.Cleanup(func() { b.Close() })
	if err := b.CreateSession(context.Background(), storetest.NewSession(clk, "s1", "console:a")); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return f, b, clk
}

func TestBufferedContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		return buffered.New(openBolt(t, bolt.Options{Clock: clk}), buffered.Options{})
	})
}

func TestBufferedOutage(t *testing.T) {
	ctx := context.Background()
	f, b, clk := newFlaky(t, buffered.Options{})
	appendN := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			ev, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote, Text: fmt.Sprint(i)})
			if err != nil || ev.Seq != int64(i) {
				t.Fatalf("Append %d = Seq %d, %v", i, ev.Seq, err)
			}
		}
	}
	appendN(1, 2)
	f.down.Store(true)
	appendN(3, 5)
	ses := storetest.NewSession(clk, "s1", "console:a")
	ses.Step, ses.Stage = 7, "voting"
	if err := b.UpdateSession(ctx, ses); err != nil {
		t.Fatalf("UpdateSession while down: %v", err)
	}
	if err := b.SaveCheckpoint(ctx, "s1", store.Checkpoint{Step: 7, State: []byte("seven")}); err != nil {
		t.Fatalf("SaveCheckpoint while down: %v", err)
	}
	if err := b.PutBlob(ctx, "s1", "final-1", []byte("png")); err != nil {
		t.Fatalf("PutBlob while down: %v", err)
	}
	appendN(6, 6)
	if n := b.Pending(); n != 7 {
		t.Fatalf("Pending = %d, want 7", n)
	}
	if h := b.Health(ctx); h.Reachable || h.Pending != 7 || h.Error == "" {
		t.Fatalf("Health while down = %+v", h)
	}
	// The engine sees its own writes.
	if got, err := b.GetSession(ctx, "s1"); err != nil || got.Step != 7 {
		t.Fatalf("GetSession while down = %+v, %v", got, err)
	}
	if cp, err := b.LoadCheckpoint(ctx, "s1"); err != nil || string(cp.State) != "seven" {
		t.Fatalf("LoadCheckpoint while down = %+v, %v", cp, err)
	}
	if data, err := b.GetBlob(ctx, "s1", "final-1"); err != nil || string(data) != "png" {
		t.Fatalf("GetBlob while down = %q, %v", data, err)
	}
	if err := b.Flush(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Flush while down = %v", err)
	}

	f.down.Store(false)
	if evs, err := b.Events(ctx, "s1"); err != nil || len(evs) != 6 || evs[5].Seq != 6 {
		t.Fatalf("Events (store + buffer) = %d, %v", len(evs), err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if b.Pending() != 0 {
		t.Fatalf("Pending after flush = %d", b.Pending())
	}
	evs, err := f.Store.Events(ctx, "s1")
	if err != nil || len(evs) != 6 {
		t.Fatalf("store Events = %d, %v", len(evs), err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ev.Text != fmt.Sprint(i+1) {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	if got, err := f.Store.GetSession(ctx, "s1"); err != nil || got.Step != 7 {
		t.Fatalf("store session = %+v, %v", got, err)
	}
	if h := b.Health(ctx); !h.Reachable || h.Pending != 0 || h.Error != "" {
		t.Fatalf("Health after flush = %+v", h)
	}
}

func TestBufferedFull(t *testing.T) {
	ctx := context.Background()
	f, b, clk := newFlaky(t, buffered.Options{MaxPending: 2})
	if err := b.CreateSession(ctx, storetest.NewSession(clk, "s2", "console:b")); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	for i := 0; i < 2; i++ {
		if _, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote}); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	_, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote, Text: "lost"})
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "buffer full") {
		t.Fatalf("Append to a full buffer = %v", err)
	}
	f.down.Store(false)
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// The session stays failed: no silent hole in its log.
	if err := b.UpdateSession(ctx, storetest.NewSession(clk, "s1", "console:a")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write after the rejected one = %v, want the buffer-full error", err)
	}
	if _, err := b.Append(ctx, "s2", store.Event{Type: transcript.EventNote}); err != nil {
		t.Fatalf("another session: %v", err)
	}
	// A resume (a new lease) clears it.
	if _, err := b.AcquireLease(ctx, "console:a", "s1", "me", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote}); err != nil {
		t.Fatalf("Append after resume: %v", err)
	}
}

func TestBufferedStall(t *testing.T) {
	ctx := context.Background()
	f, b, _ := newFlaky(t, buffered.Options{CallTimeout: 20 * time.Millisecond})
	f.stall.Store(true)
	// A stalled store is bounded by CallTimeout: the write is queued.
	if _, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote}); err != nil {
		t.Fatalf("Append on a stalled store: %v", err)
	}
	if b.Pending() != 1 {
		t.Fatalf("Pending = %d", b.Pending())
	}
	// A caller's own cancellation is not buffered.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	f.stall.Store(false)
	f.down.Store(true)
	if err := b.Flush(cctx); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	f.down.Store(false)
	if err := b.Flush(ctx); err != nil || b.Pending() != 0 {
		t.Fatalf("Flush = %v, pending %d", err, b.Pending())
	}
}

func TestBufferedLeaseLostOnFlush(t *testing.T) {
	ctx := context.Background()
	f, b, clk := newFlaky(t, buffered.Options{})
	l, err := b.AcquireLease(ctx, "console:a", "s1", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	if err := b.SaveCheckpoint(ctx, "s1", store.Checkpoint{Step: 1, Fence: l.Token}); err != nil {
		t.Fatalf("SaveCheckpoint while down: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := f.Store.AcquireLease(ctx, "console:a", "s1", "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	f.down.Store(false)
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if _, err := b.Append(ctx, "s1", store.Event{Type: transcript.EventNote}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("write after a fenced-off flush = %v, want ErrLeaseLost", err)
	}
}

func openBolt(t *testing.T, opts bolt.Options) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "data", "tableround.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}
