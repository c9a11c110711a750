package web

import (
	"context"

	"github.com/tableround/tableround/memory"
)

// Tap is a memory.Store that also hands the hub each event appended to a
// web table's session, so the page gets the structured results (KJ, votes,
// role switch, cards) that a chat only sees as text. It adds no store
// round trip: the mapping from session to table is learnt when the session
// is created (a resumed session is looked up once).
type Tap struct {
	memory.Store
	Hub *Hub
}

// CreateSession stores the session and binds it to its table.
func (t Tap) CreateSession(ctx context.Context, s memory.Session) error {
	if err := t.Store.CreateSession(ctx, s); err != nil {
		return err
	}
	t.Hub.bind(s.ID, s.Channel)
	return nil
}

// Append stores the event and shows it on the session's table.
func (t Tap) Append(ctx context.Context, sessionID string, ev memory.Event) (memory.Event, error) {
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
	return out, nil
}
