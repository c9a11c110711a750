package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Store is what the hub needs of the session store: finding a session by
// its ID or its web channel, its event log and its blobs (images, and the
// digests of the table's keys).
type Store interface {
	GetSession(ctx context.Context, id string) (store.Session, error)
	ListSessions(ctx context.Context, channel string, limit int) ([]store.Session, error)
	Events(ctx context.Context, sessionID string) ([]store.Event, error)
	GetBlob(ctx context.Context, sessionID, name string) ([]byte, error)
	PutBlob(ctx context.Context, sessionID, name string, data []byte) error
}

// keysBlob is the blob of a session that holds its table's key digests.
// A session without it has no web table (a chat session started while
// WEB_PUBLIC_URL was unset stays off the web).
const keysBlob = "web-keys"

// storedKeys are a table's key digests (hex SHA-256), never the keys.
type storedKeys struct {
	Table string `json:"table"`
	View  string `json:"view"`
	Part  string `json:"part,omitempty"` // none for a chat session's table
}

// SaveKeys stores the digests of the table's keys with its session, so the
// links keep working after a restart and on every replica. It does nothing
// without a Store or before the session exists.
func (h *Hub) SaveKeys(ctx context.Context, t *Table) error {
	sid := t.SessionID()
	if h.Store == nil || sid == "" {
		return nil
	}
	t.mu.Lock()
	k := storedKeys{Table: t.ID, View: hex.EncodeToString(t.viewSum[:])}
	if t.partSum != (keySum{}) {
		k.Part = hex.EncodeToString(t.partSum[:])
	}
	t.mu.Unlock()
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	if err := h.Store.PutBlob(ctx, sid, keysBlob, data); err != nil {
		return fmt.Errorf("save web keys: %w", err)
	}
	return nil
}

// RefreshKeys re-reads a table's key digests from the store, at most once
// every few seconds per table, so a view key rotated on another replica
// opens the table here too (the server calls it when a key does not
// match). When they changed, the streams of the
// replaced view key end; it reports whether they changed.
func (h *Hub) RefreshKeys(ctx context.Context, t *Table) bool {
	now := h.now()
	t.mu.Lock()
	skip := h.Store == nil || t.session == "" || now.Sub(t.keysRead) < keysRefresh
	if !skip {
		t.keysRead = now
	}
	sid := t.session
	t.mu.Unlock()
	if skip {
		return false
	}
	raw, err := h.Store.GetBlob(ctx, sid, keysBlob)
	if err != nil {
		return false
	}
	var k storedKeys
	fresh := &Table{}
	if json.Unmarshal(raw, &k) != nil || k.Table != t.ID || fresh.setSums(k) != nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if fresh.viewSum == t.viewSum && fresh.partSum == t.partSum {
		return false
	}
	if fresh.viewSum != t.viewSum {
		close(t.revoked)
		t.revoked = make(chan struct{})
	}
	t.viewSum, t.partSum = fresh.viewSum, fresh.partSum
	return true
}

// keysRefresh is how often RefreshKeys reads a table's digests at most.
const keysRefresh = 5 * time.Second

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// errNoTable means no session with a web table has that ID.
var errNoTable = errors.New("web: no such table")

// Lookup returns the table with id: one this process holds, else one
// built from the store (a session of an earlier run of this process, or
// one another replica runs), nil when there is none. A built table holds
// the session so far (from the other replica's live feed when there is
// one, else from the session's event log) and mirrors the live tail while
// another replica runs it.
func (h *Hub) Lookup(ctx context.Context, id string) *Table {
	t, _ := h.lookup(ctx, id)
	return t
}

// lookup is Lookup with the reason a table is not found: errNoTable when
// the store has none (or there is no store), else the store's error.
func (h *Hub) lookup(ctx context.Context, id string) (*Table, error) {
	if t := h.Table(id); t != nil {
		return t, nil
	}
	if h.Store == nil || !validID(id) {
		return nil, errNoTable
	}
	h.loading.Lock()
	defer h.loading.Unlock()
	if t := h.Table(id); t != nil {
		return t, nil
	}
	return h.load(ctx, id)
}

// validID accepts table and session IDs (hex), so nothing else reaches
// the store.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// load builds table id from the store and registers it; the caller holds
// h.loading.
func (h *Hub) load(ctx context.Context, id string) (*Table, error) {
	sess, err := h.Store.GetSession(ctx, id) // a chat session's table has its session's ID
	if errors.Is(err, store.ErrNotFound) {
		var list []store.Session
		if list, err = h.Store.ListSessions(ctx, "web:"+id, 1); err == nil && len(list) == 0 {
			err = errNoTable
		} else if err == nil {
			sess = list[0]
		}
	}
	if err != nil {
		return nil, err
	}
	raw, err := h.Store.GetBlob(ctx, sess.ID, keysBlob)
	if err != nil {
		return nil, err
	}
	var k storedKeys
	if err := json.Unmarshal(raw, &k); err != nil || k.Table != id {
		return nil, errNoTable
	}
	t := &Table{ID: id, Log: NewLog(), revoked: make(chan struct{}), session: sess.ID}
	t.Conv = NewConv(t.Log)
	if err := t.setSums(k); err != nil {
		return nil, err
	}
	fed := 0
	if h.Feed != nil {
		events, err := h.Feed.Load(ctx, id, 0)
		if err != nil {
			return nil, fmt.Errorf("load the live feed of %s: %w", id, err)
		}
		for _, data := range events {
			t.Log.addData(data, isEnd(data))
		}
		fed = len(events)
		t.fromFeed = fed > 0
		t.Conv.continueAfter(t.Log)
	}
	if fed == 0 {
		if err := h.loadSaved(ctx, sess.ID, t); err != nil {
			return nil, err
		}
	}
	if t.Log.Len() == 0 {
		evs, err := h.Store.Events(ctx, sess.ID)
		if err != nil {
			return nil, err
		}
		h.replay(ctx, t, evs)
	}
	h.Add(t)
	h.attach(sess.ID, t)
	if fed > 0 && sess.Status == store.StatusRunning && !t.Log.Ended() {
		stop := make(chan struct{})
		done := h.Feed.Follow(id, t.Log, stop)
		t.mu.Lock()
		t.stopFollow, t.followDone = stop, done
		t.mu.Unlock()
	}
	return t, nil
}

