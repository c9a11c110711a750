package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/buffered"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/store/storetest"
	"github.com/tableround/tableround/transcript"
)

// ownServer starts a server for one test, on a fresh port and directory.
func ownServer(t *testing.T) *server {
	t.Helper()
	needRedis(t)
	s, err := startServer(freePort(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// TestKeysTypesAndTTLs pins the key scheme of store/README.md, checks that
// nothing outside the prefix is touched, that no KEYS/SCAN/FLUSH command is
// ever sent, and that rewrites keep TTLs (the SET-clears-TTL trap).
func TestKeysTypesAndTTLs(t *testing.T) {
	srv := ownServer(t)
	ctx := context.Background()
	c := srv.client(t)
	foreign := map[string]string{"foreign:key": "keep", "tr2:near": "keep too", "{discord:42}:x": "tag twin"}
	for k, v := range foreign {
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	clk := clock.NewManual(time.Time{})
	ret := store.Retention{SessionTTL: time.Hour, ExportTTL: 10 * time.Hour, MemoryTTL: 100 * time.Hour}
	st := redis.New(c, redis.Options{Retention: ret, Clock: clk})
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	ses := storetest.NewSession(clk, "s1", "discord:42")
	must("CreateSession", st.CreateSession(ctx, ses))
	for i := 0; i < 2; i++ {
		_, err := st.Append(ctx, "s1", store.Event{Type: transcript.EventNote})
		must("Append", err)
	}
	ses.Step = 3
	l, err := st.AcquireLease(ctx, "discord:42", "s1", "proc", time.Minute)
	must("AcquireLease", err)
	for i := 0; i < 2; i++ { // twice: a rewrite must keep the TTL
		must("UpdateSession", st.UpdateSession(ctx, ses))
		must("SaveCheckpoint", st.SaveCheckpoint(ctx, "s1", store.Checkpoint{Step: 3, State: []byte("x"), Fence: l.Token}))
		must("PutBlob", st.PutBlob(ctx, "s1", "photo", []byte("jpeg")))
		must("Remember", st.Remember(ctx, "discord:42", store.Memory{SessionID: "s1"}))
		_, err = st.RenewLease(ctx, l, time.Minute)
		must("RenewLease", err)
	}
	_, err = st.Orphans(ctx, clk.Now(), 10)
	must("Orphans", err)
	_, err = st.ListSessions(ctx, "discord:42", 10)
	must("ListSessions", err)

	stats, err := c.Info(ctx, "commandstats").Result()
	must("INFO", err)
	for _, cmd := range []string{"keys", "scan", "flushdb", "flushall"} {
		if strings.Contains(stats, "cmdstat_"+cmd+":") {
			t.Errorf("the store sent %s", strings.ToUpper(cmd))
		}
	}

	want := []struct {
		key, typ string
		ttl      time.Duration // 0: no TTL
	}{
		{"tr:{discord:42}:session:s1", "hash", 10 * time.Hour},
		{"tr:{discord:42}:session:s1:log", "list", 10 * time.Hour},
		{"tr:{discord:42}:session:s1:checkpoint", "hash", time.Hour},
		{"tr:{discord:42}:session:s1:blob:photo", "string", time.Hour},
		{"tr:{discord:42}:sessions", "zset", 10 * time.Hour},
		{"tr:{discord:42}:lock", "hash", 10 * time.Hour},
		{"tr:{discord:42}:memory", "list", 100 * time.Hour},
		{"tr:sid:s1", "string", 10 * time.Hour},
		{"tr:running", "zset", 0},
	}
	for _, w := range want {
		typ, err := c.Type(ctx, w.key).Result()
		must("TYPE", err)
		ttl, err := c.PTTL(ctx, w.key).Result()
		must("PTTL", err)
		if typ != w.typ {
			t.Errorf("%s: type %s, want %s", w.key, typ, w.typ)
		}
		switch {
		case w.ttl == 0 && ttl != -1:
			t.Errorf("%s: TTL %v, want none", w.key, ttl)
		case w.ttl != 0 && (ttl <= w.ttl-time.Minute || ttl > w.ttl):
			t.Errorf("%s: TTL %v, want about %v", w.key, ttl, w.ttl)
		}
	}

	// Test-only inventory (the store itself never scans): our keys and the
	// foreign ones, nothing else; the foreign values are intact.
	var all []string
	iter := c.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		all = append(all, iter.Val())
	}
	must("SCAN", iter.Err())
	var expected []string
	for _, w := range want {
		expected = append(expected, w.key)
	}
	for k, v := range foreign {
		expected = append(expected, k)
		if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
			t.Errorf("foreign key %s = %q, %v", k, got, err)
		}
	}
	sort.Strings(all)
	sort.Strings(expected)
	if fmt.Sprint(all) != fmt.Sprint(expected) {
		t.Errorf("keys in the database:\n%v\nwant:\n%v", all, expected)
	}

	// Forget deletes only the memory list.
	must("Forget", st.Forget(ctx, "discord:42"))
	if n, _ := c.Exists(ctx, "tr:{discord:42}:memory").Result(); n != 0 {
		t.Errorf("memory list survived Forget")
	}
	if n, _ := c.Exists(ctx, "tr:{discord:42}:session:s1").Result(); n != 1 {
		t.Errorf("Forget deleted the session")
	}
}

// TestRedisOutage kills redis-server mid-session: writes go to the buffer,
// the server comes back on the same port (its AOF restores what it had),
// the buffer flushes, and the log holds every event in order. A second,
// tiny buffer shows the buffer-full failure.
func TestRedisOutage(t *testing.T) {
	srv := ownServer(t)
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{
		Addr: srv.addr(), ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		// A dial to the stopped server fails at once, not after go-redis's
		// five tries 100 ms apart: the outage is the store's to handle.
		DialerRetries: 1,
	})
	defer c.Close()
	// With the default appendfsync everysec, Redis under disk load may hold
	// an acknowledged write for up to two seconds before write(2), and the
	// SIGKILL below would lose it: Redis's documented durability, not the
	// store's. Fsync every write so the test checks the store alone.
	if err := c.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	st := redis.New(c, redis.Options{})
	buf := buffered.New(st, buffered.Options{CallTimeout: time.Second})
	tiny := buffered.New(st, buffered.Options{CallTimeout: time.Second, MaxPending: 2})
	clk := clock.NewManual(time.Time{})
	for _, id := range []string{"s1", "s2"} {
		if err := buf.CreateSession(ctx, storetest.NewSession(clk, id, "discord:"+id)); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := buf.AcquireLease(ctx, "discord:s1", "s1", "proc", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b *buffered.Store, id string, from, to int) error {
		for i := from; i <= to; i++ {
			ev, err := b.Append(ctx, id, store.Event{Type: transcript.EventSpeech, Text: fmt.Sprint(i)})
			if err != nil {
				return err
			}
			if ev.Seq != int64(i) {
				return fmt.Errorf("event %d got Seq %d", i, ev.Seq)
			}
		}
		return nil
	}
	if err := write(buf, "s1", 1, 3); err != nil {
		t.Fatal(err)
	}

	srv.stop()
	if err := write(buf, "s1", 4, 6); err != nil {
		t.Fatalf("writes while Redis is down: %v", err)
	}
	if err := buf.SaveCheckpoint(ctx, "s1", store.Checkpoint{Step: 6, State: []byte("six"), Fence: lease.Token}); err != nil {
		t.Fatalf("SaveCheckpoint while down: %v", err)
	}
	if err := write(buf, "s1", 7, 8); err != nil {
		t.Fatalf("writes while Redis is down: %v", err)
	}
	if n := buf.Pending(); n != 6 {
		t.Fatalf("Pending = %d, want 6", n)
	}
	if h := buf.Health(ctx); h.Reachable {
		t.Fatalf("Health while down = %+v", h)
	}
	if err := buf.Flush(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Flush while down = %v, want ErrUnavailable", err)
	}
	if err := write(tiny, "s2", 1, 3); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "buffer full") {
		t.Fatalf("third write into a 2-write buffer = %v, want buffer full", err)
	}

	restarted, err := startServer(srv.Port, srv.Dir)
	if err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	t.Cleanup(restarted.stop)
	eventually.True(t, "the buffers to flush after the restart", func() bool {
		_, _ = buf.Flush(ctx), tiny.Flush(ctx)
		return buf.Pending() == 0 && tiny.Pending() == 0
	})
	evs, err := st.Events(ctx, "s1")
	if err != nil || len(evs) != 8 {
		t.Fatalf("Events after flush = %d, %v", len(evs), err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ev.Text != fmt.Sprint(i+1) {
			t.Fatalf("event %d = Seq %d %q", i, ev.Seq, ev.Text)
		}
	}
	if cp, err := st.LoadCheckpoint(ctx, "s1"); err != nil || cp.Step != 6 || cp.Fence != lease.Token {
		t.Fatalf("checkpoint after flush = %+v, %v", cp, err)
	}
	if evs, err := st.Events(ctx, "s2"); err != nil || len(evs) != 2 {
		t.Fatalf("s2 after flush = %d events, %v (the 2 accepted ones)", len(evs), err)
	}
	if h := buf.Health(ctx); !h.Reachable || h.Pending != 0 {
		t.Fatalf("Health after flush = %+v", h)
	}
}
