package web

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Measurements, not tests: go test ./web -run '^$' -bench . -benchtime 1x
// They run the server and the viewers in one process, so CPU figures mix
// both sides; see README "Performance" for how to read them.

// BenchmarkIdleViewerMemory connects idle viewers (raw connections that
// read nothing after the first event, so the client side holds no
// goroutine or buffer) and reports the process's heap and stack per
// viewer: the server's, plus each client socket's few hundred bytes.
// "handoff" is the HTTP/1 path (the stream leaves the handler), "handler"
// the one HTTP/2 takes (the stream stays in the server's goroutine).
func BenchmarkIdleViewerMemory(b *testing.B) {
	for _, mode := range []struct {
		name string
		o    StreamOptions
	}{{"handoff", StreamOptions{}}, {"handler", StreamOptions{keepHandler: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			for range b.N {
				idleViewers(b, 1000, mode.o)
			}
		})
	}
}

func idleViewers(b *testing.B, viewers int, o StreamOptions) {
	log := NewLog()
	log.Add(Event{T: "open", M: 1, S: "…"})
	drop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, drop, o, func() {})
	}))
	defer srv.Close()
	defer close(drop)
	hb, sb := memUse()
	conns := make([]net.Conn, 0, viewers)
	for range viewers {
		c := dialStream(b, srv)
		defer c.Close()
		br := bufio.NewReaderSize(c, 512)
		for { // until the first event: the stream is established
			line, err := br.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(line, "data: ") {
				break
			}
		}
		conns = append(conns, c)
	}
	ha, sa := memUse()
	b.ReportMetric(float64(ha+sa-hb-sb)/float64(viewers), "bytes/viewer")
	b.ReportMetric(float64(sa-sb)/float64(viewers), "stack-bytes/viewer")
	runtime.KeepAlive(conns)
}

// dialStream opens a raw connection to srv and asks for the stream.
func dialStream(b *testing.B, srv *httptest.Server) net.Conn {
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	return c
}

// memUse is the heap and the goroutine stacks in use after a GC.
func memUse() (heap, stack uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

// BenchmarkTokenToViewer streams deltas at the load profile's pace (40
// tokens/s in 4-token chunks, so 10 events a second) to many viewers of
// one table and reports the p99 delay from Add to a viewer reading it.
func BenchmarkTokenToViewer(b *testing.B) {
	for _, viewers := range []int{100, 1000} {
		b.Run(strconv.Itoa(viewers), func(b *testing.B) {
			for range b.N {
				p99, p50 := tokenToViewer(b, viewers, 100, 100*time.Millisecond)
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			}
		})
	}
}

func tokenToViewer(b *testing.B, viewers, events int, every time.Duration) (p99, p50 time.Duration) {
	log := NewLog()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, r, log, nil, nil, StreamOptions{}, func() {})
	}))
	defer srv.Close()
	var mu sync.Mutex
	sent := make([]time.Time, events+2)
	var delays []time.Duration
	var ready, done sync.WaitGroup
	for range viewers {
		c := dialStream(b, srv)
		defer c.Close()
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			br := bufio.NewReader(c)
			first := true
			var mine []time.Duration
			id := 0
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				switch {
				case strings.HasPrefix(line, "retry:") && first:
					first = false
					ready.Done()
				case strings.HasPrefix(line, "id: "):
					num, _, _ := strings.Cut(strings.TrimSpace(line[4:]), "-")
					id, _ = strconv.Atoi(num)
				case strings.HasPrefix(line, "data: "):
					now := time.Now()
					mu.Lock()
					at := sent[id]
					mu.Unlock()
					if id > events {
						mu.Lock()
						delays = append(delays, mine...)
						mu.Unlock()
						return
					}
					mine = append(mine, now.Sub(at))
				}
			}
		}()
	}
	ready.Wait()
	for i := 1; i <= events+1; i++ {
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		log.Add(Event{T: "delta", M: 1, O: i * 12, S: " four tokens"})
		time.Sleep(every)
	}
	done.Wait()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	if len(delays) == 0 {
		b.Fatal("no deliveries")
	}
	return delays[len(delays)*99/100], delays[len(delays)/2]
}
