package discord

import (
	"context"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
)

// TestChannelWindowHoldsABurstOnTopOfTheRate: a channel's budget with a
// burst and a rate that together exceed its window (as DefaultLimits'
// do: 5 + 28 per 61 s against a window of 28) admits no more than the
// window's limit in any window, and the next write goes once the oldest
// has left it. The clock is manual: the test moves it.
func TestChannelWindowHoldsABurstOnTopOfTheRate(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Time{})
	lim := DefaultLimits()
	p := &pacer{lim: lim, clock: clk}
	b := p.budget("c1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sent []time.Time
	take := func() {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := b.wait(ctx, bot.PriorityFirst)
			done <- err
		}()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				sent = append(sent, clk.Now())
				return
			case <-time.After(time.Millisecond):
				if clk.Sleepers() > 0 {
					clk.Advance(time.Second)
				}
			}
		}
	}
	const n = 3 * channelLimit
	for range n {
		take()
	}
	win := lim.ChannelWindow
	for i := range sent {
		in := 0
		for j := i; j < len(sent) && sent[j].Sub(sent[i]) < win.Per; j++ {
			in++
		}
		if in > win.Limit {
			t.Fatalf("%d writes in the %s from write %d, want at most %d", in, win.Per, i, win.Limit)
		}
	}
	// The budget is spent at the window's pace, not slower: n writes
	// take less than three windows (the old 0.4/s budget took 3.5).
	if d := sent[n-1].Sub(sent[0]); d >= 3*win.Per {
		t.Errorf("%d writes took %s, want under %s (the window's pace)", n, d, 3*win.Per)
	}
	if !sent[4].Equal(sent[0]) {
		t.Errorf("the burst of 5 did not go at once: %v", sent[:5])
	}
}
