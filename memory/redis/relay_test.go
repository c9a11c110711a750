package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tableround/tableround/memory"
	"github.com/tableround/tableround/memory/redis"
)

func TestRelayCallReachesTheOwner(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prefix := uniquePrefix()
	a := redis.New(shared.client(t), redis.Options{Prefix: prefix})
	b := redis.New(shared.client(t), redis.Options{Prefix: prefix})
	served := make(chan error, 1)
	go func() {
		served <- b.ServeRelay(ctx, "owner-b", func(_ context.Context, body []byte) []byte {
			return append([]byte("b got "), body...)
		})
	}()
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	out, err := a.Call(cctx, "owner-b", []byte("stop"))
	if err != nil || string(out) != "b got stop" {
		t.Fatalf("Call = %q, %v", out, err)
	}
	// Nobody serves owner-c: the caller gets ErrNoReply when its context ends.
	short, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	if _, err := a.Call(short, "owner-c", []byte("stop")); !errors.Is(err, redis.ErrNoReply) {
		t.Fatalf("Call to nobody = %v, want ErrNoReply", err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("ServeRelay = %v", err)
	}
}

func TestHolderAndOnce(t *testing.T) {
	needRedis(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	st := redis.New(shared.client(t), redis.Options{Prefix: uniquePrefix(), Now: clock})
	if _, err := st.Holder(ctx, "telegram:1"); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("Holder of a free channel = %v, want ErrNotFound", err)
	}
	if err := st.CreateSession(ctx, memory.Session{ID: "s1", Channel: "telegram:1", Status: memory.StatusRunning, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	l, err := st.AcquireLease(ctx, "telegram:1", "s1", "owner-a", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.Holder(ctx, "telegram:1")
	if err != nil || h.Owner != "owner-a" || h.SessionID != "s1" || h.Token != l.Token {
		t.Fatalf("Holder = %+v, %v; want owner-a's lease %+v", h, err, l)
	}
	now = now.Add(31 * time.Second)
	if _, err := st.Holder(ctx, "telegram:1"); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("Holder of an expired lease = %v, want ErrNotFound", err)
	}

	first, err := st.Once(ctx, "tg:update:7", time.Minute)
	if err != nil || !first {
		t.Fatalf("Once first = %v, %v", first, err)
	}
	again, err := st.Once(ctx, "tg:update:7", time.Minute)
	if err != nil || again {
		t.Fatalf("Once again = %v, %v; want false", again, err)
	}
}
