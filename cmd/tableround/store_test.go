package main

import (
	"context"
	"testing"
	"time"

	"github.com/tableround/tableround/store"
)

// openStore wires the relay between replicas only with Redis, over the
// store's own client: the relay finds the lease the store granted, and
// closing the store closes the one client they share.
func TestOpenStoreSharesTheRedisClientWithTheRelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	embedded, err := openStore(ctx, StoreConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if embedded.Relay != nil {
		t.Error("the embedded store has a relay: one process has nobody to relay to")
	}
	embedded.Store.Close()

	srv := needRedis(t)
	sh, err := openStore(ctx, StoreConfig{RedisURL: srv.URL(9)})
	if err != nil {
		t.Fatal(err)
	}
	if sh.Relay == nil {
		t.Fatal("Redis store without a relay")
	}
	ch := "telegram:openstore"
	if err := sh.Store.CreateSession(ctx, store.Session{ID: "os1", Channel: ch, Status: store.StatusRunning, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	l, err := sh.Store.AcquireLease(ctx, ch, "os1", "replica-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sh.Relay.Holder(ctx, ch)
	if err != nil || h.Owner != "replica-a" || h.Token != l.Token {
		t.Fatalf("relay's Holder = %+v, %v; want the store's lease %+v", h, err, l)
	}
	if first, err := sh.Relay.Once(ctx, "openstore:1", time.Minute); err != nil || !first {
		t.Fatalf("Once = %v, %v", first, err)
	}
	if err := sh.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Relay.Once(ctx, "openstore:2", time.Minute); err == nil {
		t.Error("the relay still works after the store closed: they do not share one client")
	}
}
