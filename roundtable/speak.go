package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// call is one persona's model call for a stage.
type call struct {
	seat      int
	stage     string
	prompt    string // the task; context is added by speak
	maxTokens int
	group     string              // concurrent stage group
	display   func(string) string // how partial text is shown (nil: as is)
	context   bool                // include topic/photo/transcript context
	record    bool                // add the speech to the transcript
	round     int
	// msgs, when set, are the call's messages, laid out before it starts
	// (concurrent stages lay out all six at the stage's start, so that a
	// seat that finishes early does not change the others' shared prefix).
	msgs []providers.Message
	// answered, when set, is called once when the call has been answered
	// (its first delta) or has ended without one.
	answered func()
}

// result is a persona's completed speech.
type result struct {
	text string
	err  error
}

// speaker streams the personas' speeches into the chat, one call at a
// time (one), or the six of a concurrent stage together (each), and lays
// out their prompts (layout.go).
type speaker struct {
	*table
	out   *outbox
	dl    *delivery
	board *board
}

// speak streams one persona's reply into the conversation. A failed call
// shows a short, kind line in the persona's message, is logged as a
// failure event, and returns the error; it is never passed off as speech.
func (s *speaker) speak(ctx context.Context, c call) result {
	p := s.persona(c.seat)
	seat := s.st.Pack.Seats[c.seat]
	stream, err := s.out.open(ctx, bot.Post{From: p, Kind: bot.KindSpeech, Group: c.group, Placeholder: "…"})
	if err != nil {
		return result{err: fmt.Errorf("open message for %s: %w", seat.ID, err)}
	}
	msgs := c.msgs
	if msgs == nil {
		s.mu.Lock() // concurrent speakers append to the transcript
		msgs = s.messages(c)
		s.mu.Unlock()
	}
	model, _ := s.model(seat.ID)
	req := providers.Request{
		Messages:  msgs,
		MaxTokens: c.maxTokens,
		Tag:       c.stage + "/" + seat.ID + "/" + s.lang(),
	}
	var text strings.Builder
	limit := speechLimit(c.stage)
	qctx := providers.WithQueue(ctx, s.id(), s.board.waitSlot(c.seat))
	began := s.deps.Now()
	answered := func() {}
	if c.answered != nil {
		answered = sync.OnceFunc(c.answered)
		defer answered()
	}
	resp, err := model.Stream(qctx, req, func(d providers.Delta) error {
		answered()
		if d.Reset {
			text.Reset()
		}
		if d.Text == "" && !d.Reset {
			return nil
		}
		text.WriteString(d.Text)
		if overLimit(text.String(), limit) {
			return errOverrun // a runaway reply: stop paying for it
		}
		shown := text.String()
		if c.display != nil {
			shown = c.display(shown)
		}
		if strings.TrimSpace(shown) != "" {
			stream.Update(shown)
		}
		return nil
	})
	s.addUsage(resp.Provider, resp.Usage)
	s.deps.Observer.ModelCall(resp.Provider, resp.FirstToken, resp.Usage.OutputTokens, s.deps.Now().Sub(began), err)
	overran := errors.Is(err, errOverrun)
	if overran {
		resp.Text, err = text.String(), nil
	}
	out := StripThink(resp.Text)
	if cut, ok := cutSpeech(out, limit); ok && !jsonStages[c.stage] {
		out, overran = cut+" "+s.ui("overran"), true
	}
	if overran {
		s.log.Warn("speech cut for length", "seat", seat.ID, "stage", c.stage)
		s.noteOverrun(seat.ID)
	}
	if err == nil && out == "" {
		err = &providers.Error{Provider: resp.Provider, Kind: providers.KindEmpty, Message: "the reply had no visible text"}
	}
	if err != nil {
		if ctx.Err() != nil {
			s.dl.closeLater(ctx, stream, strings.TrimSpace(text.String()+" "+s.ui("cut")), false)
			return result{err: ctx.Err()}
		}
		msg := fmt.Sprintf(s.ui("seat_failed"), p.Name, providers.UserMessage(err), s.st.Meta.ID)
		s.dl.closeLater(ctx, stream, msg, false)
		s.log.Warn("seat failed", "seat", seat.ID, "stage", c.stage, "err", err)
		s.event(ctx, store.Event{Type: transcript.EventFailure, Stage: c.stage, Seat: seat.ID, Name: p.Name, Text: msg,
			Data: mustJSON(transcript.Failure{Kind: providers.KindOf(err).String(), Cause: providers.UserMessage(err)})})
		return result{err: err}
	}
	shown := out
	if c.display != nil {
		shown = c.display(out)
	}
	if resp.Regenerated {
		shown += "\n" + s.ui("regenerated")
	}
	s.dl.closeLater(ctx, stream, shown, true)
	s.event(ctx, store.Event{Type: transcript.EventSpeech, Stage: c.stage, Seat: seat.ID, Name: p.Name, Text: out,
		Data: mustJSON(transcript.Speech{Role: s.st.Roles[c.seat], Model: resp.Model, InputTokens: resp.Usage.InputTokens,
			OutputTokens: resp.Usage.OutputTokens, CachedTokens: resp.Usage.CachedInputTokens, Regenerated: resp.Regenerated, Round: c.round})})
	if c.record {
		s.mu.Lock()
		s.st.Transcript = append(s.st.Transcript, Turn{Stage: c.stage, Seat: seat.ID, Name: p.Name, Role: p.Role, Text: carried(out)})
		s.mu.Unlock()
	}
	return result{text: out}
}

