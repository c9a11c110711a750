package roundtable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Stage names, in session order.
const (
	StageOpening    = "opening"
	StageIntro      = "introductions"
	StagePhoto      = "image_stories"
	StageDiscussion = "discussion"
	StageKeywords   = "keywords"
	StageKJ         = "kj"
	StageVoting     = "voting"
	StagePeople     = "people"
	StageSwitch     = "role_switch"
	StageWorkshop   = "workshop"
	StageCards      = "design_cards"
	StageFinal      = "final_design"
	StageClosing    = "closing"
)

// Stages are the stage names, in session order (for metrics).
var Stages = []string{StageOpening, StageIntro, StagePhoto, StageDiscussion, StageKeywords, StageKJ, StageVoting,
	StagePeople, StageSwitch, StageWorkshop, StageCards, StageFinal, StageClosing}

// step is one resumable unit of a session.
type step struct {
	stage string
	seat  int // for sequential stages
	round int // discussion round, from 1
}

// plan lists the steps of a session; it depends only on the state, so a
// resumed session replays the same plan.
func (s *Session) plan() []step {
	var p []step
	if s.st.PhotoStep {
		p = append(p, step{stage: stagePreparePhoto})
	}
	p = append(p, step{stage: StageOpening}, step{stage: StageIntro})
	if s.st.Photo != nil || s.st.PhotoStep {
		p = append(p, step{stage: StagePhoto})
	}
	n := len(s.st.Pack.Seats)
	for r := 1; r <= s.st.Turns; r++ {
		for k := 0; k < n; k++ {
			p = append(p, step{stage: StageDiscussion, seat: k, round: r})
		}
	}
	p = append(p, step{stage: StageKeywords}, step{stage: StageKJ}, step{stage: StageVoting}, step{stage: StagePeople})
	for k := 0; k < n; k++ {
		p = append(p, step{stage: StageSwitch, seat: k})
	}
	for k := 0; k < n; k++ {
		p = append(p, step{stage: StageWorkshop, seat: k})
	}
	return append(p, step{stage: StageCards}, step{stage: StageFinal}, step{stage: StageClosing})
}

