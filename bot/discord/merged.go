package discord

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
)

// A concurrent stage (Post.Group) opens six messages at once, and
// Discord's per-channel limit (about 30 creates a minute, a burst of 5 in
// the adapter's budget) cannot always afford them. When it cannot, the
// stage is shown as one message with a section per persona, each under a
// bold header with its name, emoji and role, kept merged to the end: six
// separate creates afterwards would cost what the channel lacks. The
// merged text is split at 2000 characters into further messages like any
// long speech, and it is edited as one stream, so six personas cost one
// refresh stream instead of six. When the channel can afford the stage,
// every persona posts as itself, as before.
const (
	// groupSeats is how many speeches a concurrent stage opens at once
	// (the six seats).
	groupSeats = 6
	// DefaultGroupHorizon is how far ahead a channel's budget is counted
	// when a concurrent stage starts: about how long its speeches last
	// (120–250 tokens at 40 tokens/s).
	DefaultGroupHorizon = 6 * time.Second
	// groupDecision is how long a stage's choice (merged or not) holds for
	// its later speakers, which open within moments of the first.
	groupDecision = 30 * time.Second
)

// groups are a place's concurrent stages: the merged message a stage
// being merged writes into, and the stages decided to go unmerged.
type groups struct {
	mu      sync.Mutex
	byGroup map[string]*groupState // by Post.Group
}

// groupState is what a channel knows of one concurrent stage (a Group).
type groupState struct {
	merged     *merged   // its open merged message, if any
	splitUntil time.Time // until when it goes unmerged (zero: not decided)
}

// state returns group's entry, made when missing; g.mu is held.
func (g *groups) state(group string) *groupState {
	if g.byGroup == nil {
		g.byGroup = map[string]*groupState{}
	}
	st := g.byGroup[group]
	if st == nil {
		st = &groupState{}
		g.byGroup[group] = st
	}
	return st
}

// merged is one message carrying a concurrent stage's speeches as
// sections.
type merged struct {
	w    bot.Stream // an orderedStream: its final is kept in reading order
	secs []*section // guarded by groups.mu
	// finishing: every section closed and the final on its way; a
	// speaker of the same Group opening after it starts a new message.
	finishing bool
	waiters   []func(error)
	ids       bot.MergedIDs // tells each section's Post.Created the message's IDs
}

// section is one persona's part of a merged message (a bot.Stream).
type section struct {
	g      *groups
	m      *merged
	p      bot.Persona
	text   string
	closed bool
}

var (
	_ bot.Stream      = (*section)(nil)
	_ bot.AsyncCloser = (*section)(nil)
)

// groupTight tells whether a channel's budget cannot afford a concurrent
// stage's messages now: the slots free at once plus those it earns over
// the horizon fall short of one per seat.
func (a *pacer) groupTight(channel string) bool {
	h := a.lim.GroupHorizon
	if h < 0 {
		return false
	}
	if h == 0 {
		h = DefaultGroupHorizon
	}
	b := a.budget(channel)
	return float64(b.free())+b.sched.Rate()*h.Seconds() < groupSeats
}

// openSection joins (or starts) the merged message of p.Group when the
// stage is merged; ok is false when p goes as a message of its own.
func (c *conv) openSection(ctx context.Context, p bot.Post) (bot.Stream, bool, error) {
	if p.Group == "" || p.Kind != bot.KindSpeech || c.isFallback() {
		return nil, false, nil
	}
	g := &c.groups
	now := c.a.o.Clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var m *merged
	if st := g.byGroup[p.Group]; st != nil {
		m = st.merged
	}
	if m == nil {
		if st := g.byGroup[p.Group]; st != nil && !st.splitUntil.IsZero() && now.Before(st.splitUntil) {
			st.splitUntil = now.Add(groupDecision)
			return nil, false, nil
		}
		if !c.a.pace.groupTight(c.channel) {
			for k, st := range g.byGroup {
				if st.merged == nil && !now.Before(st.splitUntil) {
					delete(g.byGroup, k)
				}
			}
			g.state(p.Group).splitUntil = now.Add(groupDecision)
			return nil, false, nil
		}
		m = &merged{}
		s := &section{g: g, m: m, p: p.From, text: placeholder(p)}
		m.secs = append(m.secs, s)
		m.ids.Join(p.Created)
		w, err := c.Open(ctx, bot.Post{From: stageVoice(), Kind: bot.KindSpeech, Placeholder: m.combined(), Created: m.ids.Created})
		if err != nil {
			return nil, true, err
		}
		m.w = w
		g.state(p.Group).merged = m
		c.a.log.Debug("concurrent stage merged: the channel's budget is tight", "channel", c.channel, "group", p.Group)
		return s, true, nil
	}
	s := &section{g: g, m: m, p: p.From, text: placeholder(p)}
	m.secs = append(m.secs, s)
	m.ids.Join(p.Created)
	m.w.Update(m.combined())
	return s, true, nil
}

// stageVoice is the author of a merged message: the table itself.
func stageVoice() bot.Persona {
	return bot.Persona{ID: "table", Name: "The table", Emoji: "🪑", Moderator: true}
}

func placeholder(p bot.Post) string {
	if p.Placeholder != "" {
		return p.Placeholder
	}
	return "…"
}

// combined is the merged text: each section under its persona's header
// (g.mu held).
func (m *merged) combined() string {
	var b strings.Builder
	for i, s := range m.secs {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("**")
		b.WriteString(personaName(s.p))
		b.WriteString("**\n")
		b.WriteString(s.text)
	}
	return b.String()
}

// Update replaces the section's text.
func (s *section) Update(text string) {
	s.g.mu.Lock()
	if s.closed || text == "" {
		s.g.mu.Unlock()
		return
	}
	s.text = text
	t := s.m.combined()
	s.g.mu.Unlock()
	s.m.w.Update(t)
}

// CloseThen sets the section's final text; the merged message gets its
// final edit when every section has closed, and done is called once it is
// shown (or failed).
func (s *section) CloseThen(ctx context.Context, final string, done func(error)) {
	g, m := s.g, s.m
	g.mu.Lock()
	if !s.closed {
		if final != "" {
			s.text = final
		}
		s.closed = true
	}
	if done != nil {
		m.waiters = append(m.waiters, done)
	}
	all := true
	for _, x := range m.secs {
		all = all && x.closed
	}
	t := m.combined()
	start := all && !m.finishing
	if start {
		m.finishing = true
		for k, st := range g.byGroup {
			if st.merged == m {
				st.merged = nil
				if st.splitUntil.IsZero() {
					delete(g.byGroup, k)
				}
			}
		}
	}
	g.mu.Unlock()
	if !start {
		if !all {
			m.w.Update(t)
		}
		return
	}
	m.w.(bot.AsyncCloser).CloseThen(ctx, t, func(err error) {
		g.mu.Lock()
		ws := m.waiters
		m.waiters = nil
		g.mu.Unlock()
		for _, w := range ws {
			w(err)
		}
	})
}

// Close delivers the section's final text and waits until the merged
// message's final is shown (every section closed), or ctx ends.
func (s *section) Close(ctx context.Context, final string) error {
	return closeWait(ctx, s, final)
}
