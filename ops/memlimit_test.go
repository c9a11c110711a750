package ops

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// restoreMemoryLimit puts the runtime's soft limit back after a test.
func restoreMemoryLimit(t *testing.T) {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
}

// unsetEnv removes k for the test (t.Setenv restores it afterwards).
func unsetEnv(t *testing.T, k string) {
	t.Setenv(k, "")
	_ = os.Unsetenv(k)
}

func TestSetMemoryLimitTakesNinetyPercentOfTheContainer(t *testing.T) {
	restoreMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "")
	unsetEnv(t, "AUTOMEMLIMIT")
	var logs bytes.Buffer
	got := SetMemoryLimit(slog.New(slog.NewTextHandler(&logs, nil)), memlimit.Limit(1000<<20))
	if want := int64(900 << 20); got != want {
		t.Fatalf("limit = %d, want %d", got, want)
	}
	if now := debug.SetMemoryLimit(-1); now != 900<<20 {
		t.Fatalf("runtime limit = %d, want %d", now, 900<<20)
	}
	if !strings.Contains(logs.String(), "gomemlimit_bytes=943718400") {
		t.Fatalf("log does not give the limit: %s", logs.String())
	}
}

func TestSetMemoryLimitLeavesAnExplicitGOMEMLIMIT(t *testing.T) {
	restoreMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "300MiB")
	debug.SetMemoryLimit(300 << 20) // what the runtime read from it at start
	got := SetMemoryLimit(slog.New(slog.DiscardHandler), memlimit.Limit(1000<<20))
	if got != 300<<20 {
		t.Fatalf("limit = %d, want GOMEMLIMIT's %d", got, 300<<20)
	}
}

func TestSetMemoryLimitWithoutAContainerLimit(t *testing.T) {
	restoreMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "")
	unsetEnv(t, "AUTOMEMLIMIT")
	debug.SetMemoryLimit(math.MaxInt64)
	noLimit := func() (uint64, error) { return 0, memlimit.ErrNoLimit }
	if got := SetMemoryLimit(slog.New(slog.DiscardHandler), noLimit); got != 0 {
		t.Fatalf("limit = %d, want 0 (none)", got)
	}
	var logs bytes.Buffer
	broken := func() (uint64, error) { return 0, errors.New("cgroup unreadable") }
	if got := SetMemoryLimit(slog.New(slog.NewTextHandler(&logs, nil)), broken); got != 0 {
		t.Fatalf("limit = %d after a provider error, want 0", got)
	}
	if !strings.Contains(logs.String(), "cgroup unreadable") {
		t.Fatalf("the provider's error is not logged: %s", logs.String())
	}
}
