package roundtable

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// This file holds the session's outbox: every message the session opens
// is numbered, and its life (opened, its platform IDs, its final text,
// shown) is written to the session's log as transcript.EventOutbox. A session
// resuming after a crash first settles what the chat is still owed: it
// completes cut-off messages and replaces orphan placeholders and the
// stale board where the platform can edit them (bot.Reattacher), and posts
// what was never delivered. Only then does it go on.

// tracked is a stream the outbox follows.
type tracked struct {
	bot.Stream
	n int
}

// open opens a message and records it in the outbox.
func (s *Session) open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	s.mu.Lock()
	s.outN++
	n := s.outN
	s.mu.Unlock()
	return s.openAs(ctx, n, p, nil)
}

// openAs opens message n: a new one, or existing platform messages of a
// previous process (ids, with a Reattacher).
func (s *Session) openAs(ctx context.Context, n int, p bot.Post, ids []string) (bot.Stream, error) {
	seat := p.From.ID
	out := context.WithoutCancel(ctx)
	if ids == nil {
		s.outbox(out, transcript.Outbox{N: n, Op: transcript.OutboxOpen, Kind: int(p.Kind), Seat: seat, Group: p.Group})
	}
	p.Created = s.recordID(ctx, n)
	var st bot.Stream
	var err error
	if ra, ok := s.conv.(bot.Reattacher); ok && len(ids) > 0 {
		st, err = ra.Reattach(ctx, p, ids)
	} else {
		st, err = s.conv.Open(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	return &tracked{Stream: st, n: n}, nil
}

// outbox appends one outbox record to the session's log.
func (s *Session) outbox(ctx context.Context, o transcript.Outbox) {
	s.event(ctx, store.Event{Type: transcript.EventOutbox, Data: mustJSON(o)})
}

// outMsg is what the log says of one message.
type outMsg struct {
	transcript.Outbox
	closed, shown bool
}

// outboxMessages reads the outbox of the log: every message in the order
// it was opened, and the highest message number used.
func outboxMessages(evs []store.Event) ([]*outMsg, int) {
	msgs := map[int]*outMsg{}
	var order []int
	top := 0
	for _, ev := range evs {
		if ev.Type != transcript.EventOutbox {
			continue
		}
		var o transcript.Outbox
		if json.Unmarshal(ev.Data, &o) != nil {
			continue
		}
		top = max(top, o.N)
		m := msgs[o.N]
		if m == nil {
			m = &outMsg{Outbox: transcript.Outbox{N: o.N}}
			msgs[o.N] = m
			order = append(order, o.N)
		}
		switch o.Op {
		case transcript.OutboxOpen:
			m.Kind, m.Seat, m.Group = o.Kind, o.Seat, o.Group
		case transcript.OutboxID:
			m.IDs = append(m.IDs, o.IDs...)
		case transcript.OutboxClosed:
			m.Text, m.closed = o.Text, true
		case transcript.OutboxShown:
			m.shown = true
		}
	}
	all := make([]*outMsg, 0, len(order))
	for _, n := range order {
		all = append(all, msgs[n])
	}
	return all, top
}

// settle brings the chat up to date with the log after a crash: a message
// whose final text was decided is completed (edited where it exists,
// posted where it never did); the old board and a message cut off before
// its end (its step runs again) are closed with a short line where they
// exist; a merged message is settled whole (settleMerged). It returns
// once all of it is shown (or failed for good).
func (s *Session) settle(ctx context.Context) error {
	evs, err := s.deps.Store.Events(ctx, s.st.Meta.ID)
	if err != nil {
		return fmt.Errorf("read the outbox: %w", err)
	}
	all, top := outboxMessages(evs)
	s.mu.Lock()
	s.outN = max(s.outN, top)
	s.mu.Unlock()
	_, canEdit := s.conv.(bot.Reattacher)
	for _, m := range s.settleMerged(ctx, all) {
		text := m.Text
		switch {
		case bot.Kind(m.Kind) == bot.KindBoard:
			text = s.ui("board_moved")
		case !m.closed:
			text = s.ui("cut_restart")
		}
		if !m.closed && (!canEdit || len(m.IDs) == 0) {
			// Nothing on screen to fix (or no way to fix it): the step runs again.
			s.outbox(ctx, transcript.Outbox{N: m.N, Op: transcript.OutboxShown})
			continue
		}
		ids := m.IDs
		if !canEdit {
			ids = nil
		}
		post := bot.Post{From: s.personaOf(m.Seat), Kind: bot.Kind(m.Kind), Group: m.Group, Placeholder: firstLine(text)}
		st, err := s.openAs(ctx, m.N, post, ids)
		if err != nil && ids != nil && m.closed {
			s.log.Warn("settle the outbox: posting anew", "message", m.N, "err", err)
			st, err = s.openAs(ctx, m.N, post, nil) // the old message is gone: post what it owed
		}
		if err != nil {
			s.log.Warn("settle the outbox", "message", m.N, "err", err)
			continue
		}
		s.closeLater(ctx, st, text, false)
	}
	return s.catchUp(ctx, 0)
}

// personaOf is how the speaker of a seat ID (or the moderator) looks now.
func (s *Session) personaOf(seat string) bot.Persona {
	for i, st := range s.st.Pack.Seats {
		if st.ID == seat {
			return s.persona(i)
		}
	}
	return s.moderator()
}
