// Package redistest runs a real redis-server (Debian's) for tests. When
// redis-server is missing, tests skip with a loud message on a developer's
// machine and fail under CI (CI set), where .ci/run installs it.
package redistest

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

// Server is a redis-server process started for tests.
type Server struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
}

// Main starts one server for a test binary and runs its tests: set is
// given the server, or the reason every Redis test must skip. Use it from
// TestMain: os.Exit(redistest.Main(m, func(s *Server, skip string) {...})).
func Main(m *testing.M, set func(s *Server, skip string)) int {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "FAIL: redis-server is not installed, and CI is set: install it (apt-get install redis-server)")
			return 1
		}
		reason := "redis-server is not installed: SKIPPING every Redis test (install redis-server to run them)"
		fmt.Fprintln(os.Stderr, "!!!", reason)
		set(nil, reason)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tr-redis-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	s, err := Start(FreePort(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start redis-server:", err)
		return 1
	}
	defer s.Stop()
	set(s, "")
	return m.Run()
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs redis-server on port with its data (AOF on) in dir and waits,
// polling with a deadline, until it answers PING.
func Start(port int, dir string) (*Server, error) {
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", dir)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Port: port, Dir: dir, cmd: cmd}
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
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
			s.Stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer PING: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a process we started, not synchronising goroutines
	}
}

// Pid is the redis-server process's ID (the load tool reads its CPU).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Addr is host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the server's redis:// URL for database db.
func (s *Server) URL(db int) string { return "redis://" + s.Addr() + "/" + strconv.Itoa(db) }

// Stop kills the server (SIGKILL: a crash, not a clean shutdown) and waits.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Client returns a client of the server closed with the test.
func (s *Server) Client(t testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr: s.Addr(), ContextTimeoutEnabled: true,
		DialTimeout: 500 * time.Millisecond, MaxRetries: -1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}
