package telegram

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
)

// markerBase is the first of the private-use runes that stand for a
// section's header inside a merged text; the sender replaces each with the
// persona's heading. Model text never contains them (they are removed).
const markerBase = 0xF0000

// merged is one group-chat message carrying every speech of a concurrent
// stage (Post.Group) as sections, edited at most every GroupEditInterval
// (DESIGN §8): six personas cost one edit stream, not six.
type merged struct {
	a   *Adapter
	key string
	w   *bot.StreamWriter

	mu        sync.Mutex
	secs      []*section
	finishing bool
	done      chan struct{}
	err       error
}

// section is one persona's part of a merged message (a bot.Stream).
type section struct {
	m      *merged
	p      bot.Persona
	text   string
	closed bool
}

// section joins (or starts) the merged message of p.Group in c's chat.
func (a *Adapter) section(ctx context.Context, c *conv, p bot.Post) bot.Stream {
	key := strconv.FormatInt(c.chat, 10) + "/" + p.Group
	ph := p.Placeholder
	if ph == "" {
		ph = "…"
	}
	o := c.writerOptions(a.main, bot.Persona{Moderator: true}, "", a.lim.GroupEditInterval) // takes a.mu
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.merges[key]
	if m == nil {
		m = &merged{a: a, key: key, done: make(chan struct{})}
		a.merges[key] = m
	}
	s := &section{m: m, p: p.From, text: ph}
	m.mu.Lock()
	m.secs = append(m.secs, s)
	text := m.combined()
	m.mu.Unlock()
	if m.w == nil {
		snd := &sender{c: c, cl: a.main, render: m.render}
		o.Placeholder = text
		o.Measure = m.measure
		o.Logger = a.log.With("chat", c.chat, "group", p.Group)
		m.w = bot.NewStreamWriter(ctx, snd, o)
	} else {
		m.w.Update(text)
	}
	return s
}

// Update replaces the section's text.
func (s *section) Update(text string) {
	m := s.m
	m.mu.Lock()
	if s.closed {
		m.mu.Unlock()
		return
	}
	s.text = clean(text)
	t := m.combined()
	m.mu.Unlock()
	m.w.Update(t)
}

// Close sets the section's final text; the merged message gets its final
// edit when every section has closed. Close returns once that edit is
// shown (or failed), or ctx ends.
func (s *section) Close(ctx context.Context, final string) error {
	m := s.m
	m.a.mu.Lock()
	m.mu.Lock()
	if !s.closed {
		if final != "" {
			s.text = clean(final)
		}
		s.closed = true
	}
	all := true
	for _, x := range m.secs {
		all = all && x.closed
	}
	t := m.combined()
	start := all && !m.finishing
	if start {
		m.finishing = true
		if m.a.merges[m.key] == m {
			delete(m.a.merges, m.key)
		}
	}
	m.mu.Unlock()
	m.a.mu.Unlock()
	if start {
		go func() { // bounded by the writer's final delivery
			err := m.w.Close(context.Background(), t)
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			close(m.done)
		}()
	} else if !all {
		m.w.Update(t)
	}
	select {
	case <-m.done:
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// combined is the raw merged text: each section is its marker rune and its
// text. Callers hold m.mu.
func (m *merged) combined() string {
	var b strings.Builder
	for i, s := range m.secs {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteRune(rune(markerBase + i))
		b.WriteString(s.text)
	}
	return b.String()
}

func (m *merged) persona(r rune) (bot.Persona, bool) {
	i := int(r) - markerBase
	if i < 0 || i >= 256 {
		return bot.Persona{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i >= len(m.secs) {
		return bot.Persona{}, false
	}
	return m.secs[i].p, true
}

// measure counts what Telegram will count: a marker is its header.
func (m *merged) measure(s string) int {
	n := 0
	for _, r := range s {
		if p, ok := m.persona(r); ok {
			n += headerLen(p)
			continue
		}
		n += bot.UTF16Len(string(r))
	}
	return n
}

// render turns one part of the merged text into HTML.
func (m *merged) render(part string) string {
	var b strings.Builder
	seg := strings.Builder{}
	flush := func() {
		b.WriteString(body(seg.String()))
		seg.Reset()
	}
	for _, r := range part {
		if p, ok := m.persona(r); ok {
			flush()
			b.WriteString(header(p))
			continue
		}
		seg.WriteRune(r)
	}
	flush()
	return b.String()
}

// clean removes the marker runes from text we did not write.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= markerBase && r < markerBase+256 {
			return -1
		}
		return r
	}, s)
}
