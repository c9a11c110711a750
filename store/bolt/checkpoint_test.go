package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/tableround/tableround/store"
)

// TestCheckpointRecord round-trips checkpoints through the compressed
// record, reads a record in the JSON format written before it, and checks
// that a session state is stored in a fraction of its size.
func TestCheckpointRecord(t *testing.T) {
	state := []byte(`{"transcript":[` + strings.Repeat(`{"name":"Mia","text":"The bookmark folds into a small paper crane for the journey."},`, 60) + `{}]}`)
	for _, cp := range []store.Checkpoint{{Step: 17, State: state, Fence: 42}, {Step: 0, State: []byte("{}")}, {Step: 3, State: state, Fence: -1}} {
		rec, err := new(cpEncoder).encode(cp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeCheckpoint(rec)
		if err != nil || got.Step != cp.Step || got.Fence != cp.Fence || !bytes.Equal(got.State, cp.State) {
			t.Errorf("round trip of step %d: %+v, %v", cp.Step, got, err)
		}
	}
	rec, _ := new(cpEncoder).encode(store.Checkpoint{Step: 1, State: state})
	if len(rec) > len(state)/3 {
		t.Errorf("a %d-byte state is stored in %d bytes, want under a third", len(state), len(rec))
	}

	ctx := context.Background()
	b, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CreateSession(ctx, store.Session{ID: "old", Channel: "c"}); err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(store.Checkpoint{Step: 5, State: state, Fence: 7}) // as stored before
	err = b.db.Update(func(tx *bbolt.Tx) error {
		return putRec(tx.Bucket(bCheckpoints), []byte("old"), store.Expiry(b.now(), b.ret.SessionTTL), old)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.LoadCheckpoint(ctx, "old")
	if err != nil || got.Step != 5 || got.Fence != 7 || !bytes.Equal(got.State, state) {
		t.Fatalf("checkpoint in the JSON format: %+v, %v", got, err)
	}
	if err := b.SaveCheckpoint(ctx, "old", store.Checkpoint{Step: 6, State: state}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LoadCheckpoint(ctx, "old"); err != nil || got.Step != 6 || !bytes.Equal(got.State, state) {
		t.Fatalf("checkpoint after saving over it: %+v, %v", got, err)
	}
}

// BenchmarkSaveCheckpoint stores a 20 KB session state, about a load
// session's average checkpoint.
func BenchmarkSaveCheckpoint(b *testing.B) {
	ctx := context.Background()
	st, err := Open(filepath.Join(b.TempDir(), "t.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateSession(ctx, store.Session{ID: "s", Channel: "c"}); err != nil {
		b.Fatal(err)
	}
	state := []byte(`{"transcript":[` + strings.Repeat(`{"name":"Mia","role":"maker","text":"The bookmark folds into a small paper crane for the journey, and the traveller keeps a note inside."},`, 150) + `{}]}`)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := st.SaveCheckpoint(ctx, "s", store.Checkpoint{Step: i, State: state}); err != nil {
			b.Fatal(err)
		}
	}
}
