package roundtable

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// referenceContext is the context block built plainly with fmt and
// concatenation, in the cache-friendly order (topic, memory, photo,
// summary, transcript): the one-buffer builder must produce the same text
// byte for byte.
func referenceContext(s *speaker) string {
	lang := s.lang()
	var b strings.Builder
	b.WriteString(say(lang, "topic", s.st.Meta.Topic))
	if s.st.Memory != "" {
		b.WriteString("\n" + say(lang, "memory", s.st.Memory))
	}
	if s.st.PhotoText != "" {
		b.WriteString("\n" + say(lang, "photo", s.st.PhotoText))
	}
	if s.st.Summary != "" {
		b.WriteString("\n\n" + say(lang, "summary", s.st.Summary))
	}
	if t := referenceRenderTurns(s, s.st.Transcript[s.st.SummaryUpTo:]); t != "" {
		b.WriteString("\n\n" + say(lang, "transcript") + "\n" + t)
	}
	return b.String()
}

// referenceTurn is one turn's line written with fmt.
func referenceTurn(s *speaker, t Turn) string {
	if t.Human {
		return fmt.Sprintf("[%s] %s: «%s»\n", say(s.lang(), "people_who"), t.Name, t.Text)
	}
	return fmt.Sprintf("%s (%s): %s\n", t.Name, t.Role, t.Text)
}

// referenceRenderTurns is renderTurns written with fmt.
func referenceRenderTurns(s *speaker, turns []Turn) string {
	var b strings.Builder
	for _, t := range turns {
		b.WriteString(referenceTurn(s, t))
	}
	return strings.TrimSpace(b.String())
}

func promptCases() []struct {
	name string
	st   State
} {
	turns := []Turn{
		{Name: "Ada", Role: "craftsman", Text: "  Red paper folds well.  "},
		{Name: "Lin", Human: true, Text: "What about a **bookmark**?"},
		{Name: "Bo", Role: "designer", Text: "A cat, cut in one piece.\n"},
	}
	return []struct {
		name string
		st   State
	}{
		{"topic only", State{Meta: store.Session{Topic: "a lantern", Language: "en"}}},
		{"everything, English", State{Meta: store.Session{Topic: "a lantern", Language: "en"}, PhotoText: "a red fish",
			Memory: "last time: cranes", Summary: "they agreed on red", SummaryUpTo: 1, Transcript: turns,
			Unanswered: []Turn{{Name: "Lin", Human: true, Text: "and gold?"}}}},
		{"Chinese, whole transcript", State{Meta: store.Session{Topic: "灯笼", Language: "zh"}, PhotoText: "红鱼", Transcript: turns}},
		{"summary covers every turn", State{Meta: store.Session{Topic: "x", Language: "en"}, Summary: "s", SummaryUpTo: 3, Transcript: turns}},
		{"blank turn", State{Meta: store.Session{Topic: "x", Language: "en"}, Transcript: []Turn{{Text: " "}}}},
	}
}

func TestContextMatchesReference(t *testing.T) {
	t.Parallel()
	for _, tc := range promptCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := &speaker{table: &table{st: tc.st}}
			if got, want := s.contextPrompt(), referenceContext(s); got != want {
				t.Errorf("context:\n%q\nwant\n%q", got, want)
			}
			turns := s.st.Transcript[s.st.SummaryUpTo:]
			if got, want := s.renderTurns(turns), referenceRenderTurns(s, turns); got != want {
				t.Errorf("renderTurns = %q, want %q", got, want)
			}
		})
	}
}

// renderRequest writes a request's messages for a golden file.
func renderRequest(msgs []providers.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "=== %s\n%s\n", m.Role, m.Content)
	}
	return b.String()
}

// TestPromptGolden keeps the whole layout of a seat's call, in both
// languages, in testdata/prompt_*.golden (go test -run TestPromptGolden -update).
func TestPromptGolden(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			pack, err := LoadPack("papercut")
			if err != nil {
				t.Fatal(err)
			}
			st := promptCases()[1].st
			st.Meta.Language, st.Pack = lang, pack
			for _, seat := range pack.Seats {
				st.Roles = append(st.Roles, seat.Role)
			}
			s := &speaker{table: &table{st: st}}
			got := renderRequest(s.messages(call{seat: 4, context: true, prompt: say(lang, "discuss", 1, 2)}))
			path := filepath.Join("testdata", "prompt_"+lang+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("prompt differs from %s:\n%s", path, got)
			}
		})
	}
}

func BenchmarkContextPrompt(b *testing.B) {
	var turns []Turn
	for i := range 14 {
		turns = append(turns, Turn{Name: fmt.Sprint("Seat", i%6), Role: "designer", Text: strings.Repeat("red paper folds well ", 40)})
	}
	s := &speaker{table: &table{st: State{Meta: store.Session{Topic: "a paper-cut bookmark", Language: "en"}, PhotoText: "a red fish", Transcript: turns}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.contextPrompt()
	}
}
