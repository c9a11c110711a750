package roundtable

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

func TestCutSpeech(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("This is a sentence of eight words here. ", 10) // 80 words
	cases := []struct {
		name, in string
		limit    int
		want     string
		cut      bool
	}{
		{"within", "Short and sweet. Done.", 10, "Short and sweet. Done.", false},
		{"at a sentence end", long, 20, strings.TrimSpace(strings.Repeat("This is a sentence of eight words here. ", 2)), true},
		{"mid-sentence end is skipped", "One. " + strings.Repeat("word ", 30), 12, "One. word word word word word word word word word word word…", true},
		{"decimal is no sentence end", "Pi is 3.14 and more words follow here without a stop at all ok", 8, "Pi is 3.14 and more words follow here…", true},
		{"chinese", strings.Repeat("这是一个句子。", 10), 15, "这是一个句子。这是一个句子。", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, cut := cutSpeech(c.in, c.limit)
			if got != c.want || cut != c.cut {
				t.Fatalf("cutSpeech = %q, %v; want %q, %v", got, cut, c.want, c.cut)
			}
			if units(got) > c.limit {
				t.Fatalf("%d units over the limit %d", units(got), c.limit)
			}
		})
	}
}

func TestTokenCapFromWordLimit(t *testing.T) {
	t.Parallel()
	for stage, words := range stageWords {
		if got := maxTokensFor(stage); got < words*2 || got > words*2+400 {
			t.Errorf("%s: cap %d tokens for %d words", stage, got, words)
		}
	}
}

// A seat whose model ignores the word limit and pours out 20,000
// characters: its stream is stopped, its speech cut at a sentence and
// marked, later prompts carry a bounded part of it, the board names it, and
// the session finishes.
func TestRunawaySeatIsCutNotFatal(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	pack, err := LoadPack("papercut")
	if err != nil {
		t.Fatal(err)
	}
	runaway := pack.Seats[0].ID
	flood := strings.Repeat("I have so much more to say about this. ", 500) // 20,000 characters
	var deltas atomic.Int64
	m.override = func(req providers.Request) (string, bool) {
		parts := strings.Split(req.Tag, "/")
		if parts[1] == runaway && (parts[0] == StageIntro || parts[0] == StageDiscussion) {
			return flood, true
		}
		return "", false
	}
	counting := chatFunc(func(req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
		return m.Stream(t.Context(), req, func(d providers.Delta) error {
			if _, flooded := m.override(req); flooded {
				deltas.Add(1)
			}
			return fn(d)
		})
	})
	cfg := testConfig()
	cfg.MaxSessionTokens = 200000
	conv := &fakeConv{}
	s, err := runSession(t, cfg, testDeps(counting, st), conv, Start{Topic: "lanterns"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	meta, _ := st.GetSession(t.Context(), s.ID())
	if meta.Status != store.StatusFinished {
		t.Fatalf("status %s (%s), want finished", meta.Status, meta.Error)
	}
	cuts := 0
	for _, p := range conv.speeches() {
		if p.p.From.Name != s.t.persona(0).Name || !strings.Contains(p.final, "cut: too long") {
			continue
		}
		cuts++
		body := strings.TrimSuffix(p.final, " "+s.t.ui("overran"))
		if !strings.HasSuffix(body, "about this.") || units(body) > speechLimit(StageDiscussion) {
			t.Fatalf("cut speech (%d units): %q", units(body), body)
		}
	}
	if cuts < 2 {
		t.Fatalf("%d cut speeches, want the intro and every discussion turn", cuts)
	}
	// The fake sends a word a delta and offers 4,000 each time; a stopped
	// stream takes one past the limit.
	if n := int(deltas.Load()); n > (speechLimit(StageDiscussion)+1)*cuts {
		t.Fatalf("the streams went on after the limit: %d deltas for %d speeches", n, cuts)
	}
	for _, req := range m.reqs {
		if n := strings.Count(req.Messages[len(req.Messages)-1].Content, "so much more to say"); n > speechLimit(StageDiscussion)/8*cuts {
			t.Fatalf("a prompt carries %d sentences of the runaway", n)
		}
	}
	board := s.board.text(true)
	if !strings.Contains(board, "Cut for length: "+s.t.persona(0).Name+" ×") {
		t.Fatalf("board does not report the seat:\n%s", board)
	}
}

func TestCarriedIsBounded(t *testing.T) {
	t.Parallel()
	if got := carried(strings.Repeat("字", 5000)); utf8.RuneCountInString(got) != maxCarryRunes+1 {
		t.Fatalf("carried keeps %d runes", utf8.RuneCountInString(got))
	}
	if got := carried("short"); got != "short" {
		t.Fatalf("carried(short) = %q", got)
	}
}

// chatFunc adapts a function to providers.ChatModel.
type chatFunc func(req providers.Request, fn providers.StreamFunc) (providers.Response, error)

func (f chatFunc) Stream(_ context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	return f(req, fn)
}
