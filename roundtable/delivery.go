package roundtable

import (
	"context"
	"errors"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/transcript"
)

// This file holds the session's backpressure: what the chat still owes
// (messages whose final text is not shown yet) and how far the session may
// run ahead of it.
//
// A session never starts a new stage while its chat still owes anything of
// the previous one, so every message appears under its own stage's banner;
// within a stage it starts the next step only while at most
// Config.DeliveryWindow finished messages are still on their way. While it
// waits it calls no model, and the board says it waits for the chat.

// LagObserver is an Observer that is also told the chat lag of each speech:
// from its last token to its final text being shown.
type LagObserver interface {
	ChatLag(d time.Duration)
}

// owe counts one message more whose final text is on its way.
func (s *Session) owe() {
	s.mu.Lock()
	s.owed++
	s.mu.Unlock()
}

// paid counts one message less and wakes a session waiting for its chat.
func (s *Session) paid() {
	s.mu.Lock()
	s.owed--
	ch := s.paidCh
	s.paidCh = nil
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// catchUp waits until the chat owes at most window messages, or ctx ends.
// The board shows the wait while it lasts.
func (s *Session) catchUp(ctx context.Context, window int) error {
	waited := false
	defer func() {
		if waited {
			s.mu.Lock()
			s.waitingChat = false
			s.mu.Unlock()
			s.updateBoard(false)
		}
	}()
	for {
		s.mu.Lock()
		if s.owed <= window {
			s.mu.Unlock()
			return nil
		}
		if s.paidCh == nil {
			s.paidCh = make(chan struct{})
		}
		ch := s.paidCh
		show := !s.waitingChat
		s.waitingChat = true
		s.mu.Unlock()
		if show {
			waited = true
			s.updateBoard(false)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deliveryWindow is how many finished messages may still be on their way
// when the session takes its next step within a stage.
func (s *Session) deliveryWindow() int {
	if s.cfg.DeliveryWindow < 0 {
		return 0
	}
	return s.cfg.DeliveryWindow
}

// closeLater delivers a stream's final text without holding up the next
// step (within the delivery window); Run waits for all of them before it
// returns. A stream that can close asynchronously (bot.AsyncCloser) needs
// no goroutine to wait. speech marks a persona's speech, whose chat lag
// (from now, its last token, to its final text shown) is observed.
func (s *Session) closeLater(ctx context.Context, st bot.Stream, final string, speech bool) {
	s.closing.Add(1)
	s.owe()
	began := s.deps.Now()
	out := context.WithoutCancel(ctx)
	n := 0
	if t, ok := st.(*tracked); ok {
		n, st = t.n, t.Stream
		s.outbox(out, transcript.Outbox{N: n, Op: transcript.OutboxClosed, Text: final})
	}
	cctx, cancel := context.WithTimeout(out, 2*time.Minute)
	finish := func(err error) {
		cancel()
		if err != nil && !errors.Is(err, bot.ErrGone) {
			s.log.Warn("final edit failed", "err", err)
		} else if n > 0 {
			s.outbox(out, transcript.Outbox{N: n, Op: transcript.OutboxShown})
		}
		if lo, ok := s.deps.Observer.(LagObserver); ok && speech && err == nil {
			lo.ChatLag(s.deps.Now().Sub(began))
		}
		s.paid()
		s.closing.Done()
	}
	if ac, ok := st.(bot.AsyncCloser); ok {
		ac.CloseThen(cctx, final, finish)
		return
	}
	go func() { finish(st.Close(cctx, final)) }()
}
