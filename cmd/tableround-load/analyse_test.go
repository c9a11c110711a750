package main

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"median of odd", []float64{3, 1, 2}, 50, 2},
		{"p99 of 100 is the 99th", seq(100), 99, 99},
		{"p99 of 10 is the largest", seq(10), 99, 10},
		{"p100 is the max", []float64{5, 9, 1}, 100, 9},
		{"p0 is the min", []float64{5, 9, 1}, 0, 1},
		{"one value", []float64{7}, 50, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.xs, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing should be NaN")
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(n - i) // reversed: percentile sorts
	}
	return out
}

func TestMarkerCount(t *testing.T) {
	for _, tc := range []struct {
		name, content, marker string
		n                     int
	}{
		{"speech with header", "**Ada** c12k Hello, I'm Ada.", "c12k", 10},
		{"escaped markdown", `c7k a\_b \*c\*`, "c7k", 3},
		{"placeholder", "…", "", 0},
		{"marker inside a word is not one", "abc12k def", "", 0},
		{"photo notice", "📷 c3k A red cut", "c3k", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, n := markerCount(tc.content)
			if m != tc.marker || n != tc.n {
				t.Errorf("markerCount(%q) = %q, %d; want %q, %d", tc.content, m, n, tc.marker, tc.n)
			}
		})
	}
}

// TestCorrelateMatchesTheModelText streams a fake call's chunks and checks
// that the chunk counts the model records match what a display of the same
// text yields, so that each chunk is found in the first edit holding it.
func TestCorrelate(t *testing.T) {
	const ms = int64(time.Millisecond)
	text := "c5k " + pad("Hello there, I'm Ada.", "introductions", 20)
	pieces := chunkWords(text, 4)
	call := Call{ID: 5, Marker: "c5k"}
	sent := 0
	var writes []Write
	for i, p := range pieces {
		sent += alnum(p)
		call.Chunks = append(call.Chunks, Chunk{T: int64(i) * 100 * ms, N: sent - alnum("c5k")})
	}
	shown := func(upTo int) string { return "**Ada** " + strings.Join(pieces[:upTo+1], "") }
	// The display shows chunk 1 at 150 ms, chunks 2-3 at 420 ms, the rest
	// at 1000 ms, with a 429 and a foreign message in between.
	for _, w := range []struct {
		t, upTo, status int
	}{{150, 1, 200}, {300, 3, 429}, {420, 3, 200}, {1000, len(pieces) - 1, 200}} {
		m, n := markerCount(shown(w.upTo))
		writes = append(writes, Write{T: int64(w.t) * ms, Status: w.status, Marker: m, N: n, Message: "m1"})
	}
	writes = append(writes, Write{T: 50 * ms, Status: 200, Marker: "c6k", N: 999, Message: "m2"})

	vs := correlate([]Call{call}, writes)
	if len(vs) != 1 {
		t.Fatalf("correlate: %d visibilities, want 1", len(vs))
	}
	want := []int64{150, 150, 420, 420}
	for len(want) < len(pieces) {
		want = append(want, 1000)
	}
	for k, at := range vs[0].at {
		if at != want[k]*ms {
			t.Errorf("chunk %d visible at %d ms, want %d", k, at/ms, want[k])
		}
	}
	all, first, missing := latencies(vs)
	if missing != 0 || len(all) != len(pieces) || len(first) != 1 || first[0] != 150 {
		t.Errorf("latencies: %d values, first %v, %d missing", len(all), first, missing)
	}
	// At 100 ms chunk 0 (sent at 0) is the oldest not shown: 100 ms stale.
	stale := staleness(vs, 100*time.Millisecond)
	if len(stale) != 11 || stale[0] != 0 || stale[1] != 100 {
		t.Errorf("staleness samples = %v", stale)
	}
}

