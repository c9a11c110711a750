//go:build slow

package main

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"
)

// TestSmokeTelegram runs one whole session through the real engine and the
// Telegram adapter against an unlimited fake Telegram and a fast model, in
// a private chat (drafts) and in a group (merged concurrent stages), and
// checks that every figure of the report was measured. It asserts no
// timing. ~10 s each: `go test -tags slow`.
func TestSmokeTelegram(t *testing.T) {
	for _, chats := range []string{chatsPrivate, chatsGroup} {
		t.Run(chats, func(t *testing.T) {
			stderr := &syncBuffer{}
			o := runOptions{sessions: 1, platform: platformTelegram, chats: chats, limits: limitsNone, nice: 5,
				people: 50 * time.Millisecond, timeout: 90 * time.Second,
				pace: pace{TTFT: 0, TPS: 5000, Chunk: 4, MinTok: 120, MaxTok: 250}}
			if err := o.checkPlatform(); err != nil {
				t.Fatal(err)
			}
			r, err := load(context.Background(), o, stderr)
			if err != nil {
				t.Fatalf("load: %v\n%s", err, stderr.String())
			}
			if r.Platform != platformTelegram || r.Chats != chats {
				t.Errorf("report of %s %s chats, want telegram %s", r.Platform, r.Chats, chats)
			}
			if r.Failed != 0 || r.NotStarted != 0 || r.RateLimited != 0 || r.Violations != 0 {
				t.Errorf("failed %d, not started %d, 429s %d, violations %d; want none", r.Failed, r.NotStarted, r.RateLimited, r.Violations)
			}
			// Text never displayed (the summary, photo stories' keyword
			// lines) is ~3 %; a group's merged stages must be followed
			// across their messages, or far more would be "not shown".
			if r.ModelCalls == 0 || r.Chunks == 0 || r.ChunksNotShown*10 > r.Chunks {
				t.Errorf("calls %d, chunks %d (%d not shown)", r.ModelCalls, r.Chunks, r.ChunksNotShown)
			}
			if (r.Drafts > 0) != (chats == chatsPrivate) {
				t.Errorf("%d drafts in %s chats", r.Drafts, chats)
			}
			for name, v := range map[string]float64{
				"latency p99": r.LatencyP99Ms, "first text p99": r.FirstTextP99Ms, "chat lag p99": r.ChatLagP99Ms,
				"engine's chat lag p99": r.EngineLagP99Ms, "wall": r.WallP50S, "critical path": r.CriticalP50S,
				"ratio to the bound": r.RatioBudgetP50, "last visible": r.LastVisibleP50S,
			} {
				if math.IsNaN(v) || v <= 0 {
					t.Errorf("%s = %v, want a measured number", name, v)
				}
			}
			var out bytes.Buffer
			r.writeText(&out)
			if !bytes.Contains(out.Bytes(), []byte("chat lag (last token → final text shown)")) {
				t.Errorf("text report:\n%s", out.String())
			}
		})
	}
}
