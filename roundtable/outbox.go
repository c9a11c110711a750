package roundtable

import (
	"context"
	"encoding/json"
	"sync"

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
// what was never delivered (delivery.settle, settle.go). Only then does
// it go on.

// tracked is a stream the outbox follows.
type tracked struct {
	bot.Stream
	n int
}

// outbox numbers the messages a session opens and logs their life.
type outbox struct {
	*table
	conv bot.Conversation

	mu sync.Mutex
	n  int // the last message number used
}

// open opens a message and records it in the outbox.
func (o *outbox) open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	o.mu.Lock()
	o.n++
	n := o.n
	o.mu.Unlock()
	return o.openAs(ctx, n, p, nil)
}

// skipTo makes the next message number follow top (the highest one a
// previous process used).
func (o *outbox) skipTo(top int) {
	o.mu.Lock()
	o.n = max(o.n, top)
	o.mu.Unlock()
}

// openAs opens message n: a new one, or existing platform messages of a
// previous process (ids, with a Reattacher).
func (o *outbox) openAs(ctx context.Context, n int, p bot.Post, ids []string) (bot.Stream, error) {
	seat := p.From.ID
	out := context.WithoutCancel(ctx)
	if ids == nil {
		o.record(out, transcript.Outbox{N: n, Op: transcript.OutboxOpen, Kind: int(p.Kind), Seat: seat, Group: p.Group})
	}
	p.Created = o.recordID(out, n)
	var st bot.Stream
	var err error
	if ra, ok := o.conv.(bot.Reattacher); ok && len(ids) > 0 {
		st, err = ra.Reattach(ctx, p, ids)
	} else {
		st, err = o.conv.Open(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	return &tracked{Stream: st, n: n}, nil
}

// record appends one outbox record to the session's log.
func (o *outbox) record(ctx context.Context, rec transcript.Outbox) {
	o.event(ctx, store.Event{Type: transcript.EventOutbox, Data: mustJSON(rec)})
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

// recordID is a Post.Created that records message n's platform IDs.
func (o *outbox) recordID(ctx context.Context, n int) func(id string) {
	out := context.WithoutCancel(ctx)
	return func(id string) { o.record(out, transcript.Outbox{N: n, Op: transcript.OutboxID, IDs: []string{id}}) }
}
