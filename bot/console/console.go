// Package console is the terminal adapter: the embedded default that runs a
// session with no chat platform. It implements bot.Poster and bot.Asker on
// an io.Writer and an io.Reader.
//
// A terminal is one scrolling stream, so concurrent messages are queued in
// the order they were opened: the first streams live, token by token, and
// the others are shown (and then continue live) when their turn comes. It
// never imports the domain.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
)

// Options configure the console.
type Options struct {
	Color bool // ANSI colours (persona colours in 24-bit)
	// Interactive is false when stdin is not a terminal or --yes was given:
	// questions take their defaults at once.
	Interactive bool
	// OnLine receives lines typed while no question is open (interjections).
	OnLine func(line string)
	// ImageDir is where posted images are written.
	ImageDir string
	// Clock times the people's turn; the wall clock when nil.
	Clock clock.Clock
}

// Console writes a session to a terminal.
type Console struct {
	out io.Writer
	o   Options

	mu    sync.Mutex
	cond  *sync.Cond
	queue []*stream

	lines  chan string
	asking chan string // non-nil while a question waits for a line
}

var (
	_ bot.Conversation = (*Console)(nil)
)

// New returns a console writing to out.
func New(out io.Writer, o Options) *Console {
	c := &Console{out: out, o: o, lines: make(chan string)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// ReadLines feeds lines from in to open questions or to Options.OnLine
// until in ends or ctx is done. Run it in its own goroutine.
func (c *Console) ReadLines(ctx context.Context, in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		c.mu.Lock()
		ask := c.asking
		c.mu.Unlock()
		if ask != nil {
			select {
			case ask <- line:
			case <-ctx.Done():
				return
			}
			continue
		}
		if line != "" && c.o.OnLine != nil {
			c.o.OnLine(line)
		}
	}
}

type stream struct {
	c       *Console
	p       bot.Post
	text    string
	printed string
	header  bool
	closed  bool
}

// Open queues a message; the board is printed at once and not queued.
func (c *Console) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	s := &stream{c: c, p: p}
	if p.Kind == bot.KindBoard {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.printBoard(p.Placeholder)
		return &boardStream{c: c}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(c.queue, s)
	if len(c.queue) == 1 {
		c.show(s)
	}
	return s, nil
}

func (s *stream) Update(text string) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.closed {
		return
	}
	s.text = text
	if len(c.queue) > 0 && c.queue[0] == s {
		c.show(s)
	}
}

func (s *stream) Close(_ context.Context, final string) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.closed {
		return nil
	}
	if final != "" {
		s.text = final
	}
	s.closed = true
	for len(c.queue) > 0 {
		head := c.queue[0]
		c.show(head)
		if !head.closed {
			break
		}
		c.end(head)
		c.queue = c.queue[1:]
	}
	c.cond.Broadcast()
	return nil
}

// show prints what of s's text is not yet on screen.
func (c *Console) show(s *stream) {
	if !s.header {
		s.header = true
		c.printHeader(s.p)
	}
	text := s.text
	if s.p.Kind != bot.KindSpeech {
		if !s.closed {
			return // notices and banners are printed whole
		}
		text = c.markdown(text)
	}
	if strings.HasPrefix(text, s.printed) {
		fmt.Fprint(c.out, text[len(s.printed):])
	} else { // the model regenerated: start over visibly
		fmt.Fprint(c.out, "\n↺ "+text)
	}
	s.printed = text
}

func (c *Console) end(s *stream) {
	switch s.p.Kind {
	case bot.KindBanner:
		fmt.Fprint(c.out, c.reset()+"\n")
	default:
		fmt.Fprint(c.out, "\n")
	}
}

func (c *Console) printHeader(p bot.Post) {
	switch p.Kind {
	case bot.KindBanner:
		fmt.Fprint(c.out, "\n"+c.bold())
	case bot.KindNotice:
		fmt.Fprint(c.out, "\n")
	default:
		role := ""
		if p.From.Role != "" {
			role = c.dim() + " · " + p.From.Role + c.reset()
		}
		fmt.Fprintf(c.out, "\n%s %s%s%s%s%s\n", p.From.Emoji, c.bold(), c.color(p.From.Color), p.From.Name, c.reset(), role)
	}
}

