package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	iclock "github.com/tableround/tableround/internal/clock"
)

// Sender creates and edits the platform messages of one stream. Text is raw
// (the Sender renders it: persona header, escaping). An edit that changes
// nothing must return nil ("message is not modified" is success); a deleted
// message returns ErrGone; a 429 returns *RateLimitError.
type Sender interface {
	Send(ctx context.Context, text string) (id string, err error)
	Edit(ctx context.Context, id, text string) error
}

// WriterOptions configure a StreamWriter.
type WriterOptions struct {
	Limit       int                 // longest part in Measure units (e.g. 2000 minus the header)
	Measure     func(string) int    // RuneLen when nil
	Placeholder string              // shown first; "…" when empty
	MinInterval time.Duration       // between two edits of one message (≈1 s)
	Scheduler   *Scheduler          // the channel's budget; nil means no pacing
	Clock       Clock               // RealClock when nil
	MaxAttempts int                 // per request on errors other than 429 (default 3)
	OnEdit      func(time.Duration) // staleness of each delivered edit, for metrics
	OnRetry     func()              // a request retried (after a 429 or a failure), for metrics
	OnDelivered func(edits int)     // the final text delivered after this many writes, for metrics
	Logger      *slog.Logger
	// WordsInPlaceholder lets the create carry the text instead of the
	// placeholder when words arrived while it waited for a slot: under a
	// full budget the first words show one write sooner, and a write is
	// saved.
	WordsInPlaceholder bool
	// OnCreate is told the ID of every platform message the writer
	// creates, as soon as it exists (the session's outbox records it, so
	// a process resuming after a crash can complete the message).
	OnCreate func(id string)
	// Existing are messages a previous process created for this stream:
	// the writer edits them instead of sending a placeholder (a resumed
	// session completing what a crash cut off).
	Existing []string
}

// StreamWriter delivers a growing text to one or more platform messages at
// the platform's pace. Update stores the latest snapshot and never blocks;
// one goroutine per writer sends at most one request at a time, coalescing
// everything that arrived meanwhile. Close always delivers the final text.
type StreamWriter struct {
	s    Sender
	o    WriterOptions
	wake chan struct{}
	done chan struct{}

	mu      sync.Mutex
	latest  string
	dirty   bool
	since   time.Time // when the oldest not-yet-shown update arrived
	closed  bool
	final   string
	err     error
	ids     []string
	shown   []string
	edits   int // text flushes delivered after the placeholder
	leave   func()
	stopped bool     // ctx ended: only the final text is still delivered
	dropped bool     // Drop: ends without a final
	ended   bool     // run has returned
	then    []func() // CloseThen's callbacks, run when run returns
}

