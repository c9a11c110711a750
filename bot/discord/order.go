package discord

import (
	"context"
	"sync"

	"github.com/tableround/tableround/bot"
)

// finals keeps a place's messages in the order people read them: a
// message opened after another was closed is created only once the
// other's final text is shown. When the channel's budget is tight (its
// creates wait seconds for a slot) a speech's final edit would otherwise
// land after the next speeches, or after the session's closing message.
type finals struct {
	mu      sync.Mutex
	pending map[chan struct{}]bool // closed streams whose final text is not shown yet
}

// begin registers a final on its way; done marks it shown (or failed).
func (f *finals) begin() (done func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.pending == nil {
		f.pending = map[chan struct{}]bool{}
	}
	f.pending[ch] = true
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.pending, ch)
			f.mu.Unlock()
			close(ch)
		})
	}
}

// before is what a message opened now waits for: the finals on their way.
func (f *finals) before() []chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]chan struct{}, 0, len(f.pending))
	for ch := range f.pending {
		out = append(out, ch)
	}
	return out
}

// await waits until every final in chs is shown, or ctx ends.
func await(ctx context.Context, chs []chan struct{}) error {
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// orderedStream is a StreamWriter whose final text is tracked in its
// place's finals.
type orderedStream struct {
	*bot.StreamWriter
	f *finals
}

var (
	_ bot.Stream      = (*orderedStream)(nil)
	_ bot.AsyncCloser = (*orderedStream)(nil)
)

// Close delivers final and waits until it is shown or failed, or ctx ends.
func (s *orderedStream) Close(ctx context.Context, final string) error {
	return closeWait(ctx, s, final)
}

// closeWait is Close made of CloseThen: it waits for the callback, or
// until ctx ends.
func closeWait(ctx context.Context, c bot.AsyncCloser, final string) error {
	res := make(chan error, 1)
	c.CloseThen(ctx, final, func(err error) { res <- err })
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CloseThen is the StreamWriter's, with the final tracked.
func (s *orderedStream) CloseThen(ctx context.Context, final string, cb func(error)) {
	done := s.f.begin()
	s.StreamWriter.CloseThen(ctx, final, func(err error) {
		done()
		if cb != nil {
			cb(err)
		}
	})
}
