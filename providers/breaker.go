package providers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tableround/tableround/internal/clock"
)

// BreakerState is the state of a circuit breaker.
type BreakerState int

// Breaker states.
const (
	Closed   BreakerState = iota // calls pass
	Open                         // calls fail at once with KindCircuitOpen
	HalfOpen                     // one probe call passes
)

func (s BreakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// Breaker is a per-provider circuit breaker. It opens after Threshold
// consecutive retryable failures, lets one probe through after CoolDown, and
// closes again when a call succeeds.
type Breaker struct {
	provider  string
	threshold int
	coolDown  time.Duration
	now       func() time.Time

	onOpen func(provider string)

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
}

// NewBreaker returns a closed breaker for a provider. clk may be nil (the
// wall clock); tests inject a manual one.
func NewBreaker(provider string, threshold int, coolDown time.Duration, clk clock.Clock) *Breaker {
	if threshold <= 0 {
		threshold = 5
	}
	if coolDown <= 0 {
		coolDown = 30 * time.Second
	}
	return &Breaker{provider: provider, threshold: threshold, coolDown: coolDown, now: clock.Or(clk).Now}
}

// State returns the current state, turning Open into HalfOpen once the
// cool-down has passed.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	return b.state
}

func (b *Breaker) advance() {
	if b.state == Open && b.now().Sub(b.openedAt) >= b.coolDown {
		b.state, b.probing = HalfOpen, false
	}
}

// Allow reports whether a call may start: nil, or a KindCircuitOpen *Error.
// A nil answer must be followed by exactly one Record.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	switch {
	case b.state == Closed:
		return nil
	case b.state == HalfOpen && !b.probing:
		b.probing = true
		return nil
	}
	wait := b.coolDown - b.now().Sub(b.openedAt)
	return &Error{Provider: b.provider, Kind: KindCircuitOpen, RetryAfter: max(wait, 0),
		Message: fmt.Sprintf("circuit open after %d failures", b.threshold)}
}

// OnOpen sets a function told each time the breaker opens (for metrics and
// the alert history). Call it before the breaker is used.
func (b *Breaker) OnOpen(fn func(provider string)) { b.onOpen = fn }

// Record reports the outcome of an allowed call. Success closes the circuit;
// a retryable failure counts towards opening it; anything else (refusals,
// bad requests, the caller's cancellation) leaves it as it is.
func (b *Breaker) Record(err error) {
	if b.record(err) && b.onOpen != nil {
		b.onOpen(b.provider)
	}
}

// record applies an outcome and reports whether the breaker opened.
func (b *Breaker) record(err error) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.probing
	b.probing = false
	switch {
	case err == nil:
		b.state, b.failures = Closed, 0
	case KindOf(err).Retryable():
		b.failures++
		if wasProbe || b.failures >= b.threshold {
			opened = b.state != Open
			b.state, b.openedAt = Open, b.now()
		}
	}
	return opened
}

// Wrap returns a ChatModel that asks the breaker before every call of m.
// Wrap it inside a Retry so that each attempt counts and an open circuit
// stops the retries.
func (b *Breaker) Wrap(m ChatModel) ChatModel { return &guarded{b: b, m: m} }

type guarded struct {
	b *Breaker
	m ChatModel
}

func (g *guarded) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	if err := g.b.Allow(); err != nil {
		return Response{}, err
	}
	resp, err := g.m.Stream(ctx, req, fn)
	if ctx.Err() != nil && err != nil {
		g.b.Record(nil) // the caller gave up: say nothing about the provider
		return resp, err
	}
	g.b.Record(err)
	return resp, err
}

// Fallback is a ChatModel trying several models in order. The next one is
// tried when the previous one's circuit is open or it failed with a
// retryable kind after its own retries; visible text already streamed is
// withdrawn with Delta{Reset: true} and the reply is marked Regenerated.
type Fallback struct {
	models []ChatModel
}

var _ ChatModel = (*Fallback)(nil)

// NewFallback returns a chain of models, the primary first.
func NewFallback(models ...ChatModel) *Fallback { return &Fallback{models: models} }

// Stream calls the models in order until one answers.
func (f *Fallback) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	var (
		usage       Usage
		regenerated bool
		lastErr     error = errors.New("no model configured")
	)
	for i, m := range f.models {
		visible := false
		r := req
		if i > 0 {
			r.Model = "" // a model name belongs to its provider
		}
		resp, err := m.Stream(ctx, r, func(d Delta) error {
			if d.Reset {
				visible = false
			}
			if d.Text != "" {
				visible = true
			}
			return fn(d)
		})
		usage = usage.Add(resp.Usage)
		if err == nil {
			resp.Usage = usage
			resp.Regenerated = resp.Regenerated || regenerated
			return resp, nil
		}
		lastErr = err
		kind := KindOf(err)
		if ctx.Err() != nil || (kind != KindCircuitOpen && !kind.Retryable()) {
			break
		}
		if visible && i+1 < len(f.models) {
			if err := fn(Delta{Reset: true}); err != nil {
				return Response{Usage: usage}, err
			}
			regenerated = true
		}
	}
	return Response{Usage: usage}, lastErr
}
