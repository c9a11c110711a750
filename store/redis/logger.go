package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (pool and reconnect trouble,
// which it otherwise prints raw to stderr) to l as warnings with
// component=redis, so they follow LOG_FORMAT and LOG_LEVEL. go-redis has
// one logger per process: the last call wins.
func SetLogger(l *slog.Logger) {
	goredis.SetLogger(slogPrintf{l.With("component", "redis")})
}

type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	s.l.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)))
}
