package replica_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/replica"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/store/redis/redistest"
)

var (
	shared     *redistest.Server // started by TestMain
	skipReason string            // why Redis tests skip (redis-server absent, not CI)
)

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m, func(s *redistest.Server, skip string) { shared, skipReason = s, skip }))
}

func needRedis(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

func TestRelayCallReachesTheOwner(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := replica.New(shared.Client(t), replica.Options{Prefix: "relay1:"})
	b := replica.New(shared.Client(t), replica.Options{Prefix: "relay1:"})
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
	if _, err := a.Call(short, "owner-c", []byte("stop")); !errors.Is(err, replica.ErrNoReply) {
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
	clk := clock.NewManual(time.Time{})
	client := shared.Client(t)
	st := redis.New(client, redis.Options{Prefix: "relay2:", Clock: clk})
	r := replica.New(client, replica.Options{Prefix: "relay2:", Leases: st})
	if _, err := r.Holder(ctx, "telegram:1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Holder of a free channel = %v, want ErrNotFound", err)
	}
	if err := st.CreateSession(ctx, store.Session{ID: "s1", Channel: "telegram:1", Status: store.StatusRunning, CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	l, err := st.AcquireLease(ctx, "telegram:1", "s1", "owner-a", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Holder(ctx, "telegram:1")
	if err != nil || h.Owner != "owner-a" || h.SessionID != "s1" || h.Token != l.Token {
		t.Fatalf("Holder = %+v, %v; want owner-a's lease %+v", h, err, l)
	}
	clk.Advance(31 * time.Second)
	if _, err := r.Holder(ctx, "telegram:1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Holder of an expired lease = %v, want ErrNotFound", err)
	}
	if _, err := replica.New(client, replica.Options{}).Holder(ctx, "telegram:1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Holder without Leases = %v, want ErrNotFound", err)
	}

	first, err := r.Once(ctx, "tg:update:7", time.Minute)
	if err != nil || !first {
		t.Fatalf("Once first = %v, %v", first, err)
	}
	again, err := r.Once(ctx, "tg:update:7", time.Minute)
	if err != nil || again {
		t.Fatalf("Once again = %v, %v; want false", again, err)
	}
}