type boardStream struct{ c *Console }

func (b *boardStream) Update(string) {} // a terminal scrolls: the board shows at start and end

func (b *boardStream) Close(_ context.Context, final string) error {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	for len(b.c.queue) > 0 { // after everything else
		b.c.cond.Wait()
	}
	b.c.printBoard(final)
	return nil
}

func (c *Console) printBoard(text string) {
	fmt.Fprintf(c.out, "\n%s┌─\n│ %s\n└─%s\n", c.dim(), strings.ReplaceAll(c.markdown(text), "\n", "\n│ "), c.reset())
}

// SendImage writes the picture under ImageDir and prints its path.
func (c *Console) SendImage(_ context.Context, from bot.Persona, img bot.Attachment, caption string) error {
	dir := c.o.ImageDir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create image dir: %w", err)
	}
	path := filepath.Join(dir, filepath.Base(img.Name))
	if err := os.WriteFile(path, img.Data, 0o644); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) > 0 {
		c.cond.Wait()
	}
	fmt.Fprintf(c.out, "\n%s 🖼️  %s — %s\n", from.Emoji, path, caption)
	return nil
}

// AskKeywords asks at the prompt; Enter keeps, "-" skips, a comma list
// replaces. Without a terminal the vote is kept at once.
func (c *Console) AskKeywords(ctx context.Context, q bot.Question) (bot.Answer, error) {
	c.mu.Lock()
	for len(c.queue) > 0 {
		c.cond.Wait()
	}
	fmt.Fprintf(c.out, "\n%s%s%s\n  %s\n", c.bold(), q.Text, c.reset(), strings.Join(q.Keywords, " · "))
	if !c.o.Interactive {
		fmt.Fprintln(c.out, "  (no terminal input: keeping the vote)")
		c.mu.Unlock()
		return bot.Answer{Action: bot.ActionKeep, Keywords: q.Keywords, By: "console"}, nil
	}
	fmt.Fprintf(c.out, "  [Enter] keep · [-] skip · or type keywords, comma-separated (%s)\n> ", q.Timeout.Round(time.Second))
	ask := make(chan string)
	c.asking = ask
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.asking = nil
		c.mu.Unlock()
	}()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timedOut := make(chan struct{})
	go func() {
		if clock.Or(c.o.Clock).Sleep(tctx, q.Timeout) == nil {
			close(timedOut)
		}
	}()
	select {
	case line := <-ask:
		switch {
		case line == "":
			return bot.Answer{Action: bot.ActionKeep, Keywords: q.Keywords, By: "console"}, nil
		case line == "-" || strings.EqualFold(line, "skip"):
			return bot.Answer{Action: bot.ActionSkip, Keywords: q.Keywords, By: "console"}, nil
		}
		var kws []string
		for _, k := range strings.FieldsFunc(line, func(r rune) bool {
			return r == ',' || r == '，' || r == '、' || r == ';' || r == '；'
		}) {
			if k = strings.TrimSpace(k); k != "" {
				kws = append(kws, k)
			}
		}
		return bot.Answer{Action: bot.ActionEdit, Keywords: kws, By: "console"}, nil
	case <-timedOut:
		return bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}, nil
	case <-ctx.Done():
		return bot.Answer{}, ctx.Err()
	}
}

var boldRe = regexp.MustCompile(`\*\*([^*]+)\*\*`)

func (c *Console) markdown(s string) string {
	if !c.o.Color {
		return boldRe.ReplaceAllString(s, "$1")
	}
	return boldRe.ReplaceAllString(s, c.bold()+"$1"+c.reset())
}

func (c *Console) bold() string  { return c.esc("\x1b[1m") }
func (c *Console) dim() string   { return c.esc("\x1b[2m") }
func (c *Console) reset() string { return c.esc("\x1b[0m") }

func (c *Console) esc(s string) string {
	if c.o.Color {
		return s
	}
	return ""
}

func (c *Console) color(hex string) string {
	if !c.o.Color || len(hex) != 7 || hex[0] != '#' {
		return ""
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("\x1b[38;2;%d;%d;%dm", v>>16, (v>>8)&0xff, v&0xff)
}
