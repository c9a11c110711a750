package providers

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/tableround/tableround/internal/clock"
)

// Policy is the retry policy of a Retry wrapper.
type Policy struct {
	MaxAttempts int           // attempts in all, default 3
	BaseDelay   time.Duration // first backoff, default 1s
	MaxDelay    time.Duration // backoff cap, default 20s
	// MaxRetryAfter is the longest server hint waited for; a longer hint
	// fails the call at once. Default 2m.
	MaxRetryAfter time.Duration
	// Clock waits between attempts; nil is the wall clock. Tests inject
	// one that records the delays and never waits.
	Clock clock.Clock
	// Jitter maps a capped backoff to the delay actually waited; default is
	// "equal jitter" (d/2 plus a random part of d/2).
	Jitter func(d time.Duration) time.Duration
}

// DefaultPolicy returns the policy used when nothing is configured.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 20 * time.Second, MaxRetryAfter: 2 * time.Minute}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	p.Clock = clock.Or(p.Clock)
	if p.Jitter == nil {
		p.Jitter = func(d time.Duration) time.Duration {
			half := d / 2
			return half + rand.N(half+1)
		}
	}
	return p
}

// Backoff returns the capped exponential delay before retry number n (1 for
// the first retry), before jitter.
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// Retry is a ChatModel that retries another one on retryable failures. Before
// the first visible text a retry is silent; after it, the consumer receives
// Delta{Reset: true} and the reply is marked Regenerated.
type Retry struct {
	model  ChatModel
	policy Policy
}

var _ ChatModel = (*Retry)(nil)

// NewRetry wraps m with the retry policy p (zero fields take defaults).
func NewRetry(m ChatModel, p Policy) *Retry {
	return &Retry{model: m, policy: p.withDefaults()}
}

// consumerError marks an error returned by the caller's StreamFunc, which is
// never retried and is returned unchanged.
type consumerError struct{ err error }

func (c *consumerError) Error() string { return c.err.Error() }

// Stream runs the call, retrying as the policy allows.
func (r *Retry) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	p := r.policy
	var (
		usage       Usage
		regenerated bool
		emptyTried  bool
	)
	for attempt := 1; ; attempt++ {
		visible := false
		resp, err := r.model.Stream(ctx, req, func(d Delta) error {
			if d.Reset {
				visible = false
			}
			if d.Text != "" {
				visible = true
			}
			if err := fn(d); err != nil {
				return &consumerError{err}
			}
			return nil
		})
		usage = usage.Add(resp.Usage)
		if err == nil {
			resp.Usage = usage
			resp.Regenerated = resp.Regenerated || regenerated
			return resp, nil
		}
		if ce, ok := errors.AsType[*consumerError](err); ok {
			return resp, ce.err
		}
		kind := KindOf(err)
		if ctx.Err() != nil || !kind.Retryable() || attempt >= p.MaxAttempts || (kind == KindEmpty && emptyTried) {
			resp.Usage = usage
			return resp, err
		}
		emptyTried = emptyTried || kind == KindEmpty
		delay := p.Jitter(p.Backoff(attempt))
		var pe *Error
		if errors.As(err, &pe) && pe.RetryAfter > 0 {
			if pe.RetryAfter > p.MaxRetryAfter {
				resp.Usage = usage
				return resp, err
			}
			delay = pe.RetryAfter
		}
		if err := p.Clock.Sleep(ctx, delay); err != nil {
			resp.Usage = usage
			return resp, err
		}
		if visible {
			if err := fn(Delta{Reset: true}); err != nil {
				return Response{Usage: usage}, err
			}
			regenerated = true
		}
	}
}
