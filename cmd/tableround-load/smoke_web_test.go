//go:build slow

package main

import (
	"context"
	"testing"
	"time"
)

// TestSmokeWeb runs the web mode small: a web-server process, two tables,
// fifty viewers each (enough for the server's stacks to show them; its
// heap per viewer is noise at this size). It checks that every figure was measured and that
// every chunk reached every viewer of its table; it asserts no timing.
func TestSmokeWeb(t *testing.T) {
	stderr := &syncBuffer{}
	o := webOptions{sessions: 2, viewers: 50, span: 2 * time.Second, pace: webPace{Speakers: 2, TPS: 200, Chunk: 4, Tokens: 40}}
	r, err := webLoad(context.Background(), o, stderr)
	if err != nil {
		t.Fatalf("web load: %v\n%s", err, stderr.String())
	}
	if r.Viewers != 100 || r.Deltas == 0 || r.Deliveries != r.Deltas*50 || r.Missing != 0 {
		t.Errorf("viewers %d, deltas %d, deliveries %d, missing %d; want 100 viewers each getting its table's chunks",
			r.Viewers, r.Deltas, r.Deliveries, r.Missing)
	}
	if r.P99Ms <= 0 || r.IdleStackPerViewer <= 0 || r.GoroutinesPerViewer < 0.9 || r.ServerCPU <= 0 {
		t.Errorf("unmeasured figures: %+v", r)
	}
}
