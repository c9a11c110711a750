// Package httpx holds the HTTP client settings the bot's outgoing traffic
// shares.
package httpx

import (
	"net/http"
	"time"
)

// IdleConnTimeout closes a pooled connection left idle this long: a
// session's calls follow each other closely, so a connection idle for
// longer is not reused soon.
const IdleConnTimeout = 30 * time.Second

// PooledTransport is http.DefaultTransport's settings (proxy from the
// environment, HTTP/2 over TLS, dial and TLS timeouts) keeping perHost idle
// connections per host (and twice that in all) instead of 2. With the
// default, a process making many concurrent calls to one plain-HTTP/1.1
// server (a local model, a REST proxy, the load tool's fakes) closed all
// but 2 connections after every burst and dialled anew for most calls;
// HTTPS servers speaking HTTP/2 multiplex on one connection and are not
// affected.
func PooledTransport(perHost int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * perHost
	t.MaxIdleConnsPerHost = perHost
	t.IdleConnTimeout = IdleConnTimeout
	return t
}