// each runs calls concurrently (one goroutine per seat) and returns their
// results in seat order. Interjections are answered by all of them. When
// the shared prefix is long enough to be cached (StaggerMinTokens), the
// first seat's call goes alone and the others follow once it has been
// answered: six calls sent in the same millisecond would all miss the
// provider's prompt cache.
func (s *speaker) each(ctx context.Context, build func(i int) call) []result {
	n := len(s.st.Pack.Seats)
	out := make([]result, n)
	var wg sync.WaitGroup
	calls := make([]call, n)
	s.mu.Lock()
	shared := s.contextPrompt() // one string for the six
	for i := range calls {
		calls[i] = build(i)
		calls[i].msgs = s.messagesWith(calls[i], shared)
	}
	s.mu.Unlock()
	var first chan struct{}
	release := func() {}
	if m := s.cfg.StaggerMinTokens; m > 0 && n > 1 && calls[0].context && EstimateTokens(s.tableRules())+EstimateTokens(shared) >= m {
		first = make(chan struct{})
		release = sync.OnceFunc(func() { close(first) })
		calls[0].answered = release
	}
	for i := 0; i < n; i++ {
		c := calls[i]
		if i == 1 && first != nil {
			select {
			case <-first:
			case <-ctx.Done():
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				defer release() // however the call ended
			}
			out[i] = s.speak(ctx, c)
		}()
	}
	wg.Wait()
	s.st.Unanswered = nil
	return out
}

// one runs a sequential speaker; the interjections it saw are answered.
func (s *speaker) one(ctx context.Context, c call) result {
	s.board.setSpeaker(s.persona(c.seat).Name)
	if c.context {
		s.fitContext(ctx)
	}
	r := s.speak(ctx, c)
	if r.err == nil {
		s.st.Unanswered = nil
	}
	return r
}

// noteOverrun counts a seat's speech cut for length (shown on the board).
func (s *speaker) noteOverrun(seat string) {
	s.mu.Lock()
	if s.st.Overruns == nil {
		s.st.Overruns = map[string]int{}
	}
	s.st.Overruns[seat]++
	s.mu.Unlock()
	s.board.update(false)
}

// fitContext summarises early turns when the transcript would not fit the
// context budget, keeping the most recent turns verbatim.
func (s *speaker) fitContext(ctx context.Context) {
	budget := s.cfg.ContextBudget
	if budget <= 0 || EstimateTokens(s.renderTurns(s.st.Transcript[s.st.SummaryUpTo:])) <= budget {
		return
	}
	keep := len(s.st.Pack.Seats)
	upTo := len(s.st.Transcript) - keep
	for upTo > s.st.SummaryUpTo && EstimateTokens(s.renderTurns(s.st.Transcript[upTo:])) > budget/2 {
		keep--
		upTo++
		if keep <= 1 {
			break
		}
	}
	if upTo <= s.st.SummaryUpTo {
		return
	}
	// The block is summarised on its own and appended to the earlier
	// blocks, which stay as they were: the context changes once here and
	// then grows by appending again (a rewritten summary would change
	// every later prompt's prefix).
	old := s.renderTurns(s.st.Transcript[s.st.SummaryUpTo:upTo])
	lang := s.lang()
	req := providers.Request{Tag: "summary/moderator/" + lang, MaxTokens: 400, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: say(lang, "sum_system") + " " + say(lang, "reply_lang")},
		{Role: providers.RoleUser, Content: say(lang, "sum", old)},
	}}
	resp, err := s.deps.Chat.Stream(ctx, req, func(providers.Delta) error { return nil })
	s.addUsage(resp.Provider, resp.Usage)
	summary := StripThink(resp.Text)
	if err != nil || summary == "" {
		s.log.Warn("summary failed, truncating instead", "err", err)
		summary = truncateTurns(s.st.Transcript[s.st.SummaryUpTo:upTo], 80)
	}
	if s.st.Summary != "" {
		summary = s.st.Summary + "\n" + summary
	}
	s.st.Summary, s.st.SummaryUpTo = summary, upTo
}

func truncateTurns(turns []Turn, n int) string {
	var b strings.Builder
	for _, t := range turns {
		r := []rune(t.Text)
		if len(r) > n {
			r = append(r[:n], '…')
		}
		fmt.Fprintf(&b, "%s: %s\n", t.Name, string(r))
	}
	return strings.TrimSpace(b.String())
}

// isFailed reports whether every result failed.
func allFailed(rs []result) bool {
	for _, r := range rs {
		if r.err == nil {
			return false
		}
	}
	return true
}

// ctxErr returns the context error hidden in results, if any.
func ctxErr(ctx context.Context, rs []result) error {
	if ctx.Err() == nil {
		return nil
	}
	for _, r := range rs {
		if errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded) {
			return ctx.Err()
		}
	}
	return ctx.Err()
}
