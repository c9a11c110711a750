package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/replica"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	redisstore "github.com/tableround/tableround/store/redis"
)

// storeHandle is an open store and a description of where it lives.
type storeHandle struct {
	Store store.Store
	Where string
	// Relay links the replicas sharing the store's Redis (nil with the
	// embedded store: one process, nothing to relay).
	Relay *replica.Relay
	// Redis is the client the store and the relay share (nil with the
	// embedded store); Discord's shared budgets use it too.
	Redis goredis.UniversalClient
}

// withStore opens the store env configures (Redis when REDIS_URL is set,
// else the embedded file under DATA_DIR), runs fn and closes it.
func withStore(ctx context.Context, env environ, stderr io.Writer, fn func(storeHandle) int) int {
	l, err := env()
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	var sc StoreConfig
	if err := loadConfig(ctx, l, &sc); err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	sh, err := openStore(ctx, sc)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitFailure
	}
	defer sh.Store.Close()
	return fn(sh)
}

func openStore(ctx context.Context, sc StoreConfig) (storeHandle, error) {
	if sc.RedisURL != "" {
		// One client for the store and the relay; the store closes it.
		client, err := redisstore.NewClient(sc.RedisURL)
		if err != nil {
			return storeHandle{}, fmt.Errorf("REDIS_URL: open redis: %w", err)
		}
		st := redisstore.New(client, redisstore.Options{Retention: sc.retention(), CloseClient: true})
		if err := st.Ping(ctx); err != nil {
			st.Close()
			return storeHandle{}, fmt.Errorf("REDIS_URL: open redis %s: %w", client.Options().Addr, err)
		}
		relay := replica.New(client, replica.Options{Leases: st})
		return storeHandle{Store: st, Where: "Redis", Relay: relay, Redis: client}, nil
	}
	path := filepath.Join(sc.DataDir, "tableround.db")
	st, err := bolt.Open(path, bolt.Options{Retention: sc.retention()})
	if err != nil {
		return storeHandle{}, fmt.Errorf("DATA_DIR: %w", err)
	}
	return storeHandle{Store: st, Where: path}, nil
}

// userError is the sentence shown for an error: the kind message of typed
// errors that carry one, else the error itself.
func userError(err error) string {
	var um interface{ UserMessage() string }
	if errors.As(err, &um) {
		return um.UserMessage()
	}
	return err.Error()
}

func (sc StoreConfig) retention() store.Retention {
	return store.Retention{SessionTTL: sc.SessionTTL, ExportTTL: sc.ExportTTL, MemoryTTL: sc.MemoryTTL}
}
