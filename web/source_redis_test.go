package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
	redisstore "github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/store/redis/redistest"
)

// startRedis runs a real redis-server for one test; it fails under CI when
// redis-server is missing, and skips elsewhere.
func startRedis(t *testing.T) *redistest.Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed, and CI is set")
		}
		t.Skip("redis-server is not installed")
	}
	s, err := redistest.Start(redistest.FreePort(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// replica is one process's web table on the shared Redis.
type replica struct {
	hub    *Hub
	tap    Tap
	stop   context.CancelFunc
	done   chan struct{}
	viewer string // its HTTP server's URL
}

func newReplica(t *testing.T, srv *redistest.Server) *replica {
	t.Helper()
	st := redisstore.New(srv.Client(t), redisstore.Options{})
	feed := NewRedisFeed(srv.Client(t), RedisFeedOptions{Block: 200 * time.Millisecond})
	hub := NewHub()
	hub.Store, hub.Feed = st, feed
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{hub: hub, tap: Tap{Store: st, Hub: hub}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_ = feed.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	r.viewer = viewerServer(t, hub).URL
	return r
}

// A viewer connected to replica B watches, token by token, a session that
// runs on replica A, with the same event IDs; when A dies and B resumes
// the session, the table goes on from where it was, for every replica.
func TestReplicasShareALiveTable(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	a, b := newReplica(t, srv), newReplica(t, srv)
	chat := &chatConv{}
	conv := watchedSession(t, &Watcher{Hub: a.hub, PublicURL: "https://t.example"}, a.tap, "0b0b0b0b0b0b", chat)
	link := chat.shownLink(t, conv)
	key := link[strings.Index(link, "?k=")+3:]
	tableA := a.hub.Table("0b0b0b0b0b0b")
	eventually.Within(t, 10*time.Second, "A published the board", func() bool {
		n, _ := srv.Client(t).XLen(ctx, feedKey("0b0b0b0b0b0b")).Result()
		return int(n) == tableA.Log.Len()
	})

	// A viewer on B, before the speech starts.
	resp := get(t, b.viewer+"/s/0b0b0b0b0b0b/events?k="+key, 0)
	if resp.StatusCode != 200 {
		t.Fatalf("B's stream: %d", resp.StatusCode)
	}
	got := make(chan []sseEvent, 1)
	go func() {
		got <- readSSE(t, resp.Body, func(e sseEvent) bool { return e.Ev.T == "close" && e.Ev.M == 2 })
	}()
	st, _ := conv.Open(ctx, bot.Post{From: bot.Persona{ID: "craftsman", Name: "Bayar"}, Kind: bot.KindSpeech})
	for _, text := range []string{"Paper", "Paper and", "Paper and bamboo."} {
		st.Update(text)
	}
	_ = st.Close(ctx, "Paper and bamboo.")
	var evs []sseEvent
	select {
	case evs = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("B's viewer did not see the speech")
	}
	framesA, _ := tableA.Log.Since(0)
	if len(evs) != len(framesA) {
		t.Fatalf("B's viewer got %d events, A logged %d", len(evs), len(framesA))
	}
	for i, e := range evs {
		if e.ID != i+1 || e.Raw != string(framesA[i]) {
			t.Fatalf("event %d differs: B sent %q, A logged %q", i+1, e.Raw, framesA[i])
		}
	}

	// A picture shown on A is served by B.
	picture := []byte("\x89PNG\r\n\x1a\n a generated design")
	if err := conv.SendImage(ctx, bot.Persona{ID: "designer"}, bot.Attachment{MIME: "image/png", Data: picture}, "the design"); err != nil {
		t.Fatal(err)
	}
	mirrorB := b.hub.Table("0b0b0b0b0b0b")
	eventually.Within(t, 10*time.Second, "B mirrored the picture", func() bool { return mirrorB.Log.Len() == tableA.Log.Len() })
	if body, code := fetch(t, b.viewer+"/s/0b0b0b0b0b0b/img/1?k="+key); code != 200 || body != string(picture) {
		t.Fatalf("B serves picture 1: %d %q", code, body)
	}
	framesA, _ = tableA.Log.Since(0)

	// A dies; B resumes the session (its lease expired).
	a.stop()
	<-a.done
	s, err := b.tap.GetSession(ctx, "0b0b0b0b0b0b")
	if err != nil {
		t.Fatal(err)
	}
	s.Step = 4
	convB := (&Watcher{Hub: b.hub, PublicURL: "https://t.example"}).Watch(ctx, s, &chatConv{})
	say(t, convB, bot.KindSpeech, "designer", "Red ", "silk.")
	tableB := b.hub.Table("0b0b0b0b0b0b")
	framesB, _ := tableB.Log.Since(0)
	if !bytes.Equal(joinFrames(framesB[:len(framesA)]), joinFrames(framesA)) {
		t.Fatal("B's table does not start with what A showed")
	}
	if tail := string(joinFrames(framesB[len(framesA):])); !strings.Contains(tail, `"t":"open","m":3`) || !strings.Contains(tail, `"s":"silk."`) {
		t.Fatalf("B's live tail:\n%s", tail)
	}

	// B's own pictures go on after A's.
	if err := convB.SendImage(ctx, bot.Persona{ID: "designer"}, bot.Attachment{MIME: "image/jpeg", Data: []byte("jpeg bytes")}, ""); err != nil {
		t.Fatal(err)
	}
	if last, _ := tableB.Log.Since(tableB.Log.Len() - 1); !strings.Contains(string(last[0]), `"image":2`) {
		t.Fatalf("B's picture: %s", last[0])
	}
	framesB, _ = tableB.Log.Since(0)

	// A third replica sees all of it, in the same order.
	c := newReplica(t, srv)
	eventually.Within(t, 10*time.Second, "B published its tail", func() bool {
		n, _ := srv.Client(t).XLen(ctx, feedKey("0b0b0b0b0b0b")).Result()
		return int(n) == tableB.Log.Len()
	})
	tableC := c.hub.Lookup(ctx, "0b0b0b0b0b0b")
	if tableC == nil {
		t.Fatal("C does not find the table")
	}
	framesC, _ := tableC.Log.Since(0)
	if !bytes.Equal(joinFrames(framesC), joinFrames(framesB)) {
		t.Fatalf("C shows\n%s\nB shows\n%s", joinFrames(framesC), joinFrames(framesB))
	}
	if r, _ := tableC.Check(key); r != RoleViewer {
		t.Fatal("the link's key does not open C's table")
	}
	for n, want := range map[int]string{1: string(picture), 2: "jpeg bytes"} {
		if body, code := fetch(t, c.viewer+"/s/0b0b0b0b0b0b/img/"+strconv.Itoa(n)+"?k="+key); code != 200 || body != want {
			t.Fatalf("C serves picture %d: %d %q", n, code, body)
		}
	}
	// The session ends on B: C's mirror ends with it.
	b.tap.Hub.record("0b0b0b0b0b0b", store.Event{Type: "end", Text: "finished"})
	eventually.Within(t, 10*time.Second, "C saw the end", tableC.Log.Ended)
}

func fetch(t *testing.T, url string) (string, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// Mirroring many tables holds one Redis connection: with a pool of two,
// thirty followed tables all get their events, and the client still
// answers other commands meanwhile.
func TestFollowingManyTablesHoldsOneConnection(t *testing.T) {
	srv := startRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := NewRedisFeed(srv.Client(t), RedisFeedOptions{Block: 100 * time.Millisecond})
	small := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), PoolSize: 2, PoolTimeout: 2 * time.Second})
	t.Cleanup(func() { small.Close() })
	sub := NewRedisFeed(small, RedisFeedOptions{Block: 5 * time.Second})
	done := make(chan struct{}, 2)
	for _, f := range []*RedisFeed{pub, sub} {
		go func() { _ = f.Run(ctx); done <- struct{}{} }()
	}
	// Closing the small client ends the follower's read at once, where a
	// cancelled context would leave it blocked for the rest of its 5 s.
	defer func() { cancel(); small.Close(); <-done; <-done }()
	var tables, mirrors []*Table
	for i := range 30 {
		tb := NewTable()
		tb.ID = fmt.Sprintf("%016x", i+1)
		pub.Publish(tb, 0)
		tables = append(tables, tb)
		m := &Table{ID: tb.ID, Log: NewLog()}
		sub.Follow(tb.ID, m.Log, make(chan struct{}))
		mirrors = append(mirrors, m)
	}
	for _, tb := range tables {
		tb.Log.Add(Event{T: "open", M: 1, S: tb.ID})
	}
	eventually.Within(t, 20*time.Second, "every mirror got its event", func() bool {
		for _, m := range mirrors {
			if m.Log.Len() != 1 {
				return false
			}
		}
		return true
	})
	for i, m := range mirrors {
		if got := logText(m.Log); !strings.Contains(got, tables[i].ID) {
			t.Fatalf("mirror %d shows %s", i, got)
		}
	}
	if err := small.Ping(ctx).Err(); err != nil {
		t.Fatalf("the followers starve the client: %v", err)
	}
}
