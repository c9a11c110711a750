package providers_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tableround/tableround/providers"
)

// TestNewTransportReusesConnections makes rounds of concurrent calls to
// one plain-HTTP server, as sessions streaming from a local model do: the
// connections of the first round serve every later one, where
// http.DefaultTransport would keep 2 and dial the rest again each round.
func TestNewTransportReusesConnections(t *testing.T) {
	var dialled atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: providers.NewTransport()}
	const concurrent, rounds = 8, 5
	for range rounds {
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for range concurrent {
			wg.Go(func() {
				<-ready
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		close(ready)
		wg.Wait()
	}
	// A connection returns to the idle pool a moment after its body is
	// closed, so the next round may dial one or two afresh; the default
	// transport (2 idle per host) dials about 6 per round, 32 in all.
	if n, most := dialled.Load(), int64(2*concurrent); n > most {
		t.Errorf("%d rounds of %d concurrent calls dialled %d connections, want at most %d", rounds, concurrent, n, most)
	}
}
