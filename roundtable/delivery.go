package roundtable

import (
	"context"
	"errors"
	"sync"
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

// delivery keeps what the chat still owes and holds the session back
// while it owes too much.
type delivery struct {
	*table
	out   *outbox
	board *board

	closing sync.WaitGroup // final edits of finished messages

	mu      sync.Mutex
	owed    int           // messages closed whose final text is not shown yet
	paidCh  chan struct{} // closed when owed drops
	waiting bool          // the session waits for its chat (backpressure)
}

// owe counts one message more whose final text is on its way.
func (d *delivery) owe() {
	d.mu.Lock()
	d.owed++
	d.mu.Unlock()
}

// paid counts one message less and wakes a session waiting for its chat.
func (d *delivery) paid() {
	d.mu.Lock()
	d.owed--
	ch := d.paidCh
	d.paidCh = nil
	d.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// catchUp waits until the chat owes at most window messages, or ctx ends.
// The board shows the wait while it lasts.
func (d *delivery) catchUp(ctx context.Context, window int) error {
	waited := false
	defer func() {
		if waited {
			d.mu.Lock()
			d.waiting = false
			d.mu.Unlock()
			d.board.showChatWait(false)
		}
	}()
	for {
		d.mu.Lock()
		if d.owed <= window {
			d.mu.Unlock()
			return nil
		}
		if d.paidCh == nil {
			d.paidCh = make(chan struct{})
		}
		ch := d.paidCh
		show := !d.waiting
		d.waiting = true
		d.mu.Unlock()
		if show {
			waited = true
			d.board.showChatWait(true)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// window is how many finished messages may still be on their way when the
// session takes its next step within a stage.
func (d *delivery) window() int {
	if d.cfg.DeliveryWindow < 0 {
		return 0
	}
	return d.cfg.DeliveryWindow
}

// wait returns when every final edit has ended.
func (d *delivery) wait() { d.closing.Wait() }

// waitAtMost is wait for at most limit; false when edits were still on
// their way (they go on in the background until their stream ends).
func (d *delivery) waitAtMost(limit time.Duration) bool {
	done := make(chan struct{})
	go func() {
		d.closing.Wait()
		close(done)
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// closeLater delivers a stream's final text without holding up the next
// step (within the delivery window); Run waits for all of them before it
// returns. A stream that can close asynchronously (bot.AsyncCloser) needs
// no goroutine to wait. speech marks a persona's speech, whose chat lag
// (from now, its last token, to its final text shown) is observed.
func (d *delivery) closeLater(ctx context.Context, st bot.Stream, final string, speech bool) {
	d.closing.Add(1)
	d.owe()
	began := d.deps.Now()
	out := context.WithoutCancel(ctx)
	n := 0
	if t, ok := st.(*tracked); ok {
		n, st = t.n, t.Stream
		d.out.record(out, transcript.Outbox{N: n, Op: transcript.OutboxClosed, Text: final})
	}
	cctx, cancel := context.WithTimeout(out, 2*time.Minute)
	finish := func(err error) {
		cancel()
		if err != nil && !errors.Is(err, bot.ErrGone) {
			d.log.Warn("final edit failed", "err", err)
		} else if n > 0 {
			d.out.record(out, transcript.Outbox{N: n, Op: transcript.OutboxShown})
		}
		if lo, ok := d.deps.Observer.(LagObserver); ok && speech && err == nil {
			lo.ChatLag(d.deps.Now().Sub(began))
		}
		d.paid()
		d.closing.Done()
	}
	if ac, ok := st.(bot.AsyncCloser); ok {
		ac.CloseThen(cctx, final, finish)
		return
	}
	go func() { finish(st.Close(cctx, final)) }()
}
