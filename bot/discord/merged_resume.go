package discord

import (
	"context"
	"fmt"

	"github.com/tableround/tableround/bot"
)

var _ bot.MergedReattacher = (*conv)(nil)

// ReattachMerged takes over a merged message a previous process posted
// (bot.MergedReattacher; ids as reportCreated made them): one section per
// post, in order, and the message's final edit once every section has
// closed. It belongs to no stage of this place, so sections of the same
// stage opened anew (the step running again) start a message of their own.
func (c *conv) ReattachMerged(ctx context.Context, posts []bot.Post, ids []string) ([]bot.Stream, error) {
	g := &groups{} // the message's own: nothing else joins it
	m := &merged{}
	out := make([]bot.Stream, len(posts))
	for i, p := range posts {
		s := &section{g: g, m: m, p: p.From, text: placeholder(p)}
		m.secs = append(m.secs, s)
		m.ids.Join(p.Created)
		out[i] = s
	}
	m.ids.Existing(ids)
	w, err := c.Reattach(ctx, bot.Post{From: stageVoice(), Kind: bot.KindSpeech, Placeholder: m.combined(), Created: m.ids.Created}, ids)
	if err != nil {
		return nil, fmt.Errorf("take over the merged message: %w", err)
	}
	m.w = w
	return out, nil
}
