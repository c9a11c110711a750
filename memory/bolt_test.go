package memory_test

import (
	"path/filepath"
	"testing"

	"github.com/tableround/tableround/memory"
	"github.com/tableround/tableround/memory/storetest"
)

func openBolt(t *testing.T, opts memory.BoltOptions) *memory.Bolt {
	t.Helper()
	st, err := memory.OpenBolt(filepath.Join(t.TempDir(), "data", "tableround.db"), opts)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	return st
}

func TestBoltContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) memory.Store {
		return openBolt(t, memory.BoltOptions{Now: storetest.Now(t)})
	})
}
