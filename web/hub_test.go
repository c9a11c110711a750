package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	ID  int
	Ev  Event
	Raw string
}

// readSSE reads events from an SSE body until stop says so or the body ends.
func readSSE(t *testing.T, body io.Reader, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur sseEvent
	var raw strings.Builder
	for sc.Scan() {
		line := sc.Text()
		raw.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			num, _, _ := strings.Cut(line[4:], "-") // "N-SUM"
			cur.ID, _ = strconv.Atoi(num)
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &cur.Ev); err != nil {
				t.Errorf("bad data line (%d bytes): %v", len(line), err)
				return out
			}
		case line == "":
			if cur.ID != 0 || cur.Ev.T != "" { // an event (restart has no ID), not the retry
				cur.Raw = raw.String()
				out = append(out, cur)
				if stop(cur) {
					return out
				}
			}
			cur, raw = sseEvent{}, strings.Builder{}
		}
	}
	return out
}

func streamServer(t *testing.T, log *Log, o StreamOptions, served *atomic.Int32) *httptest.Server {
	t.Helper()
	drop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, drop, o, func() {
			if served != nil {
				served.Add(1)
			}
		})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(drop) }) // the streams end before the server closes
	return srv
}

func get(t *testing.T, url string, lastID int) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(lastID))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestResumeFromOffsetAndLateJoin(t *testing.T) {
	log := NewLog()
	for i := 1; i <= 5; i++ {
		log.Add(Event{T: "open", M: i})
	}
	srv := streamServer(t, log, StreamOptions{}, nil)

	late := get(t, srv.URL, 0)
	resumed := get(t, srv.URL, 3)
	log.Add(Event{T: "end"}) // the live tail
	untilEnd := func(e sseEvent) bool { return e.Ev.T == "end" }
	var ids []string
	for _, e := range readSSE(t, late.Body, untilEnd) {
		ids = append(ids, strconv.Itoa(e.ID))
	}
	if got := strings.Join(ids, ","); got != "1,2,3,4,5,6" {
		t.Errorf("late joiner got %s, want everything then the tail", got)
	}
	ids = nil
	for _, e := range readSSE(t, resumed.Body, untilEnd) {
		ids = append(ids, strconv.Itoa(e.ID))
	}
	if got := strings.Join(ids, ","); got != "4,5,6" {
		t.Errorf("resume after 3 got %s, want 4,5,6 (nothing lost, nothing doubled)", got)
	}
}

func TestViewersGetIdenticalBytes(t *testing.T) {
	log := NewLog()
	conv := NewConv(log)
	srv := streamServer(t, log, StreamOptions{}, nil)
	const viewers = 40
	got := make([]string, viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		resp := get(t, srv.URL, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b strings.Builder
			for _, e := range readSSE(t, resp.Body, func(e sseEvent) bool { return e.Ev.T == "end" }) {
				b.WriteString(e.Raw)
			}
			got[i] = b.String()
		}()
	}
	s, _ := conv.Open(context.Background(), bot.Post{From: bot.Persona{ID: "craftsman", Name: "Bayar"}})
	for _, w := range []string{"Forty", "Forty years", "Forty years of 剪纸"} {
		s.Update(w)
	}
	_ = s.Close(context.Background(), "Forty years of 剪纸.")
	log.Add(Event{T: "end"})
	wg.Wait()
	for i := 1; i < viewers; i++ {
		if got[i] != got[0] {
			t.Fatalf("viewer %d got different bytes:\n%s\nvs\n%s", i, got[i], got[0])
		}
	}
	if !strings.Contains(got[0], `"t":"delta"`) || strings.Count(got[0], "id: ") != 7 {
		t.Errorf("unexpected stream:\n%s", got[0])
	}
}

