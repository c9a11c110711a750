package telegram

import (
	"context"

	"github.com/tableround/tableround/bot"
)

var _ bot.MergedReattacher = (*conv)(nil)

// newMerged makes the merged message of a chat's concurrent stage (key
// "<chat>/<group>"; empty for one taken over after a crash, which takes
// no new sections).
func newMerged(a *Adapter, key string) *merged {
	return &merged{a: a, key: key, done: make(chan struct{}), ready: make(chan struct{})}
}

// mergedWriter makes the stream of a merged message: the main bot's,
// edited at the group pace, into new messages or into existing ones a
// previous process posted.
func (c *conv) mergedWriter(ctx context.Context, m *merged, group, text string, existing []string) *bot.StreamWriter {
	a := c.a
	o := c.writerOptions(a.main, bot.Persona{Moderator: true}, text, a.lim.GroupEditInterval)
	o.Measure = m.measure
	o.Logger = a.log.With("chat", c.chat, "group", group)
	o.OnCreate, o.Existing = m.ids.Created, existing
	return bot.NewStreamWriter(ctx, &sender{c: c, cl: a.main, render: m.render}, o)
}

// ReattachMerged takes over a merged message a previous process posted
// (bot.MergedReattacher): one section per post, in order, and the
// message's final edit once every section has closed. The message takes
// no sections of the same stage opened anew (the step that runs again
// posts its own).
func (c *conv) ReattachMerged(ctx context.Context, posts []bot.Post, ids []string) ([]bot.Stream, error) {
	m := newMerged(c.a, "")
	out := make([]bot.Stream, len(posts))
	group := ""
	for i, p := range posts {
		s := &section{m: m, p: p.From, text: placeholder(p)}
		m.secs = append(m.secs, s)
		m.ids.Join(p.Created)
		out[i] = s
		group = p.Group
	}
	m.ids.Existing(ids)
	m.setWriter(c.mergedWriter(ctx, m, group, m.combined(), ids))
	return out, nil
}

// placeholder is what a section shows before its first words.
func placeholder(p bot.Post) string {
	if p.Placeholder != "" {
		return p.Placeholder
	}
	return "…"
}
