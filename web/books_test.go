package web

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// TestHubKeepsMaxTablesDroppingEndedOnesFirst: past MaxTables the oldest
// ended table goes, with its session binding; live tables stay, even
// past the limit.
func TestHubKeepsMaxTablesDroppingEndedOnesFirst(t *testing.T) {
	t.Parallel()
	h := NewHub()
	h.MaxTables = 2
	live, ended, newer := NewTable(), NewTable(), NewTable()
	ended.Log.Add(Event{T: "end"})
	h.Add(live)
	h.Add(ended)
	h.attach("s-ended", ended)
	h.attach("s-live", live)
	h.Add(newer)
	if h.Table(ended.ID) != nil || h.tableOf("s-ended") != nil {
		t.Errorf("the ended table (or its session) is kept past MaxTables")
	}
	if h.Table(live.ID) != live || h.tableOf("s-live") != live || h.Table(newer.ID) != newer {
		t.Errorf("a live table was dropped")
	}
	third := NewTable()
	h.Add(third) // three live tables: none may go
	for _, tb := range []*Table{live, newer, third} {
		if h.Table(tb.ID) != tb {
			t.Errorf("live table %s dropped past the limit", tb.ID)
		}
	}
	h.Remove(newer.ID)
	if h.Table(newer.ID) != nil || len(h.tables.all()) != 2 {
		t.Errorf("Remove kept the table: %d tables", len(h.tables.all()))
	}
}

// brokenStore fails every session read, as a store that is away does.
type brokenStore struct{ Store }

func (brokenStore) GetSession(context.Context, string) (store.Session, error) {
	return store.Session{}, errors.New("connection refused")
}

// TestResumeTellsAGoneTableFromAStoreFailure: resuming a web session whose
// table the store does not have is bot.ErrGone (the manager abandons the
// session); a store that fails is not (the manager tries again later).
func TestResumeTellsAGoneTableFromAStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openBolt(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	h := NewHub()
	h.Store = st
	if _, err := h.Resume(ctx, "web:0123456789ab"); !errors.Is(err, bot.ErrGone) {
		t.Errorf("a table the store does not have: %v, want bot.ErrGone", err)
	}
	h.Store = brokenStore{st}
	_, err := h.Resume(ctx, "web:0123456789ab")
	if err == nil || errors.Is(err, bot.ErrGone) {
		t.Errorf("a failing store: %v, want an error that is not bot.ErrGone", err)
	}
}
