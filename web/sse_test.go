package web

import (
	"bufio"
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

	"github.com/tableround/tableround/internal/eventually"
)

// Over HTTP/1 a stream leaves its handler (the connection is handed to
// the stream's own goroutine) and the response is still plain SSE: a 200
// with the handler's headers, delimited by the connection's close.
func TestStreamLeavesTheHandler(t *testing.T) {
	log := NewLog()
	log.Add(Event{T: "open", M: 1})
	var returned, ended atomic.Int32
	drop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		serveStream(w, r, log, nil, drop, StreamOptions{}, func() { ended.Add(1) })
		returned.Add(1)
	}))
	defer srv.Close()
	stop := sync.OnceFunc(func() { close(drop) })
	defer stop() // before srv.Close, which waits for handlers
	resp := get(t, srv.URL, 0)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" ||
		resp.Header.Get("Content-Security-Policy") != csp || !resp.Close {
		t.Fatalf("response %d, headers %v, close %v", resp.StatusCode, resp.Header, resp.Close)
	}
	if got := readSSE(t, resp.Body, func(sseEvent) bool { return true }); len(got) != 1 || got[0].ID != 1 {
		t.Fatalf("first event %+v", got)
	}
	eventually.True(t, "the handler returned while its stream goes on", func() bool { return returned.Load() == 1 })
	log.Add(Event{T: "end"})
	if got := readSSE(t, resp.Body, func(sseEvent) bool { return true }); len(got) != 1 || got[0].Ev.T != "end" {
		t.Fatalf("after the handler returned the stream got %+v", got)
	}
	if ended.Load() != 0 {
		t.Fatal("the stream ended early")
	}
	stop()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Errorf("the stream did not end cleanly: %v", err)
	}
	eventually.True(t, "ended was called once", func() bool { return ended.Load() == 1 })
}

// A stream that stays silent sends a heartbeat comment, and a viewer that
// left is found by it: nothing reads a handed-off connection.
func TestHeartbeatFindsViewersThatLeft(t *testing.T) {
	log := NewLog()
	var ended atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, nil, StreamOptions{Heartbeat: 5 * time.Millisecond}, func() { ended.Add(1) })
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(eventually.Timeout)) // bounds a hang only
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no heartbeat: %v", err)
		}
		if line == ":\n" {
			break
		}
	}
	conn.Close()
	eventually.True(t, "the stream of a closed connection ended", func() bool { return ended.Load() == 1 })
}

// Fan-out encodes each event once: every viewer is handed the same bytes
// of the log, never a copy or a new encoding, and writing them (writev
// consumes the slices it is given) leaves the log's frames whole.
func TestFanOutSharesOneEncoding(t *testing.T) {
	log := NewLog()
	log.Add(Event{T: "delta", M: 1, S: "once"})
	a, _ := log.Since(0)
	b, _ := log.Since(0)
	if &a[0][0] != &b[0][0] {
		t.Fatal("two viewers got two copies of one event")
	}
	want := string(a[0])
	server, client := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, client) }()
	w := &connWriter{conn: server, timeout: 5 * time.Second}
	if err := w.write(a); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if c, _ := log.Since(0); string(c[0]) != want || !strings.HasPrefix(want, "id: 1-") {
		t.Fatalf("the log's frame changed after a write: %q, was %q", c[0], want)
	}
}

// HTTP/2 cannot hand a connection off: the stream stays in its handler and
// resumes from Last-Event-ID as over HTTP/1.
func TestStreamOverHTTP2StaysInTheHandler(t *testing.T) {
	log := NewLog()
	for i := 1; i <= 3; i++ {
		log.Add(Event{T: "open", M: i})
	}
	var inHandler atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, nil, StreamOptions{}, func() {})
		inHandler.Add(1) // returns only when the stream is over
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s, headers %v", resp.Proto, resp.Header)
	}
	first := readSSE(t, resp.Body, func(e sseEvent) bool { return e.ID == 3 })
	if inHandler.Load() != 0 {
		t.Fatal("the handler returned while its stream was open")
	}
	log.Add(Event{T: "end"})
	rest := readSSE(t, resp.Body, func(e sseEvent) bool { return e.Ev.T == "end" })
	var ids []string
	for _, e := range append(first, rest...) {
		ids = append(ids, strconv.Itoa(e.ID))
	}
	if got := strings.Join(ids, ","); got != "2,3,4" {
		t.Errorf("resume after 1 over HTTP/2 got %s, want 2,3,4", got)
	}
}

// TestResumeIntoARebuiltLog: an event's ID carries a sum of the events up
// to it. A viewer resuming into a log with the same events (saved at a
// clean shutdown, mirrored by another replica) goes on where it was; into
// a log rebuilt differently (from the store after a crash), it is told to
// restart and gets the whole log, never events out of place.
func TestResumeIntoARebuiltLog(t *testing.T) {
	t.Parallel()
	fill := func(evs ...Event) *Log {
		l := NewLog()
		for _, e := range evs {
			l.Add(e)
		}
		return l
	}
	seen := []Event{{T: "open", M: 1}, {T: "delta", M: 1, S: "Red "}, {T: "delta", M: 1, O: 4, S: "paper"}}
	before := fill(seen...)
	frames, _ := before.Since(2)
	lastID := strings.TrimPrefix(strings.SplitN(string(frames[0]), "\n", 2)[0], "id: ")
	if !strings.HasPrefix(lastID, "3-") {
		t.Fatalf("event ID %q, want 3-SUM", lastID)
	}
	resume := func(l *Log) []sseEvent {
		srv := streamServer(t, l, StreamOptions{}, nil)
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Last-Event-ID", lastID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return readSSE(t, resp.Body, func(e sseEvent) bool { return e.Ev.T == "end" })
	}

	same := fill(append(seen, Event{T: "close", M: 1, S: "Red paper"}, Event{T: "end"})...)
	if got := resume(same); len(got) != 2 || got[0].ID != 4 || got[0].Ev.T != "close" {
		t.Errorf("resuming into the same events: %+v, want events 4 and 5", got)
	}

	rebuilt := fill(Event{T: "open", M: 1}, Event{T: "close", M: 1, S: "Red paper"}, Event{T: "end"})
	got := resume(rebuilt)
	if len(got) != 4 || got[0].Ev.T != "restart" || got[1].ID != 1 || got[3].Ev.T != "end" {
		t.Errorf("resuming into a rebuilt log: %+v, want a restart, then events 1 to 3", got)
	}

	short := fill(Event{T: "open", M: 1}, Event{T: "end"}) // fewer events than the viewer saw
	if got := resume(short); len(got) != 3 || got[0].Ev.T != "restart" {
		t.Errorf("resuming into a shorter log: %+v, want a restart, then events 1 and 2", got)
	}
}
