package roundtable

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tableround/tableround/memory"
)

// referenceUserPrompt is how the contextual user prompt was built before
// it was written into one buffer (fmt and concatenation): the new builder
// must produce the same text byte for byte.
func referenceUserPrompt(s *Session, prompt string) string {
	lang := s.lang()
	var b strings.Builder
	b.WriteString(say(lang, "topic", s.st.Meta.Topic))
	if s.st.PhotoText != "" {
		b.WriteString("\n" + say(lang, "photo", s.st.PhotoText))
	}
	if s.st.Memory != "" {
		b.WriteString("\n" + say(lang, "memory", s.st.Memory))
	}
	if s.st.Summary != "" {
		b.WriteString("\n\n" + say(lang, "summary", s.st.Summary))
	}
	if t := referenceRenderTurns(s, s.st.Transcript[s.st.SummaryUpTo:]); t != "" {
		b.WriteString("\n\n" + say(lang, "transcript") + "\n" + t)
	}
	return b.String() + "\n\n" + s.answerPeople() + prompt
}

// referenceRenderTurns is the old renderTurns.
func referenceRenderTurns(s *Session, turns []Turn) string {
	var b strings.Builder
	for _, t := range turns {
		if t.Human {
			fmt.Fprintf(&b, "[%s] %s: «%s»\n", say(s.lang(), "people_who"), t.Name, t.Text)
			continue
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", t.Name, t.Role, t.Text)
	}
	return strings.TrimSpace(b.String())
}

func TestUserPromptMatchesReference(t *testing.T) {
	turns := []Turn{
		{Name: "Ada", Role: "craftsman", Text: "  Red paper folds well.  "},
		{Name: "Lin", Human: true, Text: "What about a **bookmark**?"},
		{Name: "Bo", Role: "designer", Text: "A cat, cut in one piece.\n"},
	}
	for _, tc := range []struct {
		name string
		st   State
	}{
		{"topic only", State{Meta: memory.Session{Topic: "a lantern", Language: "en"}}},
		{"everything, English", State{Meta: memory.Session{Topic: "a lantern", Language: "en"}, PhotoText: "a red fish",
			Memory: "last time: cranes", Summary: "they agreed on red", SummaryUpTo: 1, Transcript: turns,
			Unanswered: []Turn{{Name: "Lin", Human: true, Text: "and gold?"}}}},
		{"Chinese, whole transcript", State{Meta: memory.Session{Topic: "灯笼", Language: "zh"}, Transcript: turns}},
		{"summary covers every turn", State{Meta: memory.Session{Topic: "x", Language: "en"}, Summary: "s", SummaryUpTo: 3, Transcript: turns}},
		{"blank turn", State{Meta: memory.Session{Topic: "x", Language: "en"}, Transcript: []Turn{{Text: " "}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{st: tc.st}
			if got, want := s.userPrompt("Speak now."), referenceUserPrompt(s, "Speak now."); got != want {
				t.Errorf("userPrompt:\n%q\nwant\n%q", got, want)
			}
			turns := s.st.Transcript[s.st.SummaryUpTo:]
			if got, want := s.renderTurns(turns), referenceRenderTurns(s, turns); got != want {
				t.Errorf("renderTurns = %q, want %q", got, want)
			}
		})
	}
}

func BenchmarkUserPrompt(b *testing.B) {
	var turns []Turn
	for i := range 14 {
		turns = append(turns, Turn{Name: fmt.Sprint("Seat", i%6), Role: "designer", Text: strings.Repeat("red paper folds well ", 40)})
	}
	s := &Session{st: State{Meta: memory.Session{Topic: "a paper-cut bookmark", Language: "en"}, PhotoText: "a red fish", Transcript: turns}}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.userPrompt("Speak now.")
	}
}
