package roundtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// crew is what a stage runner works with: the table, and the parts that
// speak into the chat and show the table's progress.
type crew struct {
	*table
	spk   *speaker
	host  *host
	out   *outbox
	dl    *delivery
	board *board
	conv  bot.Conversation
}

// talks runs the stages where the personas talk in turn or together: the
// opening, the introductions, the photo and its stories (photo.go), the
// discussion, the role switch and the workshop.
type talks struct {
	crew

	// upload is the raw photo until its preparing step; photo is the
	// prepared one, kept for the stories stage (read back from the store
	// only by a resumed session). Only the session's goroutine uses them.
	upload []byte
	photo  *PreparedImage
	// vision is the photo's description in the making (vision.go),
	// started with the introductions and awaited by the stories stage.
	vision *visionCall
}

func (s *talks) opening(ctx context.Context) error {
	if mems, err := s.deps.Store.Memories(ctx, s.st.Meta.Channel, 3); err == nil && len(mems) > 0 {
		var parts []string
		for _, m := range mems {
			parts = append(parts, fmt.Sprintf("«%s» → %s", m.Topic, strings.Join(m.Keywords, ", ")))
		}
		s.st.Memory = strings.Join(parts, "; ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, s.ui("opening"), s.st.Meta.Topic)
	b.WriteString("\n")
	for i := range s.st.Pack.Seats {
		p := s.persona(i)
		fmt.Fprintf(&b, "%s %s — %s\n", p.Emoji, p.Name, p.Role)
	}
	b.WriteString(s.ui("how"))
	if s.st.Memory != "" {
		b.WriteString("\n" + fmt.Sprintf(s.ui("remember"), s.st.Memory))
	}
	s.host.note(ctx, b.String())
	return nil
}

func (s *talks) introductions(ctx context.Context) error {
	s.describeAlongside(ctx)
	rs := s.spk.each(ctx, func(i int) call {
		return call{seat: i, stage: StageIntro, prompt: say(s.lang(), "intro"), maxTokens: maxTokensFor(StageIntro), group: StageIntro, context: true, record: true}
	})
	return ctxErr(ctx, rs)
}

var keywordsLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)\n[^\n]*(?:keywords?|关键词)\s*[:：].*$`) })

func (s *talks) photoStories(ctx context.Context) error {
	data, err := s.preparedPhoto(ctx)
	if err != nil {
		return err
	}
	if s.st.PhotoText == "" {
		if err := s.describePhoto(ctx, data); err != nil {
			return err
		}
	}
	rs := s.spk.each(ctx, func(i int) call {
		return call{seat: i, stage: StagePhoto, prompt: say(s.lang(), "story"), maxTokens: maxTokensFor(StagePhoto), group: StagePhoto, context: true}
	})
	var kws []string
	for i, r := range rs {
		if r.err != nil {
			continue
		}
		k := ParseKeywords(lastLines(r.text), 6)
		kws = append(kws, k...)
		story := strings.TrimSpace(keywordsLine().ReplaceAllString(r.text, ""))
		p := s.persona(i)
		s.st.Transcript = append(s.st.Transcript, Turn{Stage: StagePhoto, Seat: p.ID, Name: p.Name, Role: p.Role, Text: carried(story)})
		s.event(ctx, store.Event{Type: transcript.EventKeywords, Stage: StagePhoto, Seat: p.ID, Name: p.Name, Data: mustJSON(transcript.Keywords{Keywords: k})})
	}
	s.st.ImageKW = Dedupe(kws, 0)
	return ctxErr(ctx, rs)
}

// lastLines returns the tail of a story, where its keyword list is.
func lastLines(s string) string {
	if loc := keywordsLine().FindStringIndex(s); loc != nil {
		return s[loc[0]:]
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func (s *talks) discuss(ctx context.Context, seat, round int) error {
	r := s.spk.one(ctx, call{seat: seat, stage: StageDiscussion, round: round, maxTokens: maxTokensFor(StageDiscussion), context: true, record: true,
		prompt: say(s.lang(), "discuss", round, s.st.Turns)})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (s *talks) switchRole(ctx context.Context, seat int) error {
	if seat == 0 && len(s.st.Roles) > 0 && slices.Equal(s.st.Roles, s.origRoles()) {
		var all []string
		for r := range s.st.Pack.Roles {
			all = append(all, r)
		}
		s.st.Roles = Derange(s.origRoles(), all, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	}
	i := seat
	from, to := s.st.Pack.Seats[i].Role, s.st.Roles[i]
	lang := s.lang()
	s.event(ctx, store.Event{Type: transcript.EventRoleSwitch, Stage: StageSwitch, Seat: s.st.Pack.Seats[i].ID, Name: s.persona(i).Name,
		Data: mustJSON(transcript.RoleSwitch{From: from, To: to})})
	r := s.spk.one(ctx, call{seat: i, stage: StageSwitch, maxTokens: maxTokensFor(StageSwitch), context: true, record: true,
		prompt: say(lang, "switch", s.st.Pack.RoleLabel(to, lang), s.st.Pack.RoleLabel(from, lang), s.persona(i).Name, jsonList(s.st.Final))})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (s *talks) workshop(ctx context.Context, seat int) error {
	lang := s.lang()
	r := s.spk.one(ctx, call{seat: seat, stage: StageWorkshop, maxTokens: maxTokensFor(StageWorkshop), context: true, record: true,
		prompt: say(lang, "workshop", s.st.Pack.Scenario.In(lang), strings.Join(s.st.Final, ", "), s.persona(seat).Role)})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}
