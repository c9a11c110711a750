package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tableround/tableround/memory"
	redisstore "github.com/tableround/tableround/memory/redis"
)

// storeHandle is an open store and a description of where it lives.
type storeHandle struct {
	Store memory.Store
	Where string
}

// withStore opens the configured store (Redis when REDIS_URL is set, else
// the embedded file under DATA_DIR), runs fn and closes it.
func withStore(ctx context.Context, stderr io.Writer, fn func(storeHandle) int) int {
	l, err := lookuper()
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
		st, err := redisstore.Open(ctx, sc.RedisURL, redisstore.Options{Retention: sc.retention()})
		if err != nil {
			return storeHandle{}, fmt.Errorf("REDIS_URL: %w", err)
		}
		return storeHandle{Store: st, Where: "Redis"}, nil
	}
	path := filepath.Join(sc.DataDir, "tableround.db")
	st, err := memory.OpenBolt(path, memory.BoltOptions{Retention: sc.retention()})
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

func (sc StoreConfig) retention() memory.Retention {
	return memory.Retention{SessionTTL: sc.SessionTTL, ExportTTL: sc.ExportTTL, MemoryTTL: sc.MemoryTTL}
}
