package web

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StreamOptions tune a viewer's stream.
type StreamOptions struct {
	// WriteTimeout drops a viewer whose connection takes longer than this
	// (over HTTP/1, between half of it and all of it) to take one event;
	// its browser reconnects with Last-Event-ID and misses nothing
	// (default 15s).
	WriteTimeout time.Duration
	// RetryMillis is the reconnect delay the browser is told (default 1000).
	RetryMillis int
	// Heartbeat is how often a stream that wrote nothing since the last
	// tick sends an SSE comment line (default 25s), so it is silent for
	// at most twice this. It keeps proxies from cutting an
	// idle stream and finds viewers that left: a stream handed off from
	// its HTTP/1 connection reads nothing, so a closed connection shows
	// only when a write fails.
	Heartbeat time.Duration
	// keepHandler keeps every stream in its HTTP handler, as over HTTP/2
	// (which cannot hand off): the benchmarks compare the two.
	keepHandler bool
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 15 * time.Second
	}
	if o.RetryMillis <= 0 {
		o.RetryMillis = 1000
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 25 * time.Second
	}
	return o
}

// resumeFrom reads where a viewer left off in log: the Last-Event-ID
// header (set by EventSource on reconnect), else the "from" query
// parameter; "N-SUM" as the log's IDs are, or a bare N. When the SUM is
// not this log's (the table was rebuilt differently after a crash),
// restart is true and the viewer gets the whole log again, after a
// restart event that tells the page to clear what it shows.
func resumeFrom(r *http.Request, log *Log) (pos int, restart bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("from")
	}
	num, hex, hasSum := strings.Cut(v, "-")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	if !hasSum {
		return n, false
	}
	sum, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || !log.matches(n, uint32(sum)) {
		return 0, n > 0
	}
	return n, false
}

// restartFrame tells a page that its events are not this log's: it
// starts over with the events that follow.
const restartFrame = "data: {\"t\":\"restart\"}\n\n"

// viewerStream is one viewer's place in a log: everything a stream keeps while
// it waits for the next event. It holds no copy of the events: it writes
// the log's shared frames.
type viewerStream struct {
	log           *Log
	pos           int
	revoked, drop <-chan struct{}
	o             StreamOptions
}

// heartbeat is an SSE comment: EventSource ignores it.
const heartbeat = ":\n\n"

// serveStream sends log events after the resume point, then the live tail,
// until the viewer leaves, revoked or drop is closed, or a write stalls;
// ended is called once when the stream is over.
//
// Over HTTP/1 the stream takes the connection over (Hijack) and the
// handler returns at once: the server's goroutine, its 4 KB read and write
// buffers and the request end there, and a goroutine of the stream's own,
// with a small stack and no buffer, writes each batch of frames with one
// writev. That is what makes an idle viewer cost a few kilobytes (README
// "Performance"). The response stays standard SSE: a 200 with the same
// headers, its body delimited by the connection's close. Over HTTP/2 (no
// Hijack) the stream stays in the handler and flushes through the
// response.
func serveStream(w http.ResponseWriter, r *http.Request, log *Log, revoked, drop <-chan struct{}, o StreamOptions, ended func()) {
	pos, restart := resumeFrom(r, log)
	s := &viewerStream{log: log, pos: pos, revoked: revoked, drop: drop, o: o.withDefaults()}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	retry := []byte("retry: " + strconv.Itoa(s.o.RetryMillis) + "\n\n")
	if restart {
		retry = append(retry, restartFrame...)
	}
	if r.ProtoMajor == 1 && !s.o.keepHandler {
		if conn, head, ok := takeOver(w); ok {
			go func() {
				defer ended()
				defer conn.Close()
				s.run(&connWriter{conn: conn, timeout: s.o.WriteTimeout}, append(head, retry...), nil)
			}()
			return
		}
	}
	defer ended()
	rc := http.NewResponseController(w)
	// A server ReadTimeout (there for uploads) would otherwise end the
	// stream: net/http cancels a request whose connection read times out.
	_ = rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	s.run(&responseWriter{w: w, rc: rc, timeout: s.o.WriteTimeout}, retry, r.Context().Done())
}

// takeOver hijacks an HTTP/1 connection for a stream and returns it with
// the response head to send first (status line, the headers set so far,
// Connection: close). ok is false when the connection cannot be taken
// (a wrapped writer without Hijack); nothing is written then.
func takeOver(w http.ResponseWriter) (conn net.Conn, head []byte, ok bool) {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	w.Header().Set("Connection", "close")
	if err := w.Header().Write(&b); err != nil {
		return nil, nil, false
	}
	b.WriteString("\r\n")
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.Header().Del("Connection")
		return nil, nil, false
	}
	_ = rw // its buffers go with the server's goroutine: a GET has no body to read
	return conn, b.Bytes(), true
}

// frameWriter writes a batch of frames to a viewer and flushes it.
type frameWriter interface {
	write(frames [][]byte) error
}

// run writes first, then the frames after s.pos as they arrive, and a
// heartbeat when a whole Heartbeat passed without a write, until the
// stream ends. gone is the request's end when the stream stays in its
// handler. An event costs a viewer no timer operation: the heartbeat
// ticks on its own, and writers renew their deadline only now and then.
func (s *viewerStream) run(w frameWriter, first []byte, gone <-chan struct{}) {
	if err := w.write([][]byte{first}); err != nil {
		return
	}
	beat := time.NewTicker(s.o.Heartbeat)
	defer beat.Stop()
	wrote := true
	for {
		frames, wake := s.log.Since(s.pos)
		if len(frames) > 0 {
			if err := w.write(frames); err != nil {
				return // dropped: the browser resumes from its last ID
			}
			s.pos += len(frames)
			wrote = true
		}
		select {
		case <-wake:
		case <-beat.C:
			if !wrote {
				if err := w.write([][]byte{[]byte(heartbeat)}); err != nil {
					return
				}
			}
			wrote = false
		case <-s.revoked:
			return
		case <-s.drop:
			return
		case <-gone:
			return
		}
	}
}

// connWriter writes to a hijacked connection: one writev per batch, no
// buffer of its own. Its write deadline is renewed when less than half
// of the timeout is left, so a write that stalls for timeout/2 to timeout
// drops the viewer, and a steady stream does not touch the deadline's
// timer on every event.
type connWriter struct {
	conn     net.Conn
	timeout  time.Duration
	deadline time.Time
}

// maxBatch bounds the iovecs of one writev (Linux allows 1024).
const maxBatch = 256

func (c *connWriter) write(frames [][]byte) error {
	for len(frames) > 0 {
		n := min(len(frames), maxBatch)
		// net.Buffers consumes the slice it writes, so it gets its own
		// copy of the headers: the log's frames are shared.
		bufs := make(net.Buffers, n)
		copy(bufs, frames[:n])
		frames = frames[n:]
		if now := time.Now(); c.deadline.Sub(now) < c.timeout/2 {
			c.deadline = now.Add(c.timeout)
			_ = c.conn.SetWriteDeadline(c.deadline)
		}
		if _, err := bufs.WriteTo(c.conn); err != nil {
			return err
		}
	}
	return nil
}

// responseWriter writes through the server's response and flushes it.
type responseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (r *responseWriter) write(frames [][]byte) error {
	_ = r.rc.SetWriteDeadline(time.Now().Add(r.timeout))
	for _, f := range frames {
		if _, err := r.w.Write(f); err != nil {
			return err
		}
	}
	if err := r.rc.Flush(); err != nil {
		return err
	}
	return r.rc.SetWriteDeadline(time.Time{})
}
