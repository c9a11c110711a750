//go:build slow

package main

import (
	"bytes"
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// TestSmoke runs one whole session through the real engine against
// unlimited fakes and a fast model, and checks that every figure of the
// report was measured. It asserts no timing.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes and a whole session")
	}
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) { smoke(t, store == "redis") })
	}
}

// smoke runs one session, on the embedded store or on a redis-server the
// run starts (under CI, where .ci/run installs it, its absence fails).
func smoke(t *testing.T, redis bool) {
	stderr := &syncBuffer{}
	o := runOptions{sessions: 1, limits: limitsNone, nice: 5, redis: redis, people: 50 * time.Millisecond, timeout: 50 * time.Second,
		pace: pace{TTFT: 0, TPS: 5000, Chunk: 4, MinTok: 120, MaxTok: 250}}
	r, err := load(context.Background(), o, stderr)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, stderr.String())
	}
	if want := map[bool]string{false: "bolt", true: "redis"}[redis]; r.Store != want {
		t.Errorf("store %q, want %q", r.Store, want)
	}
	if r.Failed != 0 || r.RateLimited != 0 || r.Violations != 0 {
		t.Errorf("failed %d, 429s %d, violations %d; want none", r.Failed, r.RateLimited, r.Violations)
	}
	if r.ModelCalls == 0 || r.Chunks == 0 || r.Writes == 0 || r.ChunksNotShown >= r.Chunks {
		t.Errorf("calls %d, chunks %d (%d not shown), writes %d", r.ModelCalls, r.Chunks, r.ChunksNotShown, r.Writes)
	}
	if r.ModelProtocols["HTTP/2.0"] != r.ModelCalls {
		t.Errorf("model calls by protocol %v; want all %d over HTTP/2 (TLS, as the hosted providers)", r.ModelProtocols, r.ModelCalls)
	}
	for name, v := range map[string]float64{
		"latency p50": r.LatencyP50Ms, "latency p99": r.LatencyP99Ms, "first text p99": r.FirstTextP99Ms,
		"staleness p99": r.StalenessP99Ms, "edits/s": r.EditsPerMsgSec, "peak RSS": r.PeakRSSMB,
		"wall": r.WallP50S, "critical path": r.CriticalP50S, "ratio": r.RatioP50, "last visible": r.LastVisibleP50S,
	} {
		if math.IsNaN(v) || v <= 0 && name != "staleness p99" {
			t.Errorf("%s = %v, want a measured number", name, v)
		}
	}
	var out bytes.Buffer
	r.writeText(&out)
	if !bytes.Contains(out.Bytes(), []byte("token → visible edit")) {
		t.Errorf("text report:\n%s", out.String())
	}
}

// syncBuffer is the stderr both children and the engine's logger share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