// TestAddedLatencies: with a 1 s interval, a chunk that waited for its
// message's next allowed write counts only the time past that write's
// earliest moment; a chunk shown by the message's first words counts in
// full.
func TestAddedLatencies(t *testing.T) {
	const ms = int64(time.Millisecond)
	call := Call{Marker: "c1k", Chunks: []Chunk{{T: 0, N: 3}, {T: 100 * ms, N: 6}, {T: 1500 * ms, N: 9}, {T: 2600 * ms, N: 12}, {T: 2700 * ms, N: 15}}}
	writes := []Write{
		{T: -1100 * ms, Status: 200, Message: "m"},                                  // placeholder create, no words
		{T: 40 * ms, Edit: true, Status: 200, Marker: "c1k", N: 3, Message: "m"},    // chunk 0: 40 ms (its first words)
		{T: 1060 * ms, Edit: true, Status: 200, Marker: "c1k", N: 6, Message: "m"},  // chunk 1: floor 1040, 20 ms
		{T: 1700 * ms, Edit: true, Status: 429, Marker: "c1k", N: 9, Message: "m"},  // refused: not a floor
		{T: 2060 * ms, Edit: true, Status: 200, Marker: "c1k", N: 9, Message: "m"},  // chunk 2: floor 2060, 0 ms
		{T: 3090 * ms, Edit: true, Status: 200, Marker: "c1k", N: 15, Message: "m"}, // chunks 3, 4: floor 3060, 30 ms
		{T: 2065 * ms, Edit: true, Status: 200, Marker: "c9k", N: 99, Message: "x"}, // another message
		{T: 10 * ms, Status: 200, Marker: "c2k", N: 5, Message: "y"},                // another call
	}
	vs := correlate([]Call{call}, writes)
	all, first := addedLatencies(vs, writes, time.Second)
	if want := []float64{40, 20, 0, 30, 30}; !slices.Equal(all, want) || !slices.Equal(first, []float64{40}) {
		t.Errorf("added = %v (first %v), want %v (first [40])", all, first, want)
	}
	// Without an interval (and no write in flight when a chunk came) it is
	// the model-to-visible latency.
	raw, _, _ := latencies(vs)
	if none, _ := addedLatencies(vs, writes, 0); !slices.Equal(none, raw) {
		t.Errorf("added with no interval = %v, want the raw latencies %v", none, raw)
	}
}

func TestCorrelateMissingTail(t *testing.T) {
	call := Call{Marker: "c1k", Chunks: []Chunk{{T: 0, N: 4}, {T: 10, N: 9}}}
	vs := correlate([]Call{call}, []Write{{T: 20, Status: 200, Marker: "c1k", N: 4}})
	_, _, missing := latencies(vs)
	if missing != 1 {
		t.Errorf("missing = %d, want 1 (a tail the display never showed)", missing)
	}
}

func TestCriticalPath(t *testing.T) {
	s := int64(time.Second)
	calls := []Call{
		{Stage: "introductions", Start: 0, End: 3 * s}, {Stage: "introductions", Start: 0, End: 5 * s},
		{Stage: "discussion", Start: 5 * s, End: 9 * s}, {Stage: "discussion", Start: 9 * s, End: 11 * s},
		{Stage: "voting", Start: 11 * s, End: 12 * s}, {Stage: "voting", Start: 11 * s, End: 13 * s},
	}
	if got, want := criticalPath(calls), 13*time.Second; got != want {
		t.Errorf("criticalPath = %v, want %v (slowest of each concurrent stage plus each sequential call)", got, want)
	}
}

func TestEditRates(t *testing.T) {
	s := int64(time.Second)
	w := func(msg string, t int64, status int) Write { return Write{Message: msg, T: t, Status: status} }
	rate, most := editRates([]Write{
		w("a", 0, 200), w("a", s, 200), w("a", 2*s, 200), w("a", 2*s+s/2, 429),
		w("b", 0, 200), w("b", s/2, 200), w("b", 4*s, 200),
	})
	if rate != 4.0/6 || most != 2 {
		t.Errorf("editRates = %v, %d; want %v, 2", rate, most, 4.0/6)
	}
}

func TestPadKeepsKeywordsLast(t *testing.T) {
	in := "A story.\nKeywords: [\"red paper\"]"
	out := pad(in, "image_stories", 30)
	if !strings.HasSuffix(out, "\nKeywords: [\"red paper\"]") || len(strings.Fields(out)) < 29 {
		t.Errorf("pad = %q", out)
	}
	if got := strings.Join(chunkWords(out, 4), ""); got != out {
		t.Errorf("chunkWords loses text: %q", got)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"200MiB": 200 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "1000": 1000, "7B": 7} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "2GB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): want an error", in)
		}
	}
}

func TestStatCPUSeconds(t *testing.T) {
	stat := "4242 (tableround load) S 1 4242 4242 0 -1 4194560 2207 0 0 0 1234 566 0 0 20 0 13 0 1000 2000000 5000 18446744073709551615"
	if got := statCPUSeconds(stat); got != 18 {
		t.Errorf("statCPUSeconds = %v, want 18 (1234 + 566 ticks)", got)
	}
	if got := statCPUSeconds("garbage"); got != 0 {
		t.Errorf("statCPUSeconds(garbage) = %v, want 0", got)
	}
}
