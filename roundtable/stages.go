package roundtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

func (s *Session) opening(ctx context.Context) error {
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
	s.note(ctx, b.String())
	return nil
}

func (s *Session) introductions(ctx context.Context) error {
	rs := s.each(ctx, func(i int) call {
		return call{seat: i, stage: StageIntro, prompt: say(s.lang(), "intro"), maxTokens: maxTokensFor(StageIntro), group: StageIntro, context: true, record: true}
	})
	return ctxErr(ctx, rs)
}

var keywordsLine = regexp.MustCompile(`(?is)\n[^\n]*(?:keywords?|关键词)\s*[:：].*$`)

func (s *Session) photoStories(ctx context.Context) error {
	data, err := s.preparedPhoto(ctx)
	if err != nil {
		return err
	}
	if s.st.PhotoText == "" {
		lang := s.lang()
		req := providers.Request{Tag: "vision/moderator/" + lang, MaxTokens: 500, Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: say(lang, "reply_lang")},
			{Role: providers.RoleUser, Content: say(lang, "vision"), Images: []providers.Image{{MIME: s.st.Photo.MIME, Data: data}}},
		}}
		st, err := s.open(ctx, bot.Post{From: s.moderator(), Kind: bot.KindNotice, Placeholder: s.ui("looking")})
		if err != nil {
			return fmt.Errorf("open photo message: %w", err)
		}
		var text strings.Builder
		resp, err := s.deps.Vision.Stream(ctx, req, func(d providers.Delta) error {
			if d.Reset {
				text.Reset()
			}
			text.WriteString(d.Text)
			st.Update("📷 " + text.String())
			return nil
		})
		s.addUsage(resp.Provider, resp.Usage)
		desc := StripThink(resp.Text)
		if err != nil || desc == "" {
			if ctx.Err() != nil {
				s.closeLater(ctx, st, s.ui("cut"), false)
				return ctx.Err()
			}
			s.log.Warn("vision failed", "err", err)
			msg := fmt.Sprintf(s.ui("vision_failed"), providers.UserMessage(err), s.st.Meta.ID)
			s.closeLater(ctx, st, msg, false)
			s.event(ctx, store.Event{Type: transcript.EventNote, Stage: StagePhoto, Text: msg})
			return nil
		}
		s.closeLater(ctx, st, "📷 "+desc, false)
		s.st.PhotoText = desc
		s.event(ctx, store.Event{Type: transcript.EventPhoto, Stage: StagePhoto, Text: desc, Data: mustJSON(s.st.Photo)})
	}
	rs := s.each(ctx, func(i int) call {
		return call{seat: i, stage: StagePhoto, prompt: say(s.lang(), "story"), maxTokens: maxTokensFor(StagePhoto), group: StagePhoto, context: true}
	})
	var kws []string
	for i, r := range rs {
		if r.err != nil {
			continue
		}
		k := ParseKeywords(lastLines(r.text), 6)
		kws = append(kws, k...)
		story := strings.TrimSpace(keywordsLine.ReplaceAllString(r.text, ""))
		p := s.persona(i)
		s.st.Transcript = append(s.st.Transcript, Turn{Stage: StagePhoto, Seat: p.ID, Name: p.Name, Role: p.Role, Text: carried(story)})
		s.event(ctx, store.Event{Type: transcript.EventKeywords, Stage: StagePhoto, Seat: p.ID, Name: p.Name, Data: mustJSON(transcript.Keywords{Keywords: k})})
	}
	s.st.ImageKW = Dedupe(kws, 0)
	return ctxErr(ctx, rs)
}

