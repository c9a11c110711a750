package roundtable

import (
	"context"
	"fmt"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/transcript"
)

// settle brings the chat up to date with the log after a crash: a message
// whose final text was decided is completed (edited where it exists,
// posted where it never did); the old board and a message cut off before
// its end (its step runs again) are closed with a short line where they
// exist; a merged message is settled whole (settleMerged,
// outbox_merged.go). It returns once all of it is shown (or failed for
// good).
func (d *delivery) settle(ctx context.Context) error {
	evs, err := d.deps.Store.Events(ctx, d.st.Meta.ID)
	if err != nil {
		return fmt.Errorf("read the outbox: %w", err)
	}
	all, top := outboxMessages(evs)
	d.out.skipTo(top)
	_, canEdit := d.out.conv.(bot.Reattacher)
	for _, m := range d.settleMerged(ctx, all) {
		text := m.Text
		switch {
		case bot.Kind(m.Kind) == bot.KindBoard:
			text = d.ui("board_moved")
		case !m.closed:
			text = d.ui("cut_restart")
		}
		if !m.closed && (!canEdit || len(m.IDs) == 0) {
			// Nothing on screen to fix (or no way to fix it): the step runs again.
			d.out.record(ctx, transcript.Outbox{N: m.N, Op: transcript.OutboxShown})
			continue
		}
		ids := m.IDs
		if !canEdit {
			ids = nil
		}
		post := bot.Post{From: d.personaOf(m.Seat), Kind: bot.Kind(m.Kind), Group: m.Group, Placeholder: firstLine(text)}
		st, err := d.out.openAs(ctx, m.N, post, ids)
		if err != nil && ids != nil && m.closed {
			d.log.Warn("settle the outbox: posting anew", "message", m.N, "err", err)
			st, err = d.out.openAs(ctx, m.N, post, nil) // the old message is gone: post what it owed
		}
		if err != nil {
			d.log.Warn("settle the outbox", "message", m.N, "err", err)
			continue
		}
		d.closeLater(ctx, st, text, false)
	}
	return d.catchUp(ctx, 0)
}
