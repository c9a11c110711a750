package web

import (
	"net/http"
	"strconv"
	"time"
)

// StreamOptions tune a viewer's stream.
type StreamOptions struct {
	// WriteTimeout drops a viewer whose connection takes longer than this
	// to take one event; its browser reconnects with
	// Last-Event-ID and misses nothing (default 15s).
	WriteTimeout time.Duration
	// RetryMillis is the reconnect delay the browser is told (default 1000).
	RetryMillis int
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 15 * time.Second
	}
	if o.RetryMillis <= 0 {
		o.RetryMillis = 1000
	}
	return o
}

// resumeFrom reads where a viewer left off: the Last-Event-ID header (set
// by EventSource on reconnect), else the "from" query parameter.
func resumeFrom(r *http.Request) int {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("from")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// serveStream sends log events after the resume point, then the live tail,
// until the viewer leaves, revoked or drop is closed, or a write stalls. It holds no
// copy of the events: it writes the log's shared frames.
func serveStream(w http.ResponseWriter, r *http.Request, log *Log, revoked, drop <-chan struct{}, o StreamOptions) {
	o = o.withDefaults()
	rc := http.NewResponseController(w)
	// A server ReadTimeout (there for uploads) would otherwise end the
	// stream: net/http cancels a request whose connection read times out.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	pos := resumeFrom(r)
	if _, err := w.Write([]byte("retry: " + strconv.Itoa(o.RetryMillis) + "\n\n")); err != nil {
		return
	}
	for {
		frames, wake := log.Since(pos)
		if len(frames) > 0 {
			for _, f := range frames {
				_ = rc.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
				if _, err := w.Write(f); err != nil {
					return // dropped: the browser resumes from its last ID
				}
			}
			pos += len(frames)
		}
		_ = rc.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
		if err := rc.Flush(); err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Time{})
		select {
		case <-wake:
		case <-revoked:
			return
		case <-drop:
			return
		case <-r.Context().Done():
			return
		}
	}
}
