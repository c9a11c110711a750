package main

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode"
)

// alnum counts the letters and digits of s: what survives any Markdown
// escaping or layout the adapter adds, so a displayed text and the model's
// text are compared by it.
func alnum(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

var markerRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}])(c\d+k)(?:[^\p{L}\p{N}]|$)`)

// markerCount finds a call marker in displayed content and counts the
// letters and digits after it.
func markerCount(content string) (string, int) {
	loc := markerRe.FindStringSubmatchIndex(content)
	if loc == nil {
		return "", 0
	}
	return content[loc[2]:loc[3]], alnum(content[loc[3]:])
}

// percentile is the nearest-rank p-th percentile of xs (sorted in place).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	i := int(math.Ceil(p/100*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// visibility is when each chunk of a call was first visible (-1 when
// never) and the message whose write showed it.
type visibility struct {
	call *Call
	at   []int64
	msg  []string
}

// correlate finds, for each chunk of each marked call, the first accepted
// write whose content held the text up to and including that chunk.
func correlate(calls []Call, writes []Write) []visibility {
	byMarker := map[string][]Write{}
	for _, w := range writes {
		if w.Marker != "" && w.Status/100 == 2 {
			byMarker[w.Marker] = append(byMarker[w.Marker], w)
			for _, s := range w.More {
				x := w
				x.Marker, x.N, x.More = s.Marker, s.N, nil
				byMarker[s.Marker] = append(byMarker[s.Marker], x)
			}
		}
	}
	var out []visibility
	for i := range calls {
		c := &calls[i]
		if c.Marker == "" {
			continue
		}
		ws := byMarker[c.Marker]
		slices.SortFunc(ws, func(a, b Write) int { return cmpInt(a.T, b.T) })
		v := visibility{call: c, at: make([]int64, len(c.Chunks)), msg: make([]string, len(c.Chunks))}
		j := 0
		for k, ch := range c.Chunks {
			for j < len(ws) && ws[j].N < ch.N {
				j++
			}
			v.at[k] = -1
			if j < len(ws) {
				v.at[k], v.msg[k] = ws[j].T, ws[j].Message
			}
		}
		out = append(out, v)
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// latencies returns, in milliseconds, every chunk's model-to-visible
// latency, the first chunks' alone, and how many chunks never showed.
func latencies(vs []visibility) (all, first []float64, missing int) {
	for _, v := range vs {
		for k, at := range v.at {
			if at < 0 {
				missing++
				continue
			}
			ms := float64(at-v.call.Chunks[k].T) / 1e6
			all = append(all, ms)
			if k == 0 {
				first = append(first, ms)
			}
		}
	}
	return all, first, missing
}

// addedLatencies returns, in milliseconds, the latency the bot added to
// every shown chunk beyond what the platform's per-message interval
// imposes (DESIGN §7: "within the granted edit interval"), and the first
// chunks' alone. A chunk shown by an edit could not have been shown before
// the message's previous accepted write plus the interval, so the added
// latency is the visible time minus the later of the chunk's flush and
// that earliest moment (0 when the write came sooner). The create counts
// as a write, as the adapter paces it (bot.StreamWriter: one write per
// interval per message); the fake would take an edit sooner after a
// create. A chunk shown by the create itself has no floor but its flush.
// With interval 0 (-limits none) it is the time past the later of the
// flush and the message's previous write.
func addedLatencies(vs []visibility, writes []Write, interval time.Duration) (all, first []float64) {
	byMsg := map[string][]int64{} // message → accepted write times, sorted
	for _, w := range writes {
		if w.Status/100 == 2 && w.Message != "" {
			byMsg[w.Message] = append(byMsg[w.Message], w.T)
		}
	}
	for _, ts := range byMsg {
		slices.Sort(ts)
	}
	for _, v := range vs {
		for k, at := range v.at {
			if at < 0 {
				continue
			}
			floor := v.call.Chunks[k].T
			ts := byMsg[v.msg[k]]
			if i, _ := slices.BinarySearch(ts, at); i > 0 { // ts[i-1] is the write before the one at `at`
				floor = max(floor, ts[i-1]+int64(interval))
			}
			ms := float64(max(at-floor, 0)) / 1e6
			all = append(all, ms)
			if k == 0 {
				first = append(first, ms)
			}
		}
	}
	return all, first
}

// staleness samples, every step while a call streams or its text is
// still on its way, the age of the oldest sent chunk not yet visible (0
// when the display has caught up). Chunks that never showed are left out.
func staleness(vs []visibility, step time.Duration) []float64 {
	var out []float64
	for _, v := range vs {
		var last int64 = -1
		for _, at := range v.at {
			last = max(last, at)
		}
		if last < 0 || len(v.call.Chunks) == 0 {
			continue
		}
		for t := v.call.Chunks[0].T; t <= last; t += int64(step) {
			age := 0.0
			for k, ch := range v.call.Chunks {
				if ch.T > t {
					break
				}
				if v.at[k] >= 0 && v.at[k] > t {
					age = float64(t-ch.T) / 1e6
					break
				}
			}
			out = append(out, age)
		}
	}
	return out
}

// editRates returns the accepted edits per second of a message over its
// life (edits over lifetimes, summed across messages written at least
// twice) and the most writes any one message got within one second.
func editRates(writes []Write) (rate float64, maxPerSecond int) {
	byMsg := map[string][]int64{}
	edits, span := 0, int64(0)
	for _, w := range writes {
		if w.Status/100 == 2 && w.Message != "" {
			byMsg[w.Message] = append(byMsg[w.Message], w.T)
		}
	}
	for _, ts := range byMsg {
		slices.Sort(ts)
		lo := 0
		for hi := range ts {
			for ts[hi]-ts[lo] >= int64(time.Second) {
				lo++
			}
			maxPerSecond = max(maxPerSecond, hi-lo+1)
		}
		if len(ts) > 1 {
			edits += len(ts) - 1
			span += ts[len(ts)-1] - ts[0]
		}
	}
	if span == 0 {
		return math.NaN(), maxPerSecond
	}
	return float64(edits) / (float64(span) / 1e9), maxPerSecond
}

// concurrentStages run all six seats at once: one step each.
var concurrentStages = map[string]bool{"introductions": true, "image_stories": true, "keywords": true,
	"voting": true, "design_cards": true}

// criticalPath is the model's share of a session's time: the sum, over
// sequential steps, of the slowest call of each step.
func criticalPath(calls []Call) time.Duration {
	slowest := map[string]int64{}
	for i, c := range calls {
		key := c.Stage
		if !concurrentStages[c.Stage] {
			key = c.Stage + "#" + strconv.Itoa(i)
		}
		slowest[key] = max(slowest[key], c.End-c.Start)
	}
	var sum int64
	for _, d := range slowest {
		sum += d
	}
	return time.Duration(sum)
}
