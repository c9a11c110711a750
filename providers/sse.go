package providers

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// MaxSSELine bounds one line of a server-sent event stream. It is far above
// bufio.Scanner's 64 KB default, which a single large chunk can exceed.
const MaxSSELine = 16 << 20

// ErrLineTooLong is returned by SSEReader.Next for a line over MaxSSELine.
var ErrLineTooLong = errors.New("sse line too long")

// SSEEvent is one server-sent event. A comment line (": keep-alive") is
// returned as an event of its own with Comment set, so that callers can count
// it as a sign of life.
type SSEEvent struct {
	Name    string // the event: field, empty for the default
	Data    string // data: lines joined by "\n"
	Comment bool
}

// sseReadBuffer is the read buffer of one stream. Every streamed model
// call holds one for its whole length (six per session in the concurrent
// stages), so it stays small: a chunk's line is a few hundred bytes, and a
// longer line is assembled across reads (up to MaxSSELine) rather than
// needing a buffer of its size.
const sseReadBuffer = 4 << 10

// SSEReader reads server-sent events from a stream, line by line.
type SSEReader struct {
	r   *bufio.Reader
	buf []byte
}

// NewSSEReader returns a reader of the events of r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, sseReadBuffer)}
}

// Next returns the next event. At the end of the stream it returns an event
// still being assembled (servers that omit the final blank line) and then
// io.EOF; a broken stream returns its read error.
func (s *SSEReader) Next() (SSEEvent, error) {
	var ev SSEEvent
	var data []string
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && hasData {
				ev.Data = strings.Join(data, "\n")
				return ev, nil
			}
			return SSEEvent{}, err
		}
		switch {
		case line == "":
			if hasData {
				ev.Data = strings.Join(data, "\n")
				return ev, nil
			}
		case line[0] == ':':
			if !hasData {
				return SSEEvent{Comment: true, Data: strings.TrimSpace(line[1:])}, nil
			}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "data":
				data = append(data, value)
				hasData = true
			case "event":
				ev.Name = value
			}
		}
	}
}

// readLine returns one line without its line ending.
func (s *SSEReader) readLine() (string, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		s.buf = append(s.buf, chunk...)
		if len(s.buf) > MaxSSELine {
			return "", ErrLineTooLong
		}
		switch {
		case err == nil:
			return string(bytes.TrimRight(s.buf, "\r\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(s.buf) > 0:
			// The last line has no newline; return it, EOF comes next.
			return string(bytes.TrimRight(s.buf, "\r\n")), nil
		default:
			return "", err
		}
	}
}
