package eventually

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestTrueReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		for i := 0; i < 3; i++ {
			time.Sleep(time.Millisecond)
			n.Add(1)
		}
	}()
	True(t, "three ticks", func() bool { return n.Load() == 3 })
}

// fatalRecorder records a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = format
}

func TestWithinFailsWhenTheConditionNeverHolds(t *testing.T) {
	r := &fatalRecorder{TB: t}
	Within(r, 5*time.Millisecond, "never", func() bool { return r.failed != "" })
	if r.failed == "" {
		t.Fatal("Within did not fail")
	}
}
