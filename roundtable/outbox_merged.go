package roundtable

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tableround/tableround/bot"
)

// settleMerged settles the merged messages of the outbox (a concurrent
// stage shown as one message, its sections told bot.MergedRef IDs) one
// message at a time: every section of a message that still owes anything
// is handed back to the adapter together (bot.MergedReattacher), so the
// message is completed in place: a section whose final text was decided
// shows it, one cut off shows a short line (its step runs again). Nothing
// is posted beside the old message and no partial text stays in it.
//
// It returns the owed messages left to settle one by one, in the order
// they were opened: the messages of their own, and the sections of a
// merged message the adapter could not take over (their IDs dropped, so
// they are settled as never shown).
func (d *delivery) settleMerged(ctx context.Context, all []*outMsg) []*outMsg {
	var rest []*outMsg
	msgs := map[string][]*outMsg{}
	var keys []string
	for _, m := range all {
		ids, ok := mergedIDs(m.IDs)
		if !ok {
			if !m.shown {
				rest = append(rest, m)
			}
			continue
		}
		k := strings.Join(ids, "\n")
		if msgs[k] == nil {
			keys = append(keys, k)
		}
		msgs[k] = append(msgs[k], m)
	}
	mr, _ := d.out.conv.(bot.MergedReattacher)
	for _, k := range keys {
		secs := msgs[k]
		if !slices.ContainsFunc(secs, func(m *outMsg) bool { return !m.shown }) {
			continue
		}
		if mr != nil && d.reattachMerged(ctx, mr, secs, strings.Split(k, "\n")) {
			continue
		}
		for _, m := range secs {
			if !m.shown {
				m.IDs = nil
				rest = append(rest, m)
			}
		}
	}
	slices.SortFunc(rest, func(a, b *outMsg) int { return a.N - b.N })
	return rest
}

// reattachMerged takes over one merged message with all its sections
// (shown ones too: the message is rewritten whole) and closes each with
// what the log says. False when the adapter could not take it over.
func (d *delivery) reattachMerged(ctx context.Context, mr bot.MergedReattacher, secs []*outMsg, ids []string) bool {
	posts := make([]bot.Post, len(secs))
	texts := make([]string, len(secs))
	for i, m := range secs {
		texts[i] = m.Text
		if !m.closed {
			texts[i] = d.ui("cut_restart")
		}
		posts[i] = bot.Post{From: d.personaOf(m.Seat), Kind: bot.Kind(m.Kind), Group: m.Group,
			Placeholder: firstLine(texts[i]), Created: d.out.recordID(ctx, m.N)}
	}
	streams, err := mr.ReattachMerged(ctx, posts, ids)
	if err == nil && len(streams) != len(secs) {
		err = errWrongStreams
	}
	if err != nil {
		d.log.Warn("settle the outbox: cannot take over a merged message, posting its sections anew", "message", secs[0].N, "err", err)
		return false
	}
	for i, st := range streams {
		d.closeLater(ctx, &tracked{Stream: st, n: secs[i].N}, texts[i], false)
	}
	return true
}

var errWrongStreams = errors.New("roundtable: the adapter returned a stream count unlike the sections'")

// mergedIDs returns the platform IDs of a merged message's section (each
// once, in order); false when refs are not a merged message's.
func mergedIDs(refs []string) ([]string, bool) {
	var ids []string
	for _, r := range refs {
		id, ok := bot.CutMergedRef(r)
		if !ok {
			return nil, false
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, len(ids) > 0
}
