package redis_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// server is a real redis-server started for the tests.
type server struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

var (
	shared     *server // the package's server, started by TestMain
	skipReason string  // why Redis tests skip (redis-server absent, not CI)
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "FAIL: redis-server is not installed, and CI is set: install it (apt-get install redis-server)")
			return 1
		}
		skipReason = "redis-server is not installed: SKIPPING every Redis test (install redis-server to run them)"
		fmt.Fprintln(os.Stderr, "!!!", skipReason)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tr-redis-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shared, err = startServer(freePort(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start redis-server:", err)
		return 1
	}
	defer shared.stop()
	return m.Run()
}

func needRedis(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs redis-server on port with its data in dir and waits
// (polling with a deadline) until it answers PING.
func startServer(port int, dir string) (*server, error) {
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{port: port, dir: dir, cmd: cmd}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer PING: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a process we started, not synchronising goroutines
	}
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// stop kills the server (SIGKILL: a crash, not a clean shutdown) and waits.
func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// client returns a client of the server closed with the test.
func (s *server) client(t *testing.T) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr: s.addr(), ContextTimeoutEnabled: true,
		DialTimeout: 500 * time.Millisecond, MaxRetries: -1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}
