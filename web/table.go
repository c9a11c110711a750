package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Table is one roundtable shown on the web: its log, its conversation and
// its keys. Keys are 128 random bits in hex; they are never logged
// (LogValue hides them).
type Table struct {
	ID   string // in the URL, /s/<ID>
	Log  *Log
	Conv *Conv

	mu      sync.Mutex
	viewKey string // "" when only its digest is known (a table loaded from the store)
	partKey string
	viewSum keySum
	partSum keySum        // zero: nobody takes part (a table of a chat session)
	revoked chan struct{} // closed when the view key rotates
	session string        // the session's ID in the store, once created
	// stopFollow, set while the table mirrors another replica's session,
	// ends the mirroring; followDone is closed once it has.
	stopFollow chan struct{}
	followDone <-chan struct{}
	fromFeed   bool      // its events so far are in the feed already
	publishing bool      // this process publishes it to the feed
	keysRead   time.Time // when RefreshKeys last read the stored digests
}

// keySum is a key's SHA-256 digest: what is compared and what is stored,
// so the store never holds a usable key.
type keySum [sha256.Size]byte

func sumKey(k string) keySum { return sha256.Sum256([]byte(k)) }

// matches compares a presented key with a digest in constant time; the
// zero digest matches nothing.
func (s keySum) matches(k string) bool {
	if s == (keySum{}) || len(k) != 32 {
		return false
	}
	got := sumKey(k)
	return subtle.ConstantTimeCompare(got[:], s[:]) == 1
}

// Role is what a key lets its holder do.
type Role int

// Roles, weakest first.
const (
	RoleNone        Role = iota
	RoleViewer           // watch
	RoleParticipant      // watch, interject, answer, stop, export, rotate
)

// newKey returns 128 random bits in hex.
func newKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// NewTable returns a table with fresh keys.
func NewTable() *Table {
	log := NewLog()
	t := &Table{ID: newKey()[:16], Log: log, Conv: NewConv(log), viewKey: newKey(), partKey: newKey(),
		revoked: make(chan struct{})}
	t.viewSum, t.partSum = sumKey(t.viewKey), sumKey(t.partKey)
	return t
}

// Channel is the table's channel for the session manager.
func (t *Table) Channel() string { return "web:" + t.ID }

// Keys returns the view and participant keys.
func (t *Table) Keys() (view, participant string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.viewKey, t.partKey
}

// Check returns what key k allows, comparing in constant time, and, for a
// viewer, a channel closed when that key is rotated away.
func (t *Table) Check(k string) (Role, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.partSum.matches(k) {
		return RoleParticipant, nil
	}
	if t.viewSum.matches(k) {
		return RoleViewer, t.revoked
	}
	return RoleNone, nil
}

// RotateViewKey replaces the view key and cuts the streams of viewers
// holding the old one.
func (t *Table) RotateViewKey() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.viewKey = newKey()
	t.viewSum = sumKey(t.viewKey)
	close(t.revoked)
	t.revoked = make(chan struct{})
	return t.viewKey
}

// SessionID is the session's ID in the store, "" before it was created.
func (t *Table) SessionID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session
}

// LogValue keeps the keys out of logs.
func (t *Table) LogValue() slog.Value {
	return slog.GroupValue(slog.String("table", t.ID), slog.String("session", t.SessionID()))
}

// Hub holds the tables of this process.
type Hub struct {
	tables   tableShelf    // by table ID (own lock)
	sessions sessionTables // by store session ID (own lock)
	other    sessionSet    // store sessions of other channels (own lock)
	pending  pendingBook   // watched chat sessions not stored yet (own lock)
	loading  sync.Mutex    // one Lookup builds a table at a time
	mu       sync.Mutex    // guards drop
	drop     chan struct{} // closed by CloseStreams
	// MaxTables is how many tables are kept; the oldest ended ones go
	// first (default 200).
	MaxTables int
	// Store, when set, is where tables this process does not hold are
	// found (after a restart, or a session another replica runs) and where
	// their key digests are kept.
	Store Store
	// Feed, when set, carries live tables to the other replicas.
	Feed Feed
	// Now is the clock of RefreshKeys's pace (time.Now when nil).
	Now func() time.Time
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{MaxTables: 200, drop: make(chan struct{})}
}

// CloseStreams ends every open viewer stream (their browsers reconnect
// and resume from their last event). Call it before shutting the HTTP
// server down, which otherwise waits for streams that never end.
func (h *Hub) CloseStreams() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.drop)
	h.drop = make(chan struct{})
}

// dropped returns the channel the current streams end on.
func (h *Hub) dropped() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.drop
}

// Add registers a new table; past MaxTables the oldest ended tables go.
func (h *Hub) Add(t *Table) {
	for _, old := range h.tables.add(t, h.MaxTables) {
		h.sessions.remove(old.SessionID())
	}
}

// Remove forgets a table (one whose session never started).
func (h *Hub) Remove(id string) { h.tables.remove(id) }

// Table returns a table by ID.
func (h *Hub) Table(id string) *Table { return h.tables.get(id) }

// byChannel finds the table of a "web:<id>" channel.
func (h *Hub) byChannel(channel string) *Table {
	id, ok := strings.CutPrefix(channel, "web:")
	if !ok {
		return nil
	}
	return h.Table(id)
}

// bind links a store session to its table; a session of another
// channel is remembered as not ours, so it is never looked up again.
func (h *Hub) bind(sessionID, channel string) {
	t := h.byChannel(channel)
	if t == nil {
		h.other.add(sessionID)
		return
	}
	h.attach(sessionID, t)
}

// known reports whether the session was bound, to a table or to none.
func (h *Hub) known(sessionID string) bool {
	return h.tableOf(sessionID) != nil || h.other.has(sessionID)
}

func (h *Hub) tableOf(sessionID string) *Table { return h.sessions.get(sessionID) }

// record adds a session log entry to its table, with the picture drawn
// for the KJ grouping and the vote result.
func (h *Hub) record(sessionID string, ev store.Event) {
	t := h.tableOf(sessionID)
	if t == nil {
		return
	}
	switch ev.Type {
	case transcript.EventOutbox, transcript.EventSpeech, transcript.EventNote:
		return // the page has these from the conversation already
	}
	addRecord(t.Log, ev)
}

// addRecord shows a structured entry of the session's log.
func addRecord(log *Log, ev store.Event) {
	r := &Record{Type: ev.Type, Stage: ev.Stage, Seat: ev.Seat, Name: ev.Name, Text: ev.Text, Data: ev.Data}
	switch ev.Type {
	case transcript.EventKJ:
		var kj transcript.KJ
		if json.Unmarshal(ev.Data, &kj) == nil {
			r.SVG = export.KJSVG(kj, "")
		}
	case transcript.EventVoteResult:
		var vr transcript.VoteResult
		if json.Unmarshal(ev.Data, &vr) == nil {
			r.SVG = export.VoteSVG(vr, "")
		}
	}
	log.Add(Event{T: "record", Record: r})
	if ev.Type == transcript.EventEnd {
		log.Add(Event{T: "end", S: ev.Text})
	}
}
