package providers

import (
	"net/http"

	"github.com/tableround/tableround/internal/httpx"
)

// IdleConnsPerHost is how many idle connections NewTransport keeps per
// host. http.DefaultTransport keeps 2, so a process with many sessions
// streaming from one plain-HTTP server (a local OpenAI-compatible model, the
// load tool's fake) closed all but 2 connections after every call and dialled
// a new one for the next: at 100 sessions, dialling was about a tenth of the
// process's CPU.
const IdleConnsPerHost = 512

// NewTransport returns a pooled transport (see httpx.PooledTransport) for
// provider clients. A client whose Config has no HTTPClient makes its own;
// setup.Build makes one for all the clients it builds, so the models of a
// process reuse the same connections.
func NewTransport() http.RoundTripper { return httpx.PooledTransport(IdleConnsPerHost) }
