package main

import (
	"strings"
	"sync"
)

// markerTally counts, for each call marker, the letters and digits each
// message shows of it, under its own lock: a long text split over several
// messages shows its marker once and the next message goes on with it.
type markerTally struct {
	mu    sync.Mutex
	shown map[string]map[string]int // marker → message → letters and digits
}

// add records the sections a write to msg shows and returns each with the
// letters and digits shown of it so far: across every message carrying it,
// or for a draft (msg "chat/d…", a preview, not a part of the message)
// the draft's own.
func (t *markerTally) add(msg string, secs []Section, draft bool) []Section {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shown == nil {
		t.shown = map[string]map[string]int{}
	}
	for i, s := range secs {
		byMsg := t.shown[s.Marker]
		if byMsg == nil {
			byMsg = map[string]int{}
			t.shown[s.Marker] = byMsg
		}
		if i > 0 && secs[i-1].Marker == s.Marker {
			byMsg[msg] += s.N
		} else {
			byMsg[msg] = s.N
		}
	}
	var out []Section
	for _, s := range secs {
		n := 0
		if draft {
			n = s.N
		} else {
			for m, c := range t.shown[s.Marker] {
				if !strings.Contains(m, "/d") {
					n += c
				}
			}
		}
		out = append(out, Section{Marker: s.Marker, N: n})
	}
	return out
}