// lastLines returns the tail of a story, where its keyword list is.
func lastLines(s string) string {
	if loc := keywordsLine.FindStringIndex(s); loc != nil {
		return s[loc[0]:]
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func (s *Session) discuss(ctx context.Context, seat, round int) error {
	r := s.one(ctx, call{seat: seat, stage: StageDiscussion, round: round, maxTokens: maxTokensFor(StageDiscussion), context: true, record: true,
		prompt: say(s.lang(), "discuss", round, s.st.Turns)})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

var quoted = regexp.MustCompile(`"((?:[^"\\]|\\.){1,60})"`)

var ballotRe = regexp.MustCompile(`"keyword"\s*:\s*"((?:[^"\\]|\\.)*)"(?:\s*,\s*"reason"\s*:\s*"((?:[^"\\]|\\.)*)")?`)

// showVotes renders a partial JSON ballot as one line per vote.
func showVotes(s string) string {
	ms := ballotRe.FindAllStringSubmatch(StripThink(s), -1)
	if len(ms) == 0 {
		return showList(s)
	}
	var b strings.Builder
	b.WriteString("🗳️")
	for _, m := range ms {
		b.WriteString("\n• " + m[1])
		if m[2] != "" {
			b.WriteString(" — " + m[2])
		}
	}
	return b.String()
}

// showList renders a partial JSON keyword list as readable chips.
func showList(s string) string {
	s = StripThink(s)
	var out []string
	for _, m := range quoted.FindAllStringSubmatch(s, -1) {
		if k := m[1]; k != "keyword" && k != "reason" {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return s
	}
	return "🏷️ " + strings.Join(out, " · ")
}

func (s *Session) extractKeywords(ctx context.Context) error {
	rs := s.each(ctx, func(i int) call {
		return call{seat: i, stage: StageKeywords, prompt: say(s.lang(), "keywords", s.cfg.MaxKeywords), maxTokens: maxTokensFor(StageKeywords),
			group: StageKeywords, context: true, display: showList}
	})
	if err := ctxErr(ctx, rs); err != nil {
		return err
	}
	s.st.Keywords = map[string][]string{}
	var all []string
	for i, r := range rs {
		if r.err != nil {
			continue
		}
		seat := s.st.Pack.Seats[i].ID
		k := ParseKeywords(r.text, s.cfg.MaxKeywords)
		s.st.Keywords[seat] = k
		all = append(all, k...)
		s.event(ctx, store.Event{Type: transcript.EventKeywords, Stage: StageKeywords, Seat: seat, Name: s.persona(i).Name,
			Data: mustJSON(transcript.Keywords{Keywords: k})})
	}
	all = append(all, s.st.ImageKW...)
	s.st.Candidates = Dedupe(all, 0)
	if len(s.st.Candidates) == 0 { // every seat failed: the topic itself is the one candidate
		s.st.Candidates = []string{quote(s.st.Meta.Topic, 40)}
	}
	return nil
}

func (s *Session) groupKJ(ctx context.Context) error {
	lang := s.lang()
	req := providers.Request{Tag: "kj/moderator/" + lang, MaxTokens: 600, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: say(lang, "kj_system") + " " + say(lang, "reply_lang")},
		{Role: providers.RoleUser, Content: say(lang, "topic", s.st.Meta.Topic) + "\n" + say(lang, "kj", jsonList(s.st.Candidates))},
	}}
	st, err := s.open(ctx, bot.Post{From: s.moderator(), Kind: bot.KindNotice, Placeholder: s.ui("grouping")})
	if err != nil {
		return fmt.Errorf("open kj message: %w", err)
	}
	resp, err := s.deps.Chat.Stream(ctx, req, func(providers.Delta) error { return nil })
	s.addUsage(resp.Provider, resp.Usage)
	if err != nil && ctx.Err() != nil {
		s.closeLater(ctx, st, s.ui("cut"), false)
		return ctx.Err()
	}
	if err != nil {
		s.log.Warn("kj failed, one group", "err", err)
	}
	kj := ParseKJ(resp.Text, s.st.Candidates, say(lang, "other"))
	s.st.KJ = &kj
	s.closeLater(ctx, st, s.renderKJ(kj), false)
	s.event(ctx, store.Event{Type: transcript.EventKJ, Stage: StageKJ, Data: mustJSON(kj)})
	return nil
}

func (s *Session) renderKJ(kj transcript.KJ) string {
	var b strings.Builder
	b.WriteString(s.ui("kj_title"))
	if kj.Core != "" {
		fmt.Fprintf(&b, "\n%s: **%s**", s.ui("core"), kj.Core)
	}
	for _, g := range kj.Groups {
		fmt.Fprintf(&b, "\n• **%s** — %s", g.Name, strings.Join(g.Keywords, " · "))
	}
	return b.String()
}

func (s *Session) vote(ctx context.Context) error {
	const perSeat = 5
	rs := s.each(ctx, func(i int) call {
		return call{seat: i, stage: StageVoting, prompt: say(s.lang(), "vote", jsonList(s.st.Candidates), perSeat), maxTokens: maxTokensFor(StageVoting),
			group: StageVoting, context: true, display: showVotes}
	})
	if err := ctxErr(ctx, rs); err != nil {
		return err
	}
	s.st.Votes = map[string]transcript.Vote{}
	var ballots [][]string
	for i, r := range rs {
		if r.err != nil {
			continue
		}
		kw, why := ParseVote(r.text, s.st.Candidates, perSeat)
		seat := s.st.Pack.Seats[i].ID
		v := transcript.Vote{Keywords: kw, Reasons: why}
		s.st.Votes[seat] = v
		ballots = append(ballots, kw)
		s.event(ctx, store.Event{Type: transcript.EventVote, Stage: StageVoting, Seat: seat, Name: s.persona(i).Name, Data: mustJSON(v)})
	}
	res := Consensus(ballots, s.st.Candidates, s.cfg.VotingThreshold, 3, s.cfg.MaxKeywords)
	s.st.Voted = &res
	s.st.Final = res.Keywords
	s.event(ctx, store.Event{Type: transcript.EventVoteResult, Stage: StageVoting, Data: mustJSON(res)})
	var b strings.Builder
	fmt.Fprintf(&b, s.ui("vote_result"), res.Threshold, len(ballots))
	for _, k := range res.Keywords {
		fmt.Fprintf(&b, "\n• **%s** — %d", k, res.Counts[k])
	}
	if res.Filled {
		b.WriteString("\n" + s.ui("filled"))
	}
	s.post(ctx, bot.KindNotice, b.String())
	return nil
}

func (s *Session) peoplesTurn(ctx context.Context) error {
	s.setSpeaker(s.ui("people"))
	if err := s.catchUp(ctx, 0); err != nil { // the question goes ahead of speech: let the banner show first
		return err
	}
	ans, err := s.conv.AskKeywords(ctx, bot.Question{Text: s.ui("ask"), Keywords: s.st.Final, Timeout: s.cfg.UserInputTimeout})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("people's turn failed, keeping the vote", "err", err)
		ans = bot.Answer{Action: bot.ActionTimeout, Keywords: s.st.Final}
	}
	final := s.st.Final
	if ans.Action == bot.ActionEdit {
		var edited []string
		for _, k := range ans.Keywords {
			edited = append(edited, quote(k, 40))
		}
		if e := Dedupe(edited, s.cfg.MaxKeywords); len(e) > 0 {
			final = e
		} else {
			ans.Action = bot.ActionKeep
		}
	}
	s.st.Final = final
	p := transcript.People{Action: ans.Action, Keywords: final, By: quote(ans.By, 40)}
	s.st.People = &p
	s.event(ctx, store.Event{Type: transcript.EventPeople, Stage: StagePeople, Name: p.By, Data: mustJSON(p)})
	s.post(ctx, bot.KindNotice, fmt.Sprintf(s.ui("people_"+ans.Action), strings.Join(final, " · ")))
	return nil
}

func (s *Session) switchRole(ctx context.Context, seat int) error {
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
	r := s.one(ctx, call{seat: i, stage: StageSwitch, maxTokens: maxTokensFor(StageSwitch), context: true, record: true,
		prompt: say(lang, "switch", s.st.Pack.RoleLabel(to, lang), s.st.Pack.RoleLabel(from, lang), s.persona(i).Name, jsonList(s.st.Final))})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (s *Session) origRoles() []string {
	var r []string
	for _, seat := range s.st.Pack.Seats {
		r = append(r, seat.Role)
	}
	return r
}

func (s *Session) workshop(ctx context.Context, seat int) error {
	lang := s.lang()
	r := s.one(ctx, call{seat: seat, stage: StageWorkshop, maxTokens: maxTokensFor(StageWorkshop), context: true, record: true,
		prompt: say(lang, "workshop", s.st.Pack.Scenario.In(lang), strings.Join(s.st.Final, ", "), s.persona(seat).Role)})
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (s *Session) designCards(ctx context.Context) error {
	s.st.Roles = s.origRoles() // everyone back in their own seat for the cards
	rs := s.each(ctx, func(i int) call {
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
