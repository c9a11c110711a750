package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTGSectionsSkipsHeadersAndSplitsMarkers(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		lead int
		secs []Section
	}{
		{"moderator", "Stage 2 <b>begins</b>", 12, nil},
		{"one speech", "✂️ <b>Bayar</b> · <i>craftsman</i>\nc12k Hello &amp; w0rld", 0, []Section{{"c12k", 10}}},
		{"merged", "✂️ <b>Bayar</b> · <i>craftsman</i>\nc1k ab\n\n🎒 <b>Aygul</b> · <i>consumer</i>\n…\n\n🏭 <b>Li</b> · <i>maker</i>\nc3k xyz",
			0, []Section{{"c1k", 2}, {"c3k", 3}}},
		{"continuation", "rest of it\n\n🏭 <b>Li</b> · <i>maker</i>\nc3k xyz", 8, []Section{{"c3k", 3}}},
		{"bold in text is text", "c5k <b>strong</b> word", 0, []Section{{"c5k", 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lead, secs, _ := tgSections(tc.text)
			if lead != tc.lead || !reflect.DeepEqual(secs, tc.secs) {
				t.Errorf("tgSections = %d %v, want %d %v", lead, secs, tc.lead, tc.secs)
			}
		})
	}
}

func TestCountCarriesASplitSpeechAcrossMessages(t *testing.T) {
	f := &fakeTelegram{}
	write := func(msg string, edit, draft bool, text string) Write {
		w := Write{Channel: "-5", Message: msg, Edit: edit, Draft: draft, Status: 200}
		f.count(&w, text)
		return w
	}
	long := strings.Repeat("a", splitRunes)
	board := write("-5/1", false, false, "Board: starting")
	if board.Marker != "" {
		t.Errorf("board got marker %q", board.Marker)
	}
	w := write("-5/2", false, false, "c1k aaaa\n\nc2k "+long)
	if w.Marker != "c1k" || w.N != 4 || !reflect.DeepEqual(w.More, []Section{{"c2k", splitRunes}}) {
		t.Errorf("first part: %+v", w)
	}
	// The merged text outgrows the message: the tail of c2k goes on in a
	// new message, then c3k starts there.
	w = write("-5/3", false, false, "cccc\n\nc3k d")
	if w.Marker != "c2k" || w.N != splitRunes+4 || !reflect.DeepEqual(w.More, []Section{{"c3k", 1}}) {
		t.Errorf("continuation: %+v", w)
	}
	w = write("-5/3", true, false, "ccccee\n\nc3k dd")
	if w.Marker != "c2k" || w.N != splitRunes+6 {
		t.Errorf("continuation edited: %+v", w)
	}
	// A draft shows its own text only and moves nothing.
	d := write("-5/d9", false, true, "c4k xyz")
	if last := f.splits.lastOf("-5"); d.Marker != "c4k" || d.N != 3 || last.marker != "c3k" {
		t.Errorf("draft: %+v, last %+v", d, last)
	}
	// After a message too short to have been cut, a new unmarked message
	// is a message of its own (a moderator's notice), and stays so.
	for _, edit := range []bool{false, true} {
		if w := write("-5/4", edit, false, "Keywords: red, paper"); w.Marker != "" {
			t.Errorf("notice (edit %v) got marker %q", edit, w.Marker)
		}
	}
	// An edit of the board is not a continuation (only a new message is).
	if w := write("-5/1", true, false, "Board: stage 2"); w.Marker != "" {
		t.Errorf("board edit got marker %q", w.Marker)
	}
}

func TestBudgetLeast(t *testing.T) {
	for _, tc := range []struct {
		b    budget
		k    int
		want time.Duration
	}{
		{budget{n: 20, span: time.Minute}, 20, 0},
		{budget{n: 20, span: time.Minute}, 21, time.Minute},
		{budget{n: 20, span: time.Minute}, 45, 2 * time.Minute},
		{budget{rate: 1, burst: 3}, 3, 0},
		{budget{rate: 1, burst: 3}, 13, 10 * time.Second},
		{budget{rate: 0.5, burst: 1}, 3, 4 * time.Second},
		{budget{}, 100, 0},
	} {
		if got := tc.b.least(tc.k); got != tc.want {
			t.Errorf("%+v.least(%d) = %v, want %v", tc.b, tc.k, got, tc.want)
		}
	}
}

