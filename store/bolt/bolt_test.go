package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/storetest"
)

func openBolt(t *testing.T, opts bolt.Options) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "data", "tableround.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func TestBoltContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		return openBolt(t, bolt.Options{Clock: clk})
	})
}
