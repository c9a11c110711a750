package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Tap is a store.Store that also hands the hub each event appended to a
// web table's session, so the page gets the structured results (KJ, votes,
// role switch, cards) that a chat only sees as text. It adds no store
// round trip: the mapping from session to table is learnt when the session
// is created (a resumed session is looked up once).
type Tap struct {
	store.Store
	Hub *Hub
}

// CreateSession stores the session and binds it to its table (a web
// table, or a new one for a watched chat session), whose key digests it
// stores with the session.
func (t Tap) CreateSession(ctx context.Context, s store.Session) error {
	if err := t.Store.CreateSession(ctx, s); err != nil {
		return err
	}
	t.Hub.bind(s.ID, s.Channel)
	t.Hub.watchStored(s)
	return t.Hub.started(ctx, s.ID)
}

// Append stores the event and shows it on the session's table.
func (t Tap) Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error) {
	out, err := t.Store.Append(ctx, sessionID, ev)
	if err != nil {
		return out, err
	}
	if !t.Hub.known(sessionID) {
		if s, gerr := t.Store.GetSession(ctx, sessionID); gerr == nil {
			t.Hub.bind(sessionID, s.Channel)
		}
	}
	t.Hub.record(sessionID, out)
	if out.Type == transcript.EventPhoto {
		t.showPhoto(ctx, sessionID, out)
	}
	return out, nil
}

// showPhoto puts the people's photo (as the vision model saw it) on the
// page. The chats never post it back, so the conversation does not have
// it; it is read once from the store.
func (t Tap) showPhoto(ctx context.Context, sessionID string, ev store.Event) {
	tb := t.Hub.tableOf(sessionID)
	if tb == nil {
		return
	}
	var ref transcript.ImageRef
	if json.Unmarshal(ev.Data, &ref) != nil || ref.Blob == "" {
		return
	}
	data, err := t.Store.GetBlob(ctx, sessionID, ref.Blob)
	if err != nil {
		return // the page shows the description without the picture
	}
	if n := tb.Conv.keepImage(http.DetectContentType(data), data); n > 0 {
		tb.Log.Add(Event{T: "image", Kind: "photo", Image: n})
	}
}
