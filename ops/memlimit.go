package ops

import (
	"log/slog"
	"math"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// MemoryLimitRatio is the share of the container's memory limit given to
// the Go runtime as its soft limit; the rest covers the binary, the bbolt
// file's mapped pages and goroutine stacks the collector does not return
// at once.
const MemoryLimitRatio = 0.9

// SetMemoryLimit gives the Go runtime a soft memory limit of
// MemoryLimitRatio of what provider reports (the cgroup's memory limit
// when provider is nil), so the collector works harder before the kernel's
// OOM killer would. GOMEMLIMIT set in the environment wins, and
// AUTOMEMLIMIT=off or a ratio such as AUTOMEMLIMIT=0.8 overrides the
// default. It returns the limit in force (0 when there is none) and never
// fails serve: trouble reading the cgroup is logged.
func SetMemoryLimit(logger *slog.Logger, provider memlimit.Provider) int64 {
	if provider == nil {
		provider = memlimit.FromCgroup
	}
	limit, err := memlimit.Set(memlimit.WithRatio(MemoryLimitRatio), memlimit.WithProvider(provider))
	if err != nil {
		logger.Warn("memory limit not set", "err", err)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		return 0
	}
	logger.Info("memory limit", "gomemlimit_bytes", limit)
	return limit
}
