// Package web is the live web table: an adapter beside console, Discord and
// Telegram that shows a roundtable in a browser as it happens, and lets the
// person who started it from the browser interject, answer the people's
// turn, stop it and download its exports.
//
// A session posts into a Conv exactly as into a chat (bot.Conversation).
// Everything a viewer needs goes into the table's append-only Log, each
// event encoded once as a server-sent-events frame; viewers read the shared
// log from their own position, so a viewer costs a goroutine and an index,
// never a copy of the stream, and a slow viewer delays nobody.
//
// Why server-sent events and not WebSocket: the live stream goes one way;
// the browser's EventSource reconnects by itself and sends Last-Event-ID,
// which is exactly the resume offset (the event's index in the log), so a
// dropped connection resumes with nothing lost and nothing doubled; it is
// plain HTTP (proxies, HTTP/2, no upgrade); and the few actions a
// participant takes are ordinary POSTs that carry the same-origin check.
//
// The package never imports the domain (roundtable): it talks to the
// session manager through bot.Handler only (start.go is that one seam).
// Keys in URLs are visible to whoever sees the URL (history, a shared
// screen): the page sends no Referer, and the starter can rotate the view
// key.
package web

import (
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf16"
)

// Log is one table's append-only event log. Each event is stored as the
// SSE frame every viewer receives, so it is encoded once for all of them.
//
// An event's SSE ID is "N-SUM": its number and a hash of every event up
// to it. A log rebuilt with the same events (saved at a clean shutdown,
// mirrored by another replica) gives the same IDs, so a browser resumes
// where it was; one rebuilt differently (from the store after a crash)
// does not match, and the browser is told to start over (see resumeFrom)
// instead of being sent events out of place.
type Log struct {
	mu     sync.Mutex
	frames [][]byte // frames[i] is event ID i+1
	sums   []uint32 // sums[i] is the SUM in frame i's ID
	chain  uint64   // FNV-1a over the data of every event so far
	size   int      // bytes in frames
	wake   chan struct{}
	ended  bool
}

// NewLog returns an empty log.
func NewLog() *Log { return &Log{wake: make(chan struct{}), chain: fnvOffset} }

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Event is one thing a viewer sees; T says which (open, delta, reset,
// close, image, ask, answered, record, end). Unused fields are omitted.
type Event struct {
	T string `json:"t"`
	// M numbers the message an open/delta/reset/close event belongs to.
	M int `json:"m,omitempty"`
	// O is the offset, in UTF-16 code units (what a browser's string
	// length counts), at which a delta's S is appended.
	O      int      `json:"o,omitempty"`
	S      string   `json:"s,omitempty"`
	Kind   string   `json:"kind,omitempty"`
	Group  string   `json:"group,omitempty"`
	From   *Speaker `json:"from,omitempty"`
	Ref    string   `json:"ref,omitempty"`
	Words  []string `json:"words,omitempty"`
	Secs   int      `json:"secs,omitempty"`
	Record *Record  `json:"record,omitempty"`
	Image  int      `json:"image,omitempty"`
	Action string   `json:"action,omitempty"`
	By     string   `json:"by,omitempty"`
}

// Speaker is how a persona looks on the page.
type Speaker struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Emoji  string `json:"emoji,omitempty"`
	Color  string `json:"color,omitempty"`
	Avatar string `json:"avatar,omitempty"`
	Role   string `json:"role,omitempty"`
}

// Record is a structured entry of the session's own log (what exports
// read): stages, KJ, votes, role switches, cards. SVG is set for the KJ
// grouping and the vote result.
type Record struct {
	Type  string          `json:"type"`
	Stage string          `json:"stage,omitempty"`
	Seat  string          `json:"seat,omitempty"`
	Name  string          `json:"name,omitempty"`
	Text  string          `json:"text,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	SVG   string          `json:"svg,omitempty"`
}

// Add appends an event and wakes every viewer. It never waits for one.
func (l *Log) Add(ev Event) {
	data, err := json.Marshal(ev)
	if err != nil { // only plain data is logged; cannot happen
		return
	}
	l.addData(data, ev.T == "end")
}

// addData appends an encoded event (one that another replica encoded, or
// Add's).
func (l *Log) addData(data []byte, end bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := len(l.frames) + 1
	h := l.chain
	for _, b := range data {
		h = (h ^ uint64(b)) * fnvPrime
	}
	h = (h ^ '\n') * fnvPrime // events end, so "ab","c" is not "a","bc"
	l.chain = h
	sum := uint32(h ^ h>>32)
	frame := make([]byte, 0, len(data)+32)
	frame = append(frame, "id: "...)
	frame = strconv.AppendInt(frame, int64(id), 10)
	frame = append(frame, '-')
	frame = appendHex32(frame, sum)
	frame = append(frame, "\ndata: "...)
	frame = append(frame, data...)
	frame = append(frame, "\n\n"...)
	l.frames = append(l.frames, frame)
	l.sums = append(l.sums, sum)
	l.size += len(frame)
	if end {
		l.ended = true
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// Since returns the frames after event ID after (0: all) and a channel
// closed when more arrive. The frames are shared: callers must not modify
// them.
func (l *Log) Since(after int) ([][]byte, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after < 0 {
		after = 0
	}
	if after >= len(l.frames) {
		return nil, l.wake
	}
	return l.frames[after:len(l.frames):len(l.frames)], l.wake
}

// matches reports whether event n of this log has the sum a viewer saw
// with it, that is, whether the viewer's events 1..n are this log's.
func (l *Log) matches(n int, sum uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return n == 0 || (n <= len(l.sums) && l.sums[n-1] == sum)
}

// appendHex32 appends v as eight lower-case hex digits.
func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[v>>uint(shift)&0xf])
	}
	return b
}

// Len is the number of events so far.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// Size is the encoded size of the log in bytes.
func (l *Log) Size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// Ended reports whether the session's end was logged.
func (l *Log) Ended() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// utf16Len is a string's length in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
