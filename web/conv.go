package web

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
)

// Conv is the conversation a session posts into: every post becomes events
// in the table's Log. It implements bot.Conversation and bot.Answerable.
type Conv struct {
	log *Log
	// MaxImage caps one posted image's bytes (default 16 MiB); a larger one
	// is announced without its picture.
	MaxImage int

	mu     sync.Mutex
	msgs   int
	images []image
	asks   int
	open   map[string]chan bot.Answer // people's turns by ref
}

type image struct {
	MIME string
	Data []byte
}

var (
	_ bot.Conversation = (*Conv)(nil)
	_ bot.Answerable   = (*Conv)(nil)
)

// NewConv returns a conversation writing into log.
func NewConv(log *Log) *Conv {
	return &Conv{log: log, MaxImage: 16 << 20, open: map[string]chan bot.Answer{}}
}

var kindNames = map[bot.Kind]string{bot.KindSpeech: "speech", bot.KindBoard: "board", bot.KindBanner: "banner", bot.KindNotice: "notice"}

func speaker(p bot.Persona) *Speaker {
	return &Speaker{ID: p.ID, Name: p.Name, Emoji: p.Emoji, Color: p.Color, Avatar: p.AvatarURL, Role: p.Role}
}

// Open starts a message: an "open" event now, its text as deltas.
func (c *Conv) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	c.mu.Lock()
	c.msgs++
	n := c.msgs
	c.mu.Unlock()
	ph := p.Placeholder
	if ph == "" {
		ph = "…"
	}
	c.log.Add(Event{T: "open", M: n, Kind: kindNames[p.Kind], Group: p.Group, From: speaker(p.From), S: ph})
	return &stream{log: c.log, m: n}, nil
}

// stream turns the snapshots a session sends into appends: a delta when
// the new text extends what was sent, a reset when it does not (a model
// regenerated).
type stream struct {
	log    *Log
	m      int
	mu     sync.Mutex
	text   string
	units  int // utf16Len(text)
	closed bool
}

func (s *stream) Update(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.set(text)
	}
}

// set sends what changed; the caller holds s.mu.
func (s *stream) set(text string) {
	switch {
	case text == s.text:
	case strings.HasPrefix(text, s.text):
		add := text[len(s.text):]
		s.log.Add(Event{T: "delta", M: s.m, O: s.units, S: add})
		s.units += utf16Len(add)
	default:
		s.log.Add(Event{T: "reset", M: s.m, S: text})
		s.units = utf16Len(text)
	}
	s.text = text
}

func (s *stream) Close(_ context.Context, final string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if final != "" {
		s.set(final)
	}
	s.closed = true
	s.log.Add(Event{T: "close", M: s.m})
	return nil
}

// SendImage keeps the picture for the page and announces it.
func (c *Conv) SendImage(_ context.Context, from bot.Persona, img bot.Attachment, caption string) error {
	n := c.keepImage(img.MIME, img.Data)
	c.log.Add(Event{T: "image", Image: n, From: speaker(from), S: caption})
	return nil
}

// keepImage stores a picture for the page and returns its number, 0 when
// it is over MaxImage.
func (c *Conv) keepImage(mime string, data []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(data) > c.MaxImage {
		return 0
	}
	c.images = append(c.images, image{MIME: mime, Data: data})
	return len(c.images)
}

// Image returns posted image n (from 1).
func (c *Conv) Image(n int) (mime string, data []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > len(c.images) || c.images[n-1].Data == nil {
		return "", nil, false
	}
	return c.images[n-1].MIME, c.images[n-1].Data, true
}

// AskKeywords shows the people's turn on the page and waits for the
// participant's answer, the timeout or ctx.
func (c *Conv) AskKeywords(ctx context.Context, q bot.Question) (bot.Answer, error) {
	c.mu.Lock()
	c.asks++
	ref := "q" + strconv.Itoa(c.asks)
	ch := make(chan bot.Answer, 1)
	c.open[ref] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.open, ref)
		c.mu.Unlock()
	}()
	c.log.Add(Event{T: "ask", Ref: ref, S: q.Text, Words: q.Keywords, Secs: int(q.Timeout / time.Second)})
	var timeout <-chan time.Time
	if q.Timeout > 0 {
		t := time.NewTimer(q.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var ans bot.Answer
	select {
	case ans = <-ch:
	case <-timeout:
		ans = bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}
	case <-ctx.Done():
		c.log.Add(Event{T: "answered", Ref: ref, Action: "closed"})
		return bot.Answer{}, ctx.Err()
	}
	c.log.Add(Event{T: "answered", Ref: ref, Action: ans.Action, Words: ans.Keywords, By: ans.By})
	return ans, nil
}

// SubmitAnswer answers the open people's turn ref; false when none is
// open (answered already, timed out, or never asked).
func (c *Conv) SubmitAnswer(ref string, ans bot.Answer) bool {
	c.mu.Lock()
	ch, ok := c.open[ref]
	if ok {
		delete(c.open, ref)
	}
	c.mu.Unlock()
	if ok {
		ch <- ans // buffered: never blocks
	}
	return ok
}

// OpenQuestion returns the ref of the open people's turn, "" when none.
func (c *Conv) OpenQuestion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref := range c.open {
		return ref
	}
	return ""
}
