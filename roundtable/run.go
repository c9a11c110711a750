package roundtable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Stages returns the stage names, in session order (for metrics).
func Stages() []string {
	return []string{StageOpening, StageIntro, StagePhoto, StageDiscussion, StageKeywords, StageKJ, StageVoting,
		StagePeople, StageSwitch, StageWorkshop, StageCards, StageFinal, StageClosing}
}

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
	if s.t.st.PhotoStep {
		p = append(p, step{stage: stagePreparePhoto})
	}
	p = append(p, step{stage: StageOpening}, step{stage: StageIntro})
	if s.t.st.Photo != nil || s.t.st.PhotoStep {
		p = append(p, step{stage: StagePhoto})
	}
	n := len(s.t.st.Pack.Seats)
	for r := 1; r <= s.t.st.Turns; r++ {
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
	ctx = providers.WithQueue(ctx, s.ID(), s.board.waitSlot(-1)) // the moderator's calls; speak sets each seat's
	s.mu.Lock()
	s.started = s.t.deps.Now()
	s.mu.Unlock()
	defer func() {
		// A session stopping here to be resumed elsewhere (a shutdown, a
		// lost lease) gives its final edits only releaseWait: the chat's
		// budget may hold them far longer, and what is not shown stays
		// owed in the outbox, so whoever resumes the session delivers it.
		if s.isSuspended() || errors.Is(err, store.ErrLeaseLost) {
			if !s.dl.waitAtMost(time.Until(s.stopHere())) {
				s.t.log.Info("final edits still on their way when the session stopped here; the resuming process delivers them", "wait", releaseWait)
			}
			return
		}
		s.dl.wait()
	}()
	plan := s.plan()
	s.board.setSteps(len(plan)) // the board shows progress against it
	if s.resumed {
		if err := s.dl.settle(ctx); err != nil {
			return err
		}
	}
	if s.t.st.Meta.Step == 0 {
		s.t.event(ctx, store.Event{Type: transcript.EventSession, Text: s.t.st.Meta.Topic, Data: mustJSON(s.startInfo())})
	} else if s.t.st.Meta.Step < len(plan) {
		s.host.note(ctx, fmt.Sprintf(s.t.ui("resuming"), s.t.stageTitle(plan[s.t.st.Meta.Step].stage)))
	}
	s.board.open(ctx)
	defer func() { s.finish(ctx, err) }()
	defer s.talks.stopVision() // a photo's description still being made: ended before finish records the usage
	var deadline <-chan time.Time
	if left := s.t.cfg.MaxSessionDuration - s.t.st.Elapsed; s.t.cfg.MaxSessionDuration > 0 {
		t := time.NewTimer(max(left, time.Millisecond))
		defer t.Stop()
		deadline = t.C
	}
	var stageStart time.Time
	for s.t.st.Meta.Step < len(plan) {
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
		st := plan[s.t.st.Meta.Step]
		if st.stage == stagePreparePhoto {
			// Not a stage of the table: no banner, no speaker, no metric.
			if err := s.talks.preparePhoto(ctx); err != nil {
				return err
			}
			s.t.mu.Lock()
			s.t.st.Meta.Step++
			s.t.mu.Unlock()
			if err := s.checkpoint(ctx); err != nil {
				return err
			}
			continue
		}
		newStage := s.t.st.Meta.Step == 0 || plan[s.t.st.Meta.Step-1].stage != st.stage
		if newStage || stageStart.IsZero() {
			if newStage {
				// The previous stage is shown in full before the next banner.
				if err := s.dl.catchUp(ctx, 0); err != nil {
					return err
				}
				s.host.banner(ctx, st.stage)
			}
			stageStart = s.t.deps.Now()
		}
		if err := s.dl.catchUp(ctx, s.dl.window()); err != nil {
			return err
		}
		s.takeInterjections(ctx)
		s.setProgress(st)
		if err := s.runStep(ctx, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if capped := s.capReached(nil); capped != "" {
				return &CapError{Reason: capped} // e.g. the calls a step needed were refused
			}
			return err
		}
		s.t.mu.Lock()
		s.t.st.Meta.Step++
		s.t.mu.Unlock()
		if next := s.t.st.Meta.Step; next == len(plan) || plan[next].stage != st.stage {
			s.t.deps.Observer.StageDone(st.stage, s.t.deps.Now().Sub(stageStart))
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
		return fmt.Sprintf("the session reached its time limit (%s)", s.t.cfg.MaxSessionDuration)
	default:
	}
	s.t.mu.Lock()
	used := s.t.st.Usage.GuardTokens()
	s.t.mu.Unlock()
	if s.t.cfg.MaxSessionTokens > 0 && used >= s.t.cfg.MaxSessionTokens {
		return fmt.Sprintf("the session reached its token limit (%d)", s.t.cfg.MaxSessionTokens)
	}
	if le := s.t.deps.Calls.reached(); le != nil {
		return fmt.Sprintf("the person who started it reached %d model calls in an hour; they can start again at %s UTC",
			le.Limit, le.RetryAt.UTC().Format("15:04"))
	}
	return ""
}

func (s *Session) runStep(ctx context.Context, st step) error {
	switch st.stage {
	case StageOpening:
		return s.talks.opening(ctx)
	case StageIntro:
		return s.talks.introductions(ctx)
	case StagePhoto:
		return s.talks.photoStories(ctx)
	case StageDiscussion:
		return s.talks.discuss(ctx, st.seat, st.round)
	case StageKeywords:
		return s.decide.extractKeywords(ctx)
	case StageKJ:
		return s.decide.groupKJ(ctx)
	case StageVoting:
		return s.decide.vote(ctx)
	case StagePeople:
		return s.decide.peoplesTurn(ctx)
	case StageSwitch:
		return s.talks.switchRole(ctx, st.seat)
	case StageWorkshop:
		return s.talks.workshop(ctx, st.seat)
	case StageCards:
		return s.design.designCards(ctx)
	case StageFinal:
		return s.design.finalDesign(ctx)
	case StageClosing:
		return s.design.closingStage(ctx)
	}
	return fmt.Errorf("unknown stage %q", st.stage)
}

// stopHere is when a session stopping here for a resume elsewhere stops
// waiting for its chat: releaseWait after the first call. Only Run's
// goroutine calls it (finish, then Run's last deferred wait).
func (s *Session) stopHere() time.Time {
	if s.stopBy.IsZero() {
		s.stopBy = time.Now().Add(releaseWait)
	}
	return s.stopBy
}

// finish records how the session ended and checkpoints it.
func (s *Session) finish(ctx context.Context, runErr error) {
	out := context.WithoutCancel(ctx)
	if errors.Is(runErr, store.ErrLeaseLost) {
		s.t.log.Error("lease lost: another process owns this session now", "err", runErr)
		s.board.release(s.stopHere())
		return
	}
	if runErr != nil && s.isStopped() {
		runErr = ErrStopped
	}
	if runErr != nil && !errors.Is(runErr, ErrStopped) && s.isSuspended() {
		s.host.post(out, bot.KindNotice, s.t.ui("suspended"))
		ran := s.stopClock()
		s.t.mu.Lock()
		s.t.st.Elapsed += ran
		s.t.mu.Unlock()
		if err := s.checkpoint(out); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			s.t.log.Error("suspend checkpoint failed", "err", err)
		}
		s.board.release(s.stopHere())
		return
	}
	status := store.StatusFinished
	var capErr *CapError
	switch {
	case runErr == nil:
	case errors.Is(runErr, ErrStopped):
		status = store.StatusStopped
		s.host.note(out, s.t.ui("stopped"))
	case errors.As(runErr, &capErr):
		status = store.StatusStopped
		s.host.note(out, fmt.Sprintf(s.t.ui("capped"), capErr.Reason, s.t.st.Meta.ID))
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		status = store.StatusInterrupted
		s.host.note(out, fmt.Sprintf(s.t.ui("interrupted"), s.t.st.Meta.ID))
	default:
		status = store.StatusFailed
		s.t.log.Error("session failed", "err", runErr)
		s.host.note(out, fmt.Sprintf(s.t.ui("failed"), s.t.st.Meta.ID))
	}
	ran := s.stopClock()
	s.t.mu.Lock()
	s.t.st.Meta.Status = status
	if runErr != nil && status != store.StatusInterrupted {
		s.t.st.Meta.Error = publicError(runErr)
	}
	s.t.st.Elapsed += ran
	u := s.t.st.Usage
	s.t.mu.Unlock()
	if status != store.StatusInterrupted {
		s.t.event(out, store.Event{Type: transcript.EventEnd, Text: string(status), Data: mustJSON(transcript.SessionEnd{
			Status: status, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CostUSD: u.CostUSD, Calls: u.Calls,
			CachedInputTokens: u.CachedInputTokens})})
	}
	s.board.update(true)
	if err := s.checkpoint(out); err != nil {
		s.t.log.Error("final checkpoint failed", "err", err)
	}
}