// Run drives the session from its current step to the end. It returns nil
// when the session finished, ctx's error when it was interrupted (it can be
// resumed), ErrStopped when it was stopped for good, or the error that
// failed it. The state is checkpointed after every step and on the way out.
func (s *Session) Run(ctx context.Context) (err error) {
	ctx = providers.WithQueue(ctx, s.ID(), s.waitSlot(-1)) // the moderator's calls; speak sets each seat's
	s.mu.Lock()
	s.started = s.deps.Now()
	s.mu.Unlock()
	defer s.closing.Wait()
	plan := s.plan()
	s.mu.Lock()
	s.steps = len(plan) // the board shows progress against it
	s.mu.Unlock()
	if s.resumed {
		if err := s.settle(ctx); err != nil {
			return err
		}
	}
	if s.st.Meta.Step == 0 {
		s.event(ctx, store.Event{Type: transcript.EventSession, Text: s.st.Meta.Topic, Data: mustJSON(s.startInfo())})
	} else if s.st.Meta.Step < len(plan) {
		s.note(ctx, fmt.Sprintf(s.ui("resuming"), s.stageTitle(plan[s.st.Meta.Step].stage)))
	}
	s.openBoard(ctx)
	defer func() { s.finish(ctx, err) }()
	var deadline <-chan time.Time
	if left := s.cfg.MaxSessionDuration - s.st.Elapsed; s.cfg.MaxSessionDuration > 0 {
		t := time.NewTimer(max(left, time.Millisecond))
		defer t.Stop()
		deadline = t.C
	}
	var stageStart time.Time
	for s.st.Meta.Step < len(plan) {
		if s.isStopped() {
			return ErrStopped
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.isSuspended() { // shutting down: the last step is saved, stop here
			return ErrSuspended
		}
		if capped := s.capReached(deadline); capped != "" {
			return &CapError{Reason: capped}
		}
		st := plan[s.st.Meta.Step]
		if st.stage == stagePreparePhoto {
			// Not a stage of the table: no banner, no speaker, no metric.
			if err := s.preparePhoto(ctx); err != nil {
				return err
			}
			s.mu.Lock()
			s.st.Meta.Step++
			s.mu.Unlock()
			if err := s.checkpoint(ctx); err != nil {
				return err
			}
			continue
		}
		newStage := s.st.Meta.Step == 0 || plan[s.st.Meta.Step-1].stage != st.stage
		if newStage || stageStart.IsZero() {
			if newStage {
				// The previous stage is shown in full before the next banner.
				if err := s.catchUp(ctx, 0); err != nil {
					return err
				}
				s.stageBanner(ctx, st.stage)
			}
			stageStart = s.deps.Now()
		}
		if err := s.catchUp(ctx, s.deliveryWindow()); err != nil {
			return err
		}
		s.takeInterjections(ctx)
		s.setProgress(st, len(plan))
		if err := s.runStep(ctx, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if capped := s.capReached(nil); capped != "" {
				return &CapError{Reason: capped} // e.g. the calls a step needed were refused
			}
			return err
		}
		s.mu.Lock()
		s.st.Meta.Step++
		s.mu.Unlock()
		if next := s.st.Meta.Step; next == len(plan) || plan[next].stage != st.stage {
			s.deps.Observer.StageDone(st.stage, s.deps.Now().Sub(stageStart))
		}
		if err := s.checkpoint(ctx); err != nil {
			return err
		}
	}
	return nil
}

// CapError ends a session that reached a guardrail (tokens or duration).
type CapError struct{ Reason string }

func (e *CapError) Error() string { return "roundtable: " + e.Reason }

func (s *Session) capReached(deadline <-chan time.Time) string {
	select {
	case <-deadline:
		return fmt.Sprintf("the session reached its time limit (%s)", s.cfg.MaxSessionDuration)
	default:
	}
	s.mu.Lock()
	used := s.st.Usage.GuardTokens()
	s.mu.Unlock()
	if s.cfg.MaxSessionTokens > 0 && used >= s.cfg.MaxSessionTokens {
		return fmt.Sprintf("the session reached its token limit (%d)", s.cfg.MaxSessionTokens)
	}
	if le := s.deps.Calls.reached(); le != nil {
		return fmt.Sprintf("the person who started it reached %d model calls in an hour; they can start again at %s UTC",
			le.Limit, le.RetryAt.UTC().Format("15:04"))
	}
	return ""
}

func (s *Session) runStep(ctx context.Context, st step) error {
	switch st.stage {
	case StageOpening:
		return s.opening(ctx)
	case StageIntro:
		return s.introductions(ctx)
	case StagePhoto:
		return s.photoStories(ctx)
	case StageDiscussion:
		return s.discuss(ctx, st.seat, st.round)
	case StageKeywords:
		return s.extractKeywords(ctx)
	case StageKJ:
		return s.groupKJ(ctx)
	case StageVoting:
		return s.vote(ctx)
	case StagePeople:
		return s.peoplesTurn(ctx)
	case StageSwitch:
		return s.switchRole(ctx, st.seat)
	case StageWorkshop:
		return s.workshop(ctx, st.seat)
	case StageCards:
		return s.designCards(ctx)
	case StageFinal:
		return s.finalDesign(ctx)
	case StageClosing:
		return s.closingStage(ctx)
	}
	return fmt.Errorf("unknown stage %q", st.stage)
}

// finish records how the session ended and checkpoints it.
func (s *Session) finish(ctx context.Context, runErr error) {
	out := context.WithoutCancel(ctx)
	if errors.Is(runErr, store.ErrLeaseLost) {
		s.log.Error("lease lost: another process owns this session now", "err", runErr)
		s.releaseBoard()
		return
	}
	if runErr != nil && s.isStopped() {
		runErr = ErrStopped
	}
	if runErr != nil && !errors.Is(runErr, ErrStopped) && s.isSuspended() {
		s.post(out, bot.KindNotice, s.ui("suspended"))
		s.mu.Lock()
		s.st.Elapsed += s.since()
		s.started = time.Time{}
		s.mu.Unlock()
		if err := s.checkpoint(out); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			s.log.Error("suspend checkpoint failed", "err", err)
		}
		s.releaseBoard()
		return
	}
	status := store.StatusFinished
	var capErr *CapError
	switch {
	case runErr == nil:
	case errors.Is(runErr, ErrStopped):
		status = store.StatusStopped
		s.note(out, s.ui("stopped"))
	case errors.As(runErr, &capErr):
		status = store.StatusStopped
		s.note(out, fmt.Sprintf(s.ui("capped"), capErr.Reason, s.st.Meta.ID))
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		status = store.StatusInterrupted
		s.note(out, fmt.Sprintf(s.ui("interrupted"), s.st.Meta.ID))
	default:
		status = store.StatusFailed
		s.log.Error("session failed", "err", runErr)
		s.note(out, fmt.Sprintf(s.ui("failed"), s.st.Meta.ID))
	}
	s.mu.Lock()
	s.st.Meta.Status = status
	if runErr != nil && status != store.StatusInterrupted {
		s.st.Meta.Error = publicError(runErr)
	}
	s.st.Elapsed += s.since()
	s.started = time.Time{}
	u := s.st.Usage
	s.mu.Unlock()
	if status != store.StatusInterrupted {
		s.event(out, store.Event{Type: transcript.EventEnd, Text: string(status), Data: mustJSON(transcript.SessionEnd{
			Status: status, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CostUSD: u.CostUSD, Calls: u.Calls,
			CachedInputTokens: u.CachedInputTokens})})
	}
	s.updateBoard(true)
	if err := s.checkpoint(out); err != nil {
		s.log.Error("final checkpoint failed", "err", err)
	}
}

