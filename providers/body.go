package providers

import (
	"io"
	"net/http"
	"sync"
)

// SetStreamBody gives a streamed call's request its JSON body so that the
// bytes are let go once sent: a reply streams for seconds and the request
// (the whole prompt, a photo's base64) would otherwise stay referenced by
// the transport until it ends. A redirect or an HTTP/2 retry rebuilds it
// with rebuild.
func SetStreamBody(req *http.Request, body []byte, rebuild func() []byte) {
	req.Body, req.ContentLength = &sentBody{b: body}, int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return &sentBody{b: rebuild()}, nil }
}

// sentBody is a request body that lets go of its bytes once read or
// closed. The transport may close it while its write loop reads it.
type sentBody struct {
	mu sync.Mutex
	b  []byte
}

func (s *sentBody) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.b) == 0 {
		s.b = nil
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	if len(s.b) == 0 {
		s.b = nil
	}
	return n, nil
}

func (s *sentBody) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = nil
	return nil
}
