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
	a     *Adapter
	key   string
	w     *bot.StreamWriter // set once by the first section, then ready closes
	ready chan struct{}

	ids bot.MergedIDs // tells each section's Post.Created the message's IDs

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
func (c *conv) section(ctx context.Context, p bot.Post) bot.Stream {
	a := c.a
	key := strconv.FormatInt(c.chat, 10) + "/" + p.Group
	var m *merged
	s := &section{p: p.From, text: placeholder(p)}
	var text string
	first := false
	for {
		m, first = a.merges.join(key, func() *merged { return newMerged(a, key) })
		m.mu.Lock()
		if m.finishing { // its last section closed meanwhile: start another
			m.mu.Unlock()
			a.merges.drop(key, m)
			continue
		}
		s.m = m
		m.secs = append(m.secs, s)
		text = m.combined()
		m.mu.Unlock()
		break
	}
	m.ids.Join(p.Created)
	if first {
		m.setWriter(c.mergedWriter(ctx, m, p.Group, text, nil))
	} else {
		m.writer().Update(text)
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
	m.writer().Update(t)
}

// Close sets the section's final text; the merged message gets its final
// edit when every section has closed. Close returns once that edit is
// shown (or failed), or ctx ends.
func (s *section) Close(ctx context.Context, final string) error {
	m := s.m
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
	}
	m.mu.Unlock()
	if start {
		m.a.merges.drop(m.key, m)
	}
	if start {
		go func() { // bounded by the writer's final delivery
			err := m.writer().Close(context.Background(), t)
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			close(m.done)
		}()
	} else if !all {
		m.writer().Update(t)
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

// setWriter gives the merged message its writer (by its first section).
func (m *merged) setWriter(w *bot.StreamWriter) {
	m.w = w
	close(m.ready)
}

// writer waits until the first section has made the writer.
func (m *merged) writer() *bot.StreamWriter {
	<-m.ready
	return m.w
}

// mergeBook holds the merged message of each chat's concurrent stage
// ("<chat>/<group>") while sections may still join it.
type mergeBook struct {
	mu sync.Mutex
	m  map[string]*merged
}

// join returns the key's merged message, made by mk when there is none
// (first is then true).
func (b *mergeBook) join(key string, mk func() *merged) (m *merged, first bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.m[key]; m != nil {
		return m, false
	}
	if b.m == nil {
		b.m = map[string]*merged{}
	}
	m = mk()
	b.m[key] = m
	return m, true
}

// drop forgets m once it is finishing (if it is still the key's).
func (b *mergeBook) drop(key string, m *merged) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m[key] == m {
		delete(b.m, key)
	}
}
