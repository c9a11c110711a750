package providers

import (
	"net/http"

	"github.com/tableround/tableround/internal/httpx"
)

// IdleConnsPerHost is how many idle connections DefaultTransport keeps per
// host. http.DefaultTransport keeps 2, so a process with many sessions
// streaming from one plain-HTTP server (a local OpenAI-compatible model, the
// load tool's fake) closed all but 2 connections after every call and dialled
// a new one for the next: at 100 sessions, dialling was about a tenth of the
// process's CPU.
const IdleConnsPerHost = 512

// DefaultTransport is the transport of the provider clients whose Config
// has no HTTPClient (see httpx.PooledTransport). It is shared, so every
// client of the process reuses the same connections.
var DefaultTransport http.RoundTripper = httpx.PooledTransport(IdleConnsPerHost)
