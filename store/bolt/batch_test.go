package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// TestGroupCommit holds a commit open while writes queue behind it, one of
// them failing: the queued writes are committed together, the failing one
// alone gets its error and leaves nothing behind, and the others land once.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	b, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bucket := []byte("t")
	put := func(key string) func(*bbolt.Tx) error {
		return func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			n := 0
			if v := bk.Get([]byte(key)); v != nil {
				n = int(v[0])
			}
			return bk.Put([]byte(key), []byte{byte(n + 1)}) // counts the commits that kept it
		}
	}
	errRefused := errors.New("refused")

	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- b.batch(ctx, func(tx *bbolt.Tx) error {
			close(entered)
			<-release // the leader's commit stays open while the others queue
			return put("first")(tx)
		})
	}()
	<-entered
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i == 7 {
				errs[i] = b.batch(ctx, func(tx *bbolt.Tx) error {
					if err := put("refused")(tx); err != nil {
						return err
					}
					return errRefused
				})
				return
			}
			errs[i] = b.batch(ctx, put(string(rune('a'+i))))
		})
	}
	waitQueued(t, b, n)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	for i, err := range errs {
		if want := i == 7; want != errors.Is(err, errRefused) || !want && err != nil {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	err = b.db.View(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucket)
		if v := bk.Get([]byte("refused")); v != nil {
			t.Errorf("the refused write left %v behind", v)
		}
		for i := range n {
			if i == 7 {
				continue
			}
			if v := bk.Get([]byte(string(rune('a' + i)))); len(v) != 1 || v[0] != 1 {
				t.Errorf("write %d stored %v, want one commit", i, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.commits.busy || len(b.commits.queue) != 0 {
		t.Errorf("after the writes: busy %v, %d queued", b.commits.busy, len(b.commits.queue))
	}
}

// TestGroupCommitGatherWindow: a commit that would start within the
// window of the previous one's end waits for the rest of the window; a
// write to a store quiet for longer, or with the window off, does not.
func TestGroupCommitGatherWindow(t *testing.T) {
	ctx := context.Background()
	for _, window := range []time.Duration{5 * time.Millisecond, -1} {
		b, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{GatherWindow: window})
		if err != nil {
			t.Fatal(err)
		}
		clk := clock.NewManual(time.Unix(1000, 0))
		b.commits.clk = clk
		// write commits in the background; it reports whether it slept.
		write := func() <-chan error {
			done := make(chan error, 1)
			go func() {
				done <- b.batch(ctx, func(tx *bbolt.Tx) error {
					_, err := tx.CreateBucketIfNotExists([]byte("t"))
					return err
				})
			}()
			return done
		}
		// finished waits for a write that must not sleep.
		finished := func(what string, done <-chan error) {
			t.Helper()
			var err error
			eventually.True(t, what+" commits without waiting", func() bool {
				if clk.Sleepers() > 0 {
					t.Fatalf("window %v: %s waits", window, what)
				}
				select {
				case err = <-done:
					return true
				default:
					return false
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		finished("a write to a quiet store", write())
		second := write()
		if window > 0 {
			eventually.True(t, "a write right after a commit waits", func() bool { return clk.Sleepers() == 1 })
			clk.Advance(window - time.Nanosecond)
			if clk.Sleepers() != 1 {
				t.Fatalf("window %v: the write stopped waiting before the window ended", window)
			}
			clk.Advance(time.Nanosecond)
			if err := <-second; err != nil {
				t.Fatal(err)
			}
		} else {
			finished("with the window off, a write right after a commit", second)
		}
		clk.Advance(10 * time.Millisecond)
		finished("a write after the window", write())
		if b.commits.commits != 3 {
			t.Errorf("window %v: %d commits, want 3", window, b.commits.commits)
		}
		_ = b.Close()
	}
}

// waitQueued waits until n writes are queued behind the open commit.
func waitQueued(t *testing.T, b *Store, n int) {
	t.Helper()
	eventually.True(t, fmt.Sprintf("%d writes queued behind the open commit", n), func() bool {
		b.commits.mu.Lock()
		defer b.commits.mu.Unlock()
		return len(b.commits.queue) == n
	})
}

// BenchmarkBoltAppendParallel is many sessions appending events at once,
// as the load tool's sessions do; the group commit shares their
// transactions.
func BenchmarkBoltAppendParallel(b *testing.B) {
	ctx := context.Background()
	st, err := Open(filepath.Join(b.TempDir(), "t.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateSession(ctx, store.Session{ID: "s", Channel: "c"}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(32)
	b.ReportAllocs()
	b.Cleanup(func() { b.ReportMetric(float64(st.commits.commits)/float64(b.N), "commits/op") })
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Append(ctx, "s", store.Event{Type: transcript.EventNote, Text: "a line of text"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