// A viewer that stops reading is dropped after the write timeout, while the
// log and the other viewers go on.
func TestSlowViewerDoesNotBlockOthers(t *testing.T) {
	log := NewLog()
	var served atomic.Int32
	srv := streamServer(t, log, StreamOptions{WriteTimeout: time.Second}, &served)

	// The slow viewer: a raw connection that sends a request and never reads.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")

	fast := get(t, srv.URL, 0)
	done := make(chan int)
	go func() { // count events without decoding them: a slow reader here would be dropped too
		n := 0
		sc := bufio.NewScanner(fast.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "id: ") {
				n++
			}
			if sc.Text() == `data: {"t":"end"}` {
				break
			}
		}
		done <- n
	}()
	big := strings.Repeat("字", 90000) // 270 KB per event: socket buffers fill fast
	const n = 64
	for i := range n {
		log.Add(Event{T: "delta", M: 1, O: i, S: big}) // never waits for a viewer
	}
	log.Add(Event{T: "end"})
	if got := <-done; got != n+1 {
		t.Errorf("the fast viewer got %d events, want %d", got, n+1)
	}
	eventually.True(t, "the stalled viewer was dropped", func() bool { return served.Load() >= 1 })
}

func TestStreamDeltasRebuildTheText(t *testing.T) {
	log := NewLog()
	conv := NewConv(log)
	s, _ := conv.Open(context.Background(), bot.Post{Kind: bot.KindSpeech})
	s.Update("Hello")
	s.Update("Hello 世界 🎉")
	s.Update("Hello 世界 🎉!")
	s.Update("Regenerated")
	_ = s.Close(context.Background(), "Regenerated text")
	frames, _ := log.Since(0)
	text, units := "", 0
	for _, f := range frames {
		var e Event
		line := strings.SplitN(string(f), "\n", 3)[1]
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e); err != nil {
			t.Fatal(err)
		}
		switch e.T {
		case "delta":
			if e.O != units {
				t.Fatalf("delta at %d, text has %d UTF-16 units", e.O, units)
			}
			text += e.S
		case "reset":
			text = e.S
		}
		units = utf16Len(text)
	}
	if text != "Regenerated text" {
		t.Errorf("rebuilt %q", text)
	}
	if utf16Len("🎉") != 2 {
		t.Error("utf16Len counts an emoji as one unit")
	}
}

func TestAskAndSubmitAnswer(t *testing.T) {
	log := NewLog()
	conv := NewConv(log)
	res := make(chan bot.Answer)
	go func() {
		a, _ := conv.AskKeywords(context.Background(), bot.Question{Text: "Your turn", Keywords: []string{"a", "b"}, Timeout: time.Hour})
		res <- a
	}()
	var ref string
	eventually.True(t, "a question opened", func() bool { ref = conv.OpenQuestion(); return ref != "" })
	if conv.SubmitAnswer("q999", bot.Answer{}) {
		t.Error("an unknown question took an answer")
	}
	if !conv.SubmitAnswer(ref, bot.Answer{Action: bot.ActionEdit, Keywords: []string{"c"}, By: "web"}) {
		t.Fatal("the open question refused the answer")
	}
	if a := <-res; a.Action != bot.ActionEdit || a.Keywords[0] != "c" {
		t.Errorf("answer %+v", a)
	}
	if conv.SubmitAnswer(ref, bot.Answer{Action: bot.ActionKeep}) {
		t.Error("a question was answered twice")
	}
}

// CloseStreams ends every open stream (shutdown needs it) and later
// streams work as before.
func TestCloseStreams(t *testing.T) {
	hub := NewHub()
	log := NewLog()
	log.Add(Event{T: "open", M: 1})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, hub.dropped(), StreamOptions{}, func() {})
	}))
	t.Cleanup(srv.Close) // after the bodies close (cleanups run last first)
	first := get(t, srv.URL, 0)
	readSSE(t, first.Body, func(sseEvent) bool { return true }) // connected and served
	hub.CloseStreams()
	if _, err := io.Copy(io.Discard, first.Body); err != nil {
		t.Errorf("the stream did not end cleanly: %v", err)
	}
	second := get(t, srv.URL, 1)
	log.Add(Event{T: "end"})
	if got := readSSE(t, second.Body, func(e sseEvent) bool { return e.Ev.T == "end" }); len(got) != 1 || got[0].ID != 2 {
		t.Errorf("after CloseStreams a new stream got %+v", got)
	}
}