// setSums reads stored digests.
func (t *Table) setSums(k storedKeys) error {
	view, err := hex.DecodeString(k.View)
	if err != nil || len(view) != len(keySum{}) {
		return errNoTable
	}
	copy(t.viewSum[:], view)
	if k.Part != "" {
		part, err := hex.DecodeString(k.Part)
		if err != nil || len(part) != len(keySum{}) {
			return errNoTable
		}
		copy(t.partSum[:], part)
	}
	return nil
}

// attach makes t the table of a session, so the session's log entries
// (through Tap) reach it.
func (h *Hub) attach(sessionID string, t *Table) {
	t.mu.Lock()
	t.session = sessionID
	t.mu.Unlock()
	h.sessions.put(sessionID, t)
	h.other.remove(sessionID)
}

// isEnd reports whether an encoded event is the session's end.
func isEnd(data []byte) bool {
	var ev struct {
		T string `json:"t"`
	}
	return json.Unmarshal(data, &ev) == nil && ev.T == "end"
}

// replay shows a session's stored log on its table: every speech and
// moderator line as a finished message, the structured entries as records,
// and the pictures. Token-by-token streaming is not stored; the text is.
func (h *Hub) replay(ctx context.Context, t *Table, evs []store.Event) {
	seats := map[string]*Speaker{}
	moderator := &Speaker{ID: "moderator", Name: "Moderator"}
	for _, ev := range evs {
		switch ev.Type {
		case transcript.EventOutbox:
		case transcript.EventSpeech:
			from := seats[ev.Seat]
			if from == nil {
				from = &Speaker{ID: ev.Seat, Name: ev.Name}
			}
			t.Conv.shown(bot.KindSpeech, "", from, ev.Text)
		case transcript.EventNote:
			t.Conv.shown(bot.KindNotice, "", moderator, ev.Text)
		case transcript.EventPhoto, transcript.EventImage:
			addRecord(t.Log, ev)
			var ref transcript.ImageRef
			if json.Unmarshal(ev.Data, &ref) != nil || ref.Blob == "" {
				continue
			}
			data, err := h.Store.GetBlob(ctx, t.SessionID(), ref.Blob)
			if err != nil {
				continue // the page shows the record without the picture
			}
			if n := t.Conv.keepImage(http.DetectContentType(data), data); n > 0 {
				kind := "photo"
				if ev.Type == transcript.EventImage {
					kind = "design"
				}
				t.Log.Add(Event{T: "image", Kind: kind, Image: n, S: ev.Text})
			}
		default:
			if ev.Type == transcript.EventSession {
				var info transcript.SessionStart
				if json.Unmarshal(ev.Data, &info) == nil {
					for _, s := range info.Seats {
						seats[s.ID] = &Speaker{ID: s.ID, Name: s.Name, Emoji: s.Emoji, Color: s.Color, Role: s.Role}
					}
				}
			}
			addRecord(t.Log, ev)
		}
	}
}

// shown adds a finished message: open, its text, close.
func (c *Conv) shown(kind bot.Kind, group string, from *Speaker, text string) {
	c.mu.Lock()
	c.msgs++
	n := c.msgs
	c.mu.Unlock()
	c.log.Add(Event{T: "open", M: n, Kind: kindNames[kind], Group: group, From: from, S: "…"})
	if text != "" {
		c.log.Add(Event{T: "delta", M: n, S: text})
	}
	c.log.Add(Event{T: "close", M: n})
}

// continueAfter numbers the conversation's next message and picture after
// the last ones in log (a table built from another replica's feed, whose
// pictures stay in the feed).
func (c *Conv) continueAfter(log *Log) {
	frames, _ := log.Since(0)
	last, lastImage := 0, 0
	for _, f := range frames {
		var ev struct {
			M     int `json:"m"`
			Image int `json:"image"`
		}
		if json.Unmarshal(frameData(f), &ev) == nil {
			last, lastImage = max(last, ev.M), max(lastImage, ev.Image)
		}
	}
	c.mu.Lock()
	c.msgs = max(c.msgs, last)
	for len(c.images) < lastImage {
		c.images = append(c.images, image{}) // in the feed: Hub.Image
	}
	c.mu.Unlock()
}

// Image returns picture n of a table: its own, else (a table mirrored
// from another replica) the one in the feed.
func (h *Hub) Image(ctx context.Context, t *Table, n int) (mime string, data []byte, ok bool) {
	if mime, data, ok = t.Conv.Image(n); ok || h.Feed == nil {
		return mime, data, ok
	}
	return h.Feed.Image(ctx, t.ID, n)
}

// frameData is the encoded event inside an SSE frame ("id: N\ndata: …\n\n").
func frameData(f []byte) []byte {
	const sep = "\ndata: "
	i := bytes.Index(f, []byte(sep))
	if i < 0 {
		return nil
	}
	return bytes.TrimSuffix(f[i+len(sep):], []byte("\n\n"))
}
