package providers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Timeouts bound one streamed call. None of them is an http.Client.Timeout,
// which would cut a healthy long stream.
type Timeouts struct {
	FirstByte time.Duration // from sending the request to the first line of the body
	Idle      time.Duration // the longest silence after that (comments and reasoning count as life)
	Overall   time.Duration // the whole call
}

// Watchdog cancels a stream's context when it does not start, stalls, or
// runs past its deadline, and remembers why.
type Watchdog struct {
	provider string
	t        Timeouts
	ctx      context.Context
	cancel   context.CancelCauseFunc
	stop     context.CancelFunc
	timer    *time.Timer

	mu      sync.Mutex
	started bool
}

// StartWatchdog returns a context for the request and the watchdog guarding
// it. Call Alive on every line received and Stop when done.
func StartWatchdog(ctx context.Context, provider string, t Timeouts) (context.Context, *Watchdog) {
	w := &Watchdog{provider: provider, t: t, stop: func() {}}
	if t.Overall > 0 {
		ctx, w.stop = context.WithTimeoutCause(ctx, t.Overall, &Error{
			Provider: provider, Kind: KindTimeout, Message: fmt.Sprintf("no complete reply within %s", t.Overall)})
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	if t.FirstByte > 0 {
		w.timer = time.AfterFunc(t.FirstByte, w.fire)
	}
	return w.ctx, w
}

func (w *Watchdog) fire() {
	w.mu.Lock()
	started := w.started
	w.mu.Unlock()
	msg := fmt.Sprintf("no reply within %s", w.t.FirstByte)
	if started {
		msg = fmt.Sprintf("stream stalled for %s", w.t.Idle)
	}
	w.cancel(&Error{Provider: w.provider, Kind: KindTimeout, Message: msg})
}

// Alive records a sign of life and restarts the inactivity timer.
func (w *Watchdog) Alive() {
	w.mu.Lock()
	w.started = true
	w.mu.Unlock()
	if w.t.Idle <= 0 {
		if w.timer != nil {
			w.timer.Stop()
		}
		return
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(w.t.Idle, w.fire)
		return
	}
	w.timer.Reset(w.t.Idle)
}

// Stop releases the watchdog's timers.
func (w *Watchdog) Stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel(nil)
	w.stop()
}

// Cause returns the *Error of a fired timer or deadline, or nil when the
// watchdog did not end the stream (including when the caller's own context
// ended: then the caller's error is the right one).
func (w *Watchdog) Cause(parent context.Context) error {
	if parent.Err() != nil {
		return nil
	}
	if pe, ok := context.Cause(w.ctx).(*Error); ok {
		return pe
	}
	return nil
}

// Fail chooses the error to return for an I/O failure during a guarded
// call: the caller's context error, the watchdog's timeout, or the
// classified transport error.
func (w *Watchdog) Fail(parent context.Context, err error) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	if c := w.Cause(parent); c != nil {
		return c
	}
	return ClassifyTransport(w.provider, err)
}