// checkpoint stores the state and the metadata after a step.
func (s *Session) checkpoint(ctx context.Context) error {
	s.mu.Lock()
	fence := s.fence
	s.mu.Unlock()
	s.t.mu.Lock()
	s.t.st.Meta.UpdatedAt = s.t.deps.Now()
	s.t.st.Meta.InputTokens, s.t.st.Meta.OutputTokens = s.t.st.Usage.InputTokens, s.t.st.Usage.OutputTokens
	s.t.st.Meta.CostUSD, s.t.st.Meta.Calls = s.t.st.Usage.CostUSD, s.t.st.Usage.Calls
	s.t.st.Meta.CachedInputTokens = s.t.st.Usage.CachedInputTokens
	state, err := json.Marshal(s.t.st)
	meta, step := s.t.st.Meta, s.t.st.Meta.Step
	s.t.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := s.t.deps.Store.SaveCheckpoint(ctx, meta.ID, store.Checkpoint{Step: step, State: state, Fence: fence}); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := s.t.deps.Store.UpdateSession(ctx, meta); err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return nil
}

func (s *Session) startInfo() transcript.SessionStart {
	info := transcript.SessionStart{Demo: s.t.deps.Demo, Model: s.t.deps.ModelName, Image: s.t.st.Photo != nil}
	for _, seat := range s.t.st.Pack.Seats {
		_, model := s.t.model(seat.ID)
		info.Seats = append(info.Seats, transcript.SeatInfo{ID: seat.ID, Name: seat.Name.In(s.t.lang()), Role: seat.Role,
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
	stage, _, _ := s.board.progress()
	for _, turn := range p {
		turn.Stage = stage
		s.t.mu.Lock()
		s.t.st.Transcript = append(s.t.st.Transcript, turn)
		s.t.st.Unanswered = append(s.t.st.Unanswered, turn)
		s.t.mu.Unlock()
		s.t.event(ctx, store.Event{Type: transcript.EventInterjection, Stage: turn.Stage, Name: turn.Name, Text: turn.Text})
	}
}

func (s *Session) setProgress(st step) {
	s.board.setStage(st.stage)
	s.t.mu.Lock()
	s.t.st.Meta.Stage = st.stage
	s.t.mu.Unlock()
	s.board.update(false)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return b
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
