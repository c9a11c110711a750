package roundtable

import (
	"bytes"
	"slices"
	"strings"

	"github.com/tableround/tableround/providers"
)

// The prompts of a seat's call are laid out for the providers' prompt
// caches (OpenAI, DeepSeek, Gemini, OpenRouter and Ark reuse a prompt
// prefix they have already processed, at a fraction of the price):
//
//  1. system: the table's rules, the same for every seat and every call;
//  2. user: the context every seat sees the same way (topic, channel
//     memory, photo, summary blocks, transcript), which within a session
//     only grows by appending, except when a summary block replaces turns;
//  3. system: the persona card, who is speaking now, in the current role;
//  4. user: the people's unanswered words and the call's task.
//
// 1 and 2 are identical byte for byte across the seats of a stage and are
// a prefix of every later contextual call until the next summary block;
// 3 and 4 differ per seat and per call. TestPromptLayout holds this.

// tableRules is the first system message: the rules of the table, shared
// by every seat's call.
func (s *speaker) tableRules() string {
	lang := s.lang()
	return say(lang, "table") + "\n" + say(lang, "data_rule") + "\n" + say(lang, "reply_lang")
}

// systemPrompt is the persona card: who speaks, in the current role.
func (s *speaker) systemPrompt(i int) string {
	seat := s.st.Pack.Seats[i]
	lang := s.lang()
	role := s.st.Pack.Roles[s.st.Roles[i]]
	return strings.Join([]string{
		say(lang, "persona", seat.Name.In(lang), seat.Age, seat.Bio.In(lang), role.Label.In(lang), role.Focus.In(lang), role.Style.In(lang)),
		say(lang, "your_turn"),
		say(lang, "reply_lang"),
	}, "\n")
}

// appendContext appends the context block every seat sees the same way:
// the topic, the channel memory, the photo's description, the summary
// blocks and the transcript since them, in the order they become known,
// so that the block only grows by appending. (The photo is described
// alongside the introductions but its description enters the block only
// in the stories stage, after the introductions' prompts were sent; those
// carry no transcript, so its line still lands before every turn any
// prompt has shown. See vision.go.) It is
// built for every contextual call, so it is written in one buffer sized up
// front rather than through fmt and string concatenation (it was a fifth
// of the bytes a session allocated).
func (s *speaker) appendContext(b []byte) []byte {
	lang := s.lang()
	turns := s.st.Transcript[s.st.SummaryUpTo:]
	b = slices.Grow(b, len(s.st.Meta.Topic)+len(s.st.PhotoText)+len(s.st.Memory)+len(s.st.Summary)+turnsSize(turns)+256)
	b = append(b, say(lang, "topic", s.st.Meta.Topic)...)
	if s.st.Memory != "" {
		b = append(append(b, '\n'), say(lang, "memory", s.st.Memory)...)
	}
	if s.st.PhotoText != "" {
		b = append(append(b, '\n'), say(lang, "photo", s.st.PhotoText)...)
	}
	if s.st.Summary != "" {
		b = append(append(b, "\n\n"...), say(lang, "summary", s.st.Summary)...)
	}
	if len(turns) > 0 {
		mark := len(b)
		b = append(append(append(b, "\n\n"...), say(lang, "transcript")...), '\n')
		start := len(b)
		b = s.appendTurns(b, turns)
		t := bytes.TrimSpace(b[start:])
		if len(t) == 0 {
			return b[:mark]
		}
		b = b[:start+copy(b[start:], t)]
	}
	return b
}

// turnsSize is about the bytes appendTurns writes for turns.
func turnsSize(turns []Turn) int {
	n := 0
	for _, t := range turns {
		n += len(t.Name) + len(t.Role) + len(t.Text) + 24
	}
	return n
}

// appendTurns appends one line per turn: "Name (Role): text", or for
// people "[who] Name: «text»".
func (s *speaker) appendTurns(b []byte, turns []Turn) []byte {
	for _, t := range turns {
		if t.Human {
			b = append(append(append(b, '['), say(s.lang(), "people_who")...), "] "...)
			b = append(append(append(append(b, t.Name...), ": «"...), t.Text...), "»\n"...)
			continue
		}
		b = append(append(append(append(b, t.Name...), " ("...), t.Role...), "): "...)
		b = append(append(b, t.Text...), '\n')
	}
	return b
}

func (s *speaker) renderTurns(turns []Turn) string {
	return string(bytes.TrimSpace(s.appendTurns(make([]byte, 0, turnsSize(turns)), turns)))
}

// contextPrompt is the shared context message of contextual calls.
func (s *speaker) contextPrompt() string {
	return string(s.appendContext(make([]byte, 0, 1024)))
}

// messages lays out a seat's call (see the comment above tableRules).
// The caller holds the table's lock.
func (s *speaker) messages(c call) []providers.Message {
	shared := ""
	if c.context {
		shared = s.contextPrompt()
	}
	return s.messagesWith(c, shared)
}

// messagesWith lays out a call with the shared context already built.
func (s *speaker) messagesWith(c call, shared string) []providers.Message {
	msgs := make([]providers.Message, 0, 4)
	msgs = append(msgs, providers.Message{Role: providers.RoleSystem, Content: s.tableRules()})
	if c.context {
		msgs = append(msgs, providers.Message{Role: providers.RoleUser, Content: shared})
	}
	return append(msgs,
		providers.Message{Role: providers.RoleSystem, Content: s.systemPrompt(c.seat)},
		providers.Message{Role: providers.RoleUser, Content: s.answerPeople() + c.prompt})
}

// answerPeople is the instruction to answer unanswered interjections.
func (s *speaker) answerPeople() string {
	var b strings.Builder
	for _, t := range s.st.Unanswered {
		b.WriteString(say(s.lang(), "people", t.Name, t.Text) + "\n")
	}
	return b.String()
}
