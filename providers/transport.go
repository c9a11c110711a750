package providers

import (
	"net/http"
	"time"
)

// IdleConnsPerHost is how many idle connections DefaultTransport keeps per
// host. http.DefaultTransport keeps 2, so a process with many sessions
// streaming from one plain-HTTP server (a local OpenAI-compatible model, the
// load tool's fake) closed all but 2 connections after every call and dialled
// a new one for the next: at 100 sessions, dialling was about a tenth of the
// process's CPU. HTTPS servers that speak HTTP/2 multiplex calls on one
// connection and are not affected.
const IdleConnsPerHost = 512

// idleConnTimeout closes a connection left idle this long. A session's calls
// follow each other closely; a connection idle for longer is not reused soon.
const idleConnTimeout = 30 * time.Second

// DefaultTransport is the transport of the provider clients whose Config
// has no HTTPClient: http.DefaultTransport's settings (proxy from the
// environment, HTTP/2 over TLS, dial and TLS timeouts) with IdleConnsPerHost
// idle connections kept per host. It is shared, so every client of the
// process reuses the same connections.
var DefaultTransport http.RoundTripper = newTransport()

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * IdleConnsPerHost
	t.MaxIdleConnsPerHost = IdleConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	return t
}