// NewStreamWriter starts a writer; the placeholder is sent at once in the
// background. ctx bounds intermediate edits; the final text (Close) is
// delivered even after ctx ends.
func NewStreamWriter(ctx context.Context, s Sender, o WriterOptions) *StreamWriter {
	if o.Measure == nil {
		o.Measure = RuneLen
	}
	if o.Limit <= 0 {
		o.Limit = 2000
	}
	if o.Placeholder == "" {
		o.Placeholder = "…"
	}
	if o.Clock == nil {
		o.Clock = iclock.Real{}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w := &StreamWriter{s: s, o: o, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if len(o.Existing) > 0 {
		w.ids = append([]string(nil), o.Existing...)
		w.shown = make([]string, len(w.ids))
		for i := range w.shown {
			w.shown[i] = unknownText // never equal to a part: the first flush edits every one
		}
	}
	if o.Scheduler != nil {
		w.leave = o.Scheduler.Join()
	}
	go w.run(ctx)
	return w
}

// Update replaces the text to show. It never blocks.
func (w *StreamWriter) Update(text string) {
	w.mu.Lock()
	if w.closed || text == w.latest {
		w.mu.Unlock()
		return
	}
	if !w.dirty {
		w.since = w.o.Clock.Now()
	}
	w.latest, w.dirty = text, true
	w.mu.Unlock()
	w.poke()
}

// Close delivers final (the last snapshot when final is empty) and waits
// until it is shown or failed, or ctx ends.
func (w *StreamWriter) Close(ctx context.Context, final string) error {
	w.close(final)
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CloseThen is Close without the wait (AsyncCloser): done, when not nil,
// is called once with what Close would return, when the final text is
// shown or failed or when ctx ends, whichever is first. It runs on the
// writer's goroutine (or ctx's AfterFunc) and must not block. A session
// that moves on while a finished speech still shows no longer keeps a
// goroutine per message waiting for it.
func (w *StreamWriter) CloseThen(ctx context.Context, final string, done func(error)) {
	w.close(final)
	if done == nil {
		return
	}
	var once sync.Once
	call := func(err error) { once.Do(func() { done(err) }) }
	stop := context.AfterFunc(ctx, func() { call(ctx.Err()) })
	w.whenEnded(func() {
		stop()
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		call(err)
	})
}

// close asks for final (the last snapshot when empty) once.
func (w *StreamWriter) close(final string) {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		if final == "" {
			final = w.latest
		}
		w.final = final
	}
	w.mu.Unlock()
	w.poke()
}

// whenEnded runs f once run has returned: now, or when it returns.
func (w *StreamWriter) whenEnded(f func()) {
	w.mu.Lock()
	if !w.ended {
		w.then = append(w.then, f)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	f()
}

// end marks run as returned and runs the callbacks waiting for it.
func (w *StreamWriter) end() {
	w.mu.Lock()
	w.ended = true
	then := w.then
	w.then = nil
	w.mu.Unlock()
	close(w.done)
	for _, f := range then {
		f()
	}
}

// IDs returns the platform IDs of the messages written so far.
func (w *StreamWriter) IDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ids...)
}

// unknownText stands for what an existing message shows: it is never
// equal to a part, so that message is edited.
const unknownText = "\x00unknown"

// created tells OnCreate about a new message.
func (w *StreamWriter) created(id string) {
	if w.o.OnCreate != nil {
		w.o.OnCreate(id)
	}
}

func (w *StreamWriter) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *StreamWriter) run(ctx context.Context) {
	defer w.end()
	if w.leave != nil {
		defer w.leave()
	}
	final := context.WithoutCancel(ctx)
	if len(w.o.Existing) == 0 {
		if err := w.open(ctx); err != nil && !errors.Is(err, context.Canceled) {
			w.o.Logger.Warn("stream placeholder failed", "err", err)
		}
	}
	last := w.o.Clock.Now() // the create counts: the first edit keeps its distance too
	for {
		w.mu.Lock()
		closed, text, dirty := w.closed, w.latest, w.dirty
		w.mu.Unlock()
		if closed && w.isDropped() {
			return
		}
		if closed {
			// The final edit keeps the per-message spacing as well (none
			// is needed when the final text is already shown).
			if wait := w.o.MinInterval - w.o.Clock.Now().Sub(last); wait > 0 && !w.showsFinal() {
				_ = w.o.Clock.Sleep(final, wait)
			}
			w.finish(final)
			return
		}
		if !dirty || w.isStopped() {
			select {
			case <-w.wake:
			case <-ctx.Done():
				w.setStopped()
				<-w.wake // only Close wakes a stopped writer usefully
			}
			continue
		}
		// One edit per MinInterval per message.
		if wait := w.o.MinInterval - w.o.Clock.Now().Sub(last); wait > 0 {
			if err := w.o.Clock.Sleep(ctx, wait); err != nil {
				w.setStopped()
				continue
			}
		}
		w.mu.Lock()
		text, since := w.latest, w.since
		w.dirty = false
		pri := PriorityRefresh
		if w.edits == 0 {
			pri = PriorityFirst // a speaker's first words
		}
		w.mu.Unlock()
		if err := w.flush(ctx, text, pri); err != nil {
			if errors.Is(err, ErrGone) {
				w.setErr(err)
				w.waitClose()
				return
			}
			w.markDirty(since)
			if ctx.Err() != nil {
				w.setStopped()
			}
			continue
		}
		last = w.o.Clock.Now()
		w.mu.Lock()
		w.edits++
		w.mu.Unlock()
		if w.o.OnEdit != nil {
			w.o.OnEdit(last.Sub(since))
		}
	}
}

// open creates the first message: the placeholder, or with
// WordsInPlaceholder the text when some arrived by the time the slot was
// granted (decided again on every attempt).
func (w *StreamWriter) open(ctx context.Context) error {
	if !w.o.WordsInPlaceholder {
		return w.flush(ctx, w.o.Placeholder, PriorityFirst)
	}
	var since time.Time
	took := false
	err := w.do(ctx, func(ctx context.Context) error {
		text := w.o.Placeholder
		w.mu.Lock()
		took = false
		if w.dirty && w.latest != "" {
			if parts := Split(w.latest, w.o.Limit, w.o.Measure); len(parts) == 1 {
				text, since, took = parts[0], w.since, true
				w.dirty = false
			}
		}
		w.mu.Unlock()
		id, err := w.s.Send(ctx, text)
		if err != nil {
			if took {
				w.markDirty(since)
			}
			return err
		}
		w.mu.Lock()
		w.ids = append(w.ids, id)
		w.shown = append(w.shown, text)
		w.mu.Unlock()
		w.created(id)
		w.mu.Lock()
		if took {
			w.edits++ // the first words are shown: what follows are refreshes
		}
		w.mu.Unlock()
		return nil
	}, PriorityFirst)
	if err == nil && took && w.o.OnEdit != nil {
		w.o.OnEdit(w.o.Clock.Now().Sub(since))
	}
	return err
}

