package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/ops"
)

// Transient failures are retried with jittered backoff that doubles up to
// two minutes; a rejected token ends the loop at once, marked rejected.
func TestKeepRunningBacksOffAndStopsOnRejection(t *testing.T) {
	t.Parallel()
	const transient = 12
	runs := 0
	var waits []time.Duration
	p := &platform{name: "fake",
		run: func(ctx context.Context) error {
			runs++
			if runs <= transient {
				return fmt.Errorf("gateway: %w", errors.New("connection reset by peer"))
			}
			return fmt.Errorf("login: %w", bot.ErrRejected)
		},
	}
	p.wait = func(_ context.Context, d time.Duration) error {
		if st := p.snapshot(); st.State != ops.StateFailed || st.Error == "" {
			t.Errorf("while waiting the state is %+v", st)
		}
		waits = append(waits, d)
		return nil
	}
	err := keepRunning(context.Background(), p, slog.New(slog.DiscardHandler))
	if !errors.Is(err, bot.ErrRejected) || runs != transient+1 {
		t.Fatalf("keepRunning = %v after %d runs", err, runs)
	}
	if st := p.snapshot(); st.State != ops.StateRejected {
		t.Fatalf("state %+v, want rejected", st)
	}
	if len(waits) != transient {
		t.Fatalf("%d waits for %d transient failures", len(waits), transient)
	}
	backoff := time.Second
	for i, w := range waits {
		if w < backoff/2 || w > backoff {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, w, backoff/2, backoff)
		}
		backoff = min(2*backoff, 2*time.Minute)
	}
}
