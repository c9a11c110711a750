package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/buffered"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/store/storetest"
)

var prefixes atomic.Int64

// uniquePrefix keeps tests on the shared server apart without FLUSHDB.
func uniquePrefix() string { return fmt.Sprintf("t%d:", prefixes.Add(1)) }

func TestContract(t *testing.T) {
	needRedis(t)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		return redis.New(shared.client(t), redis.Options{Prefix: uniquePrefix(), Clock: clk})
	})
}

func TestBufferedContract(t *testing.T) {
	needRedis(t)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		st := redis.New(shared.client(t), redis.Options{Prefix: uniquePrefix(), Clock: clk})
		return buffered.New(st, buffered.Options{})
	})
}

func TestOpen(t *testing.T) {
	needRedis(t)
	ctx := context.Background()
	st, err := redis.Open(ctx, "redis://"+shared.addr()+"/0", redis.Options{Prefix: uniquePrefix()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// max_retries=-1: one PING, not four, each dialling five times 100 ms apart.
	_, err = redis.Open(ctx, fmt.Sprintf("redis://127.0.0.1:%d/?max_retries=-1", freePort()), redis.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open(nobody listening) = %v, want ErrUnavailable", err)
	}
	_, err = redis.Open(ctx, "redis://user:s3cret@[::1", redis.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open(bad URL) = %v, want an error without the password", err)
	}
}
