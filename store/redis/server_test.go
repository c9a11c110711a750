package redis_test

import (
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/store/redis/redistest"
)

// server is a real redis-server started for the tests.
type server struct{ *redistest.Server }

var (
	shared     *server // the package's server, started by TestMain
	skipReason string  // why Redis tests skip (redis-server absent, not CI)
)

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m, func(s *redistest.Server, skip string) {
		if s != nil {
			shared = &server{s}
		}
		skipReason = skip
	}))
}

func needRedis(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

func freePort() int { return redistest.FreePort() }

func startServer(port int, dir string) (*server, error) {
	s, err := redistest.Start(port, dir)
	if err != nil {
		return nil, err
	}
	return &server{s}, nil
}

func (s *server) addr() string                        { return s.Addr() }
func (s *server) stop()                               { s.Stop() }
func (s *server) client(t *testing.T) *goredis.Client { return s.Client(t) }