func TestBudgetBoundsCountCreatesPerChat(t *testing.T) {
	o := runOptions{platform: platformTelegram, chats: chatsGroup, limits: limitsTelegram, sessions: 2}
	var ws []Write
	for range 41 { // 41 messages in group 0: three minutes' windows of 20
		ws = append(ws, Write{Channel: "-1", Status: 200})
	}
	ws = append(ws, Write{Channel: "-1", Status: 200, Edit: true}, Write{Channel: "-1", Status: 429},
		Write{Channel: "-2", Status: 200})
	got, token := budgetBounds(o, ws, map[string]int{"-1": 0, "-2": 1})
	// 41 creates: 2 minutes by the group's 20 per minute (the chat's 1/s
	// burst 3 needs only 38 s); edits and refused calls are not needed.
	if want := []time.Duration{2 * time.Minute, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("budgetBounds = %v, want %v", got, want)
	}
	// 42 creates of the token at 30 per second: one second for the run.
	if token != time.Second {
		t.Errorf("token bound = %v, want 1s", token)
	}
	// With persona bots each bot has its own budget in the chat.
	for i := range ws {
		if i%2 == 1 {
			ws[i].Bot = "201"
		}
	}
	if got, _ := budgetBounds(o, ws, map[string]int{"-1": 0, "-2": 1}); got[0] != time.Minute {
		t.Errorf("bound with two bots = %v, want 1m (21 and 20 creates)", got[0])
	}
	for i := range ws {
		ws[i].Bot = ""
	}
	o.chats = chatsPrivate
	if got, _ := budgetBounds(o, ws, map[string]int{"-1": 0, "-2": 1}); got[0] != 38*time.Second {
		t.Errorf("private bound = %v, want 38s (41 creates at 1/s after a burst of 3)", got[0])
	}
}

func TestChatLagIsLastTokenToFinalTextNotDraft(t *testing.T) {
	ms := int64(time.Millisecond)
	calls := []Call{{Marker: "c1k", Chunks: []Chunk{{T: 0, N: 2}, {T: 100 * ms, N: 5}}}}
	writes := []Write{
		{T: 150 * ms, Marker: "c1k", N: 5, Status: 200, Draft: true}, // a draft preview shows it all
		{T: 900 * ms, Marker: "c1k", N: 4, Status: 200},
		{T: 1500 * ms, Marker: "c1k", N: 5, Status: 429},
		{T: 2100 * ms, Marker: "c1k", N: 5, Status: 200}, // the final message
	}
	if got := chatLags(calls, writes); !reflect.DeepEqual(got, []float64{2000}) {
		t.Errorf("chatLags = %v, want [2000]", got)
	}
}

func TestChatLagTakesTheFinalTextAsShown(t *testing.T) {
	ms := int64(time.Millisecond)
	calls := []Call{
		{Marker: "c1k", Chunks: []Chunk{{T: 0, N: 50}, {T: 100 * ms, N: 100}}},
		{Marker: "c2k", Chunks: []Chunk{{T: 0, N: 100}}}, // never shown whole: left out
	}
	writes := []Write{
		{T: 500 * ms, Marker: "c1k", N: 50, Status: 200},
		{T: 1200 * ms, Marker: "c1k", N: 97, Status: 200}, // the engine tidied the end
		{T: 1300 * ms, Marker: "c2k", N: 40, Status: 200},
	}
	if got := chatLags(calls, writes); !reflect.DeepEqual(got, []float64{1100}) {
		t.Errorf("chatLags = %v, want [1100]", got)
	}
}