// checkpoint stores the state and the metadata after a step.
func (s *Session) checkpoint(ctx context.Context) error {
	s.mu.Lock()
	s.st.Meta.UpdatedAt = s.deps.Now()
	s.st.Meta.InputTokens, s.st.Meta.OutputTokens = s.st.Usage.InputTokens, s.st.Usage.OutputTokens
	s.st.Meta.CostUSD, s.st.Meta.Calls = s.st.Usage.CostUSD, s.st.Usage.Calls
	s.st.Meta.CachedInputTokens = s.st.Usage.CachedInputTokens
	state, err := json.Marshal(s.st)
	meta, step, fence := s.st.Meta, s.st.Meta.Step, s.fence
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := s.deps.Store.SaveCheckpoint(ctx, meta.ID, store.Checkpoint{Step: step, State: state, Fence: fence}); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := s.deps.Store.UpdateSession(ctx, meta); err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return nil
}

// event appends to the session's log. A failing store is logged; the
// checkpoint after the step reports it as the session's error.
func (s *Session) event(ctx context.Context, ev store.Event) {
	ev.Time = s.deps.Now()
	if _, err := s.deps.Store.Append(ctx, s.st.Meta.ID, ev); err != nil {
		s.log.Error("append event failed", "type", ev.Type, "err", err)
	}
}

func (s *Session) startInfo() transcript.SessionStart {
	info := transcript.SessionStart{Demo: s.deps.Demo, Model: s.deps.ModelName, Image: s.st.Photo != nil}
	for _, seat := range s.st.Pack.Seats {
		_, model := s.model(seat.ID)
		info.Seats = append(info.Seats, transcript.SeatInfo{ID: seat.ID, Name: seat.Name.In(s.lang()), Role: seat.Role,
			Emoji: seat.Emoji, Color: seat.Color, Model: model})
	}
	return info
}

// takeInterjections moves people's messages into the transcript, where the
// next speaker sees (and answers) them.
func (s *Session) takeInterjections(ctx context.Context) {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, t := range p {
		t.Stage = s.stage
		s.st.Transcript = append(s.st.Transcript, t)
		s.st.Unanswered = append(s.st.Unanswered, t)
		s.event(ctx, store.Event{Type: transcript.EventInterjection, Stage: t.Stage, Name: t.Name, Text: t.Text})
	}
}

func (s *Session) setProgress(st step, total int) {
	s.mu.Lock()
	if s.stage != st.stage || s.inStage.IsZero() {
		s.inStage = s.deps.Now()
	}
	s.stage = st.stage
	s.speaker = ""
	s.st.Meta.Stage = st.stage
	s.mu.Unlock()
	s.updateBoard(false)
}

func (s *Session) setSpeaker(name string) {
	s.mu.Lock()
	s.speaker = name
	s.mu.Unlock()
	s.updateBoard(false)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return b
}

func (s *Session) lang() string { return s.st.Meta.Language }

// persona returns how seat i appears in chat.
func (s *Session) persona(i int) bot.Persona {
	seat := s.st.Pack.Seats[i]
	return bot.Persona{ID: seat.ID, Name: seat.Name.In(s.lang()), Emoji: seat.Emoji, Color: seat.Color,
		AvatarURL: seat.AvatarURL, Role: s.st.Pack.RoleLabel(s.st.Roles[i], s.lang())}
}

func (s *Session) moderator() bot.Persona {
	m := s.st.Pack.Moderator
	name := m.Name.In(s.lang())
	if name == "" {
		name = "Moderator"
	}
	return bot.Persona{ID: "moderator", Name: name, Emoji: m.Emoji, Color: m.Color, Moderator: true}
}

// note posts a moderator line and logs it.
func (s *Session) note(ctx context.Context, text string) {
	s.post(ctx, bot.KindNotice, text)
	s.event(ctx, store.Event{Type: transcript.EventNote, Stage: s.stage, Text: text})
}

// post sends a complete moderator message.
func (s *Session) post(ctx context.Context, kind bot.Kind, text string) {
	st, err := s.open(ctx, bot.Post{From: s.moderator(), Kind: kind, Placeholder: firstLine(text)})
	if err != nil {
		s.log.Warn("post failed", "err", err)
		return
	}
	s.closeLater(ctx, st, text, false)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// publicError is what the session's record (and so its export) keeps of
// the error that ended it: a guardrail's reason, or a model failure's kind
// and sentence, never a provider's own text (which is logged).
func publicError(err error) string {
	var capErr *CapError
	switch {
	case errors.As(err, &capErr):
		return capErr.Reason
	case errors.Is(err, ErrStopped):
		return err.Error()
	case providers.KindOf(err) != providers.KindUnknown:
		return providers.KindOf(err).String() + ": " + providers.UserMessage(err)
	}
	return "the session failed (the details are in the server's log)"
}
