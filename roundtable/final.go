package roundtable

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// design runs the closing stages: the design cards, the final design and
// its image, and the closing words.
type design struct{ crew }

func (s *design) designCards(ctx context.Context) error {
	s.st.Roles = s.origRoles() // everyone back in their own seat for the cards
	rs := s.spk.each(ctx, func(i int) call {
		return call{seat: i, stage: StageCards, prompt: say(s.lang(), "card"), maxTokens: maxTokensFor(StageCards), group: StageCards, context: true}
	})
	if err := ctxErr(ctx, rs); err != nil {
		return err
	}
	s.st.Cards = map[string]string{}
	for i, r := range rs {
		if r.err != nil {
			continue
		}
		p := s.persona(i)
		s.st.Cards[p.ID] = r.text
		s.event(ctx, store.Event{Type: transcript.EventCard, Stage: StageCards, Seat: p.ID, Name: p.Name, Text: r.text})
	}
	return nil
}
func (s *design) finalDesign(ctx context.Context) error {
	lang := s.lang()
	designer := s.st.Pack.Designer()
	idx := slices.IndexFunc(s.st.Pack.Seats, func(x Seat) bool { return x.ID == designer.ID })
	var cards strings.Builder
	for i, seat := range s.st.Pack.Seats {
		if c, ok := s.st.Cards[seat.ID]; ok {
			fmt.Fprintf(&cards, "%s:\n%s\n\n", s.persona(i).Name, c)
		}
	}
	prompt := say(lang, "final", jsonList(s.st.Final))
	if cards.Len() > 0 {
		prompt = cards.String() + prompt
	}
	if s.st.People != nil && s.st.People.Action == bot.ActionEdit {
		prompt += "\n" + fmt.Sprintf(s.ui("people_chose"), strings.Join(s.st.People.Keywords, ", "))
	}
	r := s.spk.one(ctx, call{seat: idx, stage: StageFinal, maxTokens: maxTokensFor(StageFinal), context: true, record: true, prompt: prompt})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	s.st.Design = r.text
	s.st.ImagePrompt = BuildImagePrompt(ImageBrief{
		Style: s.st.Pack.ImageStyle.In(lang), Topic: s.st.Meta.Topic, Keywords: s.st.Final,
		Concept: r.text, Cards: s.cardsInOrder(), People: s.peopleKeywords(),
	})
	s.event(ctx, store.Event{Type: transcript.EventImagePrompt, Stage: StageFinal, Text: s.st.ImagePrompt})
	if s.deps.Images == nil {
		s.host.note(ctx, fmt.Sprintf(s.ui("no_images"), s.st.ImagePrompt))
		return nil
	}
	s.board.setSpeaker(s.ui("drawing"))
	imgs, usage, err := s.deps.Images.Generate(ctx, providers.ImageRequest{Prompt: s.st.ImagePrompt, Size: "1024x1024", N: 1})
	s.addUsage("images", usage)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("image generation failed", "err", err)
		s.host.note(ctx, fmt.Sprintf(s.ui("image_failed"), providers.UserMessage(err), s.st.Meta.ID, s.st.ImagePrompt))
		return nil
	}
	p := s.persona(idx)
	for i, img := range imgs {
		name := fmt.Sprintf("design-%d", i+1)
		if err := s.deps.Store.PutBlob(ctx, s.st.Meta.ID, name, img.Data); err != nil {
			return fmt.Errorf("store image: %w", err)
		}
		s.event(ctx, store.Event{Type: transcript.EventImage, Stage: StageFinal, Seat: p.ID, Name: p.Name,
			Data: mustJSON(transcript.ImageRef{Blob: name, MIME: img.MIME})})
		att := bot.Attachment{Name: s.st.Meta.ID + "-" + name + extFor(img.MIME), MIME: img.MIME, Data: img.Data}
		if err := s.conv.SendImage(ctx, p, att, firstLine(r.text)); err != nil {
			s.log.Warn("send image failed", "err", err)
		}
	}
	return nil
}

func extFor(mime string) string {
	switch mime {
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	}
	return ".jpg"
}

func (s *design) cardsInOrder() []string {
	var out []string
	for _, seat := range s.st.Pack.Seats {
		if c, ok := s.st.Cards[seat.ID]; ok {
			out = append(out, c)
		}
	}
	return out
}

func (s *design) peopleKeywords() []string {
	if s.st.People == nil || s.st.People.Action != bot.ActionEdit {
		return nil
	}
	return s.st.People.Keywords
}

// ImageBrief is what the image prompt is synthesised from.
type ImageBrief struct {
	Style    string
	Topic    string
	Keywords []string // the table's final keywords (after the people's turn)
	Concept  string   // the designer's final design
	Cards    []string // every seat's design card
	People   []string // keywords the people set themselves
}

var cardField = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?im)^\s*[*_]*(?:elements?|form|materials?|元素|形态|材料)[*_]*\s*[:：]\s*(.+)$`)
})

// BuildImagePrompt synthesises the image prompt from the debate: the style
// of the pack, the topic, the final keywords, the designer's concept and
// the elements, forms and materials named on the design cards.
func BuildImagePrompt(b ImageBrief) string {
	var parts []string
	if b.Style != "" {
		parts = append(parts, b.Style)
	}
	parts = append(parts, "Subject: "+b.Topic)
	if len(b.Keywords) > 0 {
		parts = append(parts, "Key elements: "+strings.Join(b.Keywords, ", "))
	}
	if len(b.People) > 0 {
		parts = append(parts, "Requested by the audience: "+strings.Join(b.People, ", "))
	}
	if c := clip(oneLine(b.Concept), 400); c != "" {
		parts = append(parts, "Concept: "+c)
	}
	var details []string
	seen := map[string]bool{}
	for _, card := range b.Cards {
		for _, m := range cardField().FindAllStringSubmatch(card, -1) {
			d := strings.TrimSpace(m[1])
			if d != "" && !seen[d] {
				seen[d] = true
				details = append(details, d)
			}
		}
	}
	if len(details) > 0 {
		parts = append(parts, "From the design cards: "+clip(strings.Join(details, "; "), 500))
	}
	return clip(strings.Join(parts, ". "), 1500)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func (s *design) closingStage(ctx context.Context) error {
	u := s.st.Usage
	var b strings.Builder
	fmt.Fprintf(&b, s.ui("closing"), s.st.Meta.Topic, strings.Join(s.st.Final, " · "))
	if s.st.Design != "" {
		fmt.Fprintf(&b, "\n%s", clip(firstLine(s.st.Design), 300))
	}
	fmt.Fprintf(&b, "\n"+s.ui("usage"), u.Calls, usageLine(s.lang(), u))
	fmt.Fprintf(&b, "\n"+s.ui("export"), s.st.Meta.ID)
	if s.deps.Demo {
		b.WriteString("\n" + s.ui("demo"))
	}
	s.host.note(ctx, b.String())
	summary := clip(oneLine(s.st.Design), 300)
	if err := s.deps.Store.Remember(ctx, s.st.Meta.Channel, store.Memory{SessionID: s.st.Meta.ID, Topic: s.st.Meta.Topic,
		Keywords: s.st.Final, Summary: summary, Time: s.deps.Now()}); err != nil {
		s.log.Warn("remember failed", "err", err)
	}
	return nil
}
