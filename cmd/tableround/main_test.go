package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/tableround/tableround/store/redis/redistest"
)

// redisSrv is the real redis-server of this package's tests (nil with
// redisSkip set when it is not installed outside CI).
var (
	redisSrv  *redistest.Server
	redisSkip string
)

// TestMain doubles as the tableround binary: with TABLEROUND_AS_MAIN=1 the
// test binary runs the command in os.Args (after "--") as a real process,
// which is how the replica tests start several servers.
func TestMain(m *testing.M) {
	if os.Getenv("TABLEROUND_AS_MAIN") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, lookuper, args, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	flag.Parse()
	if !flagGiven("test.parallel") {
		// These tests mostly wait: on platform fakes, paced models, a
		// browser, promtool. With -parallel's default (GOMAXPROCS) two of
		// them hold every slot of a two-core machine while it idles.
		_ = flag.Set("test.parallel", strconv.Itoa(8*runtime.GOMAXPROCS(0)))
	}
	os.Exit(redistest.Main(m, func(s *redistest.Server, skip string) { redisSrv, redisSkip = s, skip }))
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func needRedis(t *testing.T) *redistest.Server {
	t.Helper()
	if redisSkip != "" {
		t.Skip(redisSkip)
	}
	return redisSrv
}
