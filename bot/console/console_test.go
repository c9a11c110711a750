package console

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
)

// syncBuffer is a bytes.Buffer safe for the console's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func persona(name string) bot.Persona {
	return bot.Persona{ID: name, Name: name, Emoji: "🙂", Role: "role"}
}

// Concurrent speeches are shown one after another, each whole, in the order
// they were opened; the first streams live.
func TestConcurrentSpeechesDoNotInterleave(t *testing.T) {
	out := &syncBuffer{}
	c := New(out, Options{})
	ctx := context.Background()
	a, _ := c.Open(ctx, bot.Post{From: persona("Ann"), Group: "g"})
	b, _ := c.Open(ctx, bot.Post{From: persona("Bo"), Group: "g"})
	a.Update("Ann says")
	b.Update("Bo says")
	if strings.Contains(out.String(), "Bo says") {
		t.Fatal("the second speech was printed while the first was still speaking")
	}
	a.Update("Ann says hello")
	if !strings.Contains(out.String(), "Ann says hello") {
		t.Fatal("the first speech does not stream live")
	}
	_ = b.Close(ctx, "Bo says goodbye")
	_ = a.Close(ctx, "Ann says hello and more")
	got := out.String()
	ia, ib := strings.Index(got, "Ann says hello and more"), strings.Index(got, "Bo says goodbye")
	if ia < 0 || ib < 0 || ia > ib {
		t.Fatalf("order or text wrong:\n%s", got)
	}
	if strings.Count(got, "Ann says") != 1 {
		t.Fatalf("text repeated instead of streamed as deltas:\n%s", got)
	}
}

func TestRegenerationIsVisible(t *testing.T) {
	out := &syncBuffer{}
	c := New(out, Options{})
	s, _ := c.Open(context.Background(), bot.Post{From: persona("Ann")})
	s.Update("first try")
	s.Update("second") // the model was regenerated after a failure
	_ = s.Close(context.Background(), "")
	if !strings.Contains(out.String(), "↺ second") {
		t.Fatalf("regeneration not shown:\n%s", out.String())
	}
}

func TestAskKeywords(t *testing.T) {
	q := bot.Question{Text: "Your turn", Keywords: []string{"a", "b"}, Timeout: time.Minute}
	cases := []struct {
		name, line string
		want       bot.Answer
	}{
		{"enter keeps", "", bot.Answer{Action: bot.ActionKeep, Keywords: []string{"a", "b"}}},
		{"dash skips", "-", bot.Answer{Action: bot.ActionSkip, Keywords: []string{"a", "b"}}},
		{"a list replaces", "红色，tassel, lotus", bot.Answer{Action: bot.ActionEdit, Keywords: []string{"红色", "tassel", "lotus"}}},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			out := &syncBuffer{}
			var heard []string
			c := New(out, Options{Interactive: true, OnLine: func(l string) { heard = append(heard, l) }})
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go c.ReadLines(ctx, pr)
			done := make(chan bot.Answer, 1)
			go func() {
				a, _ := c.AskKeywords(ctx, q)
				done <- a
			}()
			for !strings.Contains(out.String(), "Your turn") {
				time.Sleep(time.Millisecond) // wait for the prompt, polling
			}
			for {
				c.mu.Lock()
				asking := c.asking != nil
				c.mu.Unlock()
				if asking {
					break
				}
				time.Sleep(time.Millisecond)
			}
			_, _ = io.WriteString(pw, cs.line+"\n")
			a := <-done
			if a.Action != cs.want.Action || strings.Join(a.Keywords, "|") != strings.Join(cs.want.Keywords, "|") {
				t.Fatalf("got %+v, want %+v", a, cs.want)
			}
			if len(heard) != 0 {
				t.Fatalf("the answer was also taken as an interjection: %q", heard)
			}
		})
	}
	// Without a terminal the vote is kept at once.
	a, err := New(&syncBuffer{}, Options{}).AskKeywords(context.Background(), q)
	if err != nil || a.Action != bot.ActionKeep {
		t.Fatalf("non-interactive: %+v %v", a, err)
	}
}

func TestLinesOutsideAQuestionAreInterjections(t *testing.T) {
	var mu sync.Mutex
	var heard []string
	c := New(&syncBuffer{}, Options{Interactive: true, OnLine: func(l string) {
		mu.Lock()
		heard = append(heard, l)
		mu.Unlock()
	}})
	c.ReadLines(context.Background(), strings.NewReader("make it blue\n\n  and smaller  \n"))
	if strings.Join(heard, "|") != "make it blue|and smaller" {
		t.Fatalf("heard %q", heard)
	}
}