func (w *StreamWriter) finish(ctx context.Context) {
	w.mu.Lock()
	text := w.final
	w.mu.Unlock()
	if text == "" {
		text = w.o.Placeholder
	}
	err := w.flush(ctx, text, PriorityFirst) // the final text always goes, and soon
	w.setErr(err)
	if err == nil && w.o.OnDelivered != nil {
		w.mu.Lock()
		edits := w.edits + 1
		w.mu.Unlock()
		w.o.OnDelivered(edits)
	}
}

// WriterHooks are the metrics callbacks an adapter adds to each of its
// stream writers (see WriterOptions); nil fields are skipped.
type WriterHooks struct {
	OnEdit      func(staleness time.Duration)
	OnRetry     func()
	OnDelivered func(edits int)
}

// Apply sets the hooks on o.
func (h WriterHooks) Apply(o *WriterOptions) {
	o.OnEdit, o.OnRetry, o.OnDelivered = h.OnEdit, h.OnRetry, h.OnDelivered
}

func (w *StreamWriter) waitClose() {
	for {
		w.mu.Lock()
		closed := w.closed
		w.mu.Unlock()
		if closed {
			return
		}
		<-w.wake
	}
}

func (w *StreamWriter) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

func (w *StreamWriter) setStopped() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

func (w *StreamWriter) setErr(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

func (w *StreamWriter) markDirty(since time.Time) {
	w.mu.Lock()
	if !w.dirty {
		w.dirty, w.since = true, since
	}
	w.mu.Unlock()
}

// flush makes the platform messages show text: parts already shown are left
// alone, changed parts are edited, new parts are sent. pri is the
// scheduling priority of its requests.
func (w *StreamWriter) flush(ctx context.Context, text string, pri Priority) error {
	parts := Split(text, w.o.Limit, w.o.Measure)
	for i, p := range parts {
		w.mu.Lock()
		n := len(w.ids)
		same := i < n && w.shown[i] == p
		w.mu.Unlock()
		if same {
			continue
		}
		if err := w.do(ctx, func(ctx context.Context) error {
			if i < n {
				w.mu.Lock()
				id := w.ids[i]
				w.mu.Unlock()
				return w.s.Edit(ctx, id, p)
			}
			id, err := w.s.Send(ctx, p)
			if err == nil {
				w.mu.Lock()
				w.ids = append(w.ids, id)
				w.shown = append(w.shown, "")
				w.mu.Unlock()
				w.created(id)
			}
			return err
		}, pri); err != nil {
			return err
		}
		w.mu.Lock()
		w.shown[i] = p
		w.mu.Unlock()
	}
	return nil
}

// do runs one request through the scheduler at priority pri, honouring
// 429s (always retried after the hint) and retrying other failures
// MaxAttempts times.
func (w *StreamWriter) do(ctx context.Context, call func(context.Context) error, pri Priority) error {
	failures, limited := 0, 0
	for {
		if w.o.Scheduler != nil {
			if err := w.o.Scheduler.WaitPriority(ctx, pri); err != nil {
				return err
			}
		}
		err := call(ctx)
		if err == nil || errors.Is(err, ErrGone) {
			return err
		}
		var rl *RateLimitError
		if errors.As(err, &rl) {
			if limited++; limited > 20 {
				return err
			}
			if w.o.OnRetry != nil {
				w.o.OnRetry()
			}
			if w.o.Scheduler != nil {
				w.o.Scheduler.Penalize(rl.RetryAfter, rl.Global)
			} else if err := w.o.Clock.Sleep(ctx, rl.RetryAfter); err != nil {
				return err
			}
			continue
		}
		failures++
		w.o.Logger.Warn("stream edit failed", "err", err, "attempt", failures, "priority", int(pri))
		if failures >= w.o.MaxAttempts || ctx.Err() != nil {
			return err
		}
		if w.o.OnRetry != nil {
			w.o.OnRetry()
		}
		if err := w.o.Clock.Sleep(ctx, time.Duration(failures)*500*time.Millisecond); err != nil {
			return err
		}
	}
}
