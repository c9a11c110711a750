package roundtable

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// decisions runs the stages where the table decides: keyword extraction,
// KJ grouping, the vote and the people's turn.
type decisions struct{ crew }

var quoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"((?:[^"\\]|\\.){1,60})"`) })

var ballotRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`"keyword"\s*:\s*"((?:[^"\\]|\\.)*)"(?:\s*,\s*"reason"\s*:\s*"((?:[^"\\]|\\.)*)")?`)
})

// showVotes renders a partial JSON ballot as one line per vote.
func showVotes(s string) string {
	ms := ballotRe().FindAllStringSubmatch(StripThink(s), -1)
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
	for _, m := range quoted().FindAllStringSubmatch(s, -1) {
		if k := m[1]; k != "keyword" && k != "reason" {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return s
	}
	return "🏷️ " + strings.Join(out, " · ")
}

func (s *decisions) extractKeywords(ctx context.Context) error {
	rs := s.spk.each(ctx, func(i int) call {
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

func (s *decisions) groupKJ(ctx context.Context) error {
	lang := s.lang()
	req := providers.Request{Tag: "kj/moderator/" + lang, MaxTokens: 600, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: say(lang, "kj_system") + " " + say(lang, "reply_lang")},
		{Role: providers.RoleUser, Content: say(lang, "topic", s.st.Meta.Topic) + "\n" + say(lang, "kj", jsonList(s.st.Candidates))},
	}}
	st, err := s.out.open(ctx, bot.Post{From: s.moderator(), Kind: bot.KindNotice, Placeholder: s.ui("grouping")})
	if err != nil {
		return fmt.Errorf("open kj message: %w", err)
	}
	resp, err := s.deps.Chat.Stream(ctx, req, func(providers.Delta) error { return nil })
	s.addUsage(resp.Provider, resp.Usage)
	if err != nil && ctx.Err() != nil {
		s.dl.closeLater(ctx, st, s.ui("cut"), false)
		return ctx.Err()
	}
	if err != nil {
		s.log.Warn("kj failed, one group", "err", err)
	}
	kj := ParseKJ(resp.Text, s.st.Candidates, say(lang, "other"))
	s.st.KJ = &kj
	s.dl.closeLater(ctx, st, s.renderKJ(kj), false)
	s.event(ctx, store.Event{Type: transcript.EventKJ, Stage: StageKJ, Data: mustJSON(kj)})
	return nil
}

func (s *decisions) renderKJ(kj transcript.KJ) string {
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

func (s *decisions) vote(ctx context.Context) error {
	const perSeat = 5
	rs := s.spk.each(ctx, func(i int) call {
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
	s.host.post(ctx, bot.KindNotice, b.String())
	return nil
}

func (s *decisions) peoplesTurn(ctx context.Context) error {
	s.board.setSpeaker(s.ui("people"))
	if err := s.dl.catchUp(ctx, 0); err != nil { // the question goes ahead of speech: let the banner show first
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
	s.host.post(ctx, bot.KindNotice, fmt.Sprintf(s.ui("people_"+ans.Action), strings.Join(final, " · ")))
	return nil
}
