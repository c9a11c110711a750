package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestManualSleepWakesOnlyWhenAdvancedPastDeadline(t *testing.T) {
	c := NewManual(time.Time{})
	if !c.Now().Equal(Epoch()) {
		t.Fatalf("start = %v, want %v", c.Now(), Epoch())
	}
	done := make(chan error, 1)
	go func() { done <- c.Sleep(context.Background(), 10*time.Second) }()
	for c.Sleepers() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Advance(9 * time.Second)
	select {
	case <-done:
		t.Fatal("woke before its deadline")
	default:
	}
	if c.Sleepers() != 1 {
		t.Fatalf("sleepers = %d, want 1", c.Sleepers())
	}
	c.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v", err)
	}
	if got := c.Now().Sub(Epoch()); got != 10*time.Second {
		t.Fatalf("elapsed %v", got)
	}
}

func TestManualSleepEndsWithContext(t *testing.T) {
	c := NewManual(time.Time{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, time.Hour) }()
	for c.Sleepers() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v, want Canceled", err)
	}
	if c.Sleepers() != 0 {
		t.Fatal("a cancelled sleeper was kept")
	}
}

func TestSetNeverGoesBack(t *testing.T) {
	c := NewManual(time.Time{})
	c.Set(Epoch().Add(-time.Hour))
	if !c.Now().Equal(Epoch()) {
		t.Fatal("Set moved the clock backwards")
	}
}

func TestSleepZeroReturnsContextError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(cancelled, 0) = %v", err)
	}
	if err := Or(nil).Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Real.Sleep(0) = %v", err)
	}
}
