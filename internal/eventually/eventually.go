// Package eventually is the one poll-until helper of TableRound's tests:
// it waits for a condition that other goroutines make true, failing the
// test with a message that says what never happened.
package eventually

import (
	"testing"
	"time"
)

// Timeout is how long True waits by default. It is long because it only
// bounds a hung test: a passing test returns as soon as its condition
// holds, so no result depends on it.
const Timeout = 20 * time.Second

// True polls cond until it returns true, failing t with what when it has
// not after Timeout.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is True with its own timeout.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for wait := time.Millisecond; !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never happened within %v: %s", d, what)
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
