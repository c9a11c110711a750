package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a fake running in its own process.
type child struct {
	name  string
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// client calls the control API; http.DefaultClient when nil.
	client *http.Client
}

// startChild runs this binary with args and waits for its
// "listening URL" line. The child exits when stop closes its stdin.
func startChild(ctx context.Context, stderr io.Writer, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	c := &child{name: args[0], cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(out).ReadString('\n')
	if url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening "); ok && err == nil {
		c.url = url
		go func() { _, _ = io.Copy(io.Discard, out) }()
		return c, nil
	}
	c.stop()
	return nil, fmt.Errorf("start %s: no listening line (got %q): %v", args[0], line, err)
}

// renice sets the child's scheduling niceness (0–19; higher yields the
// CPU sooner): the fakes stand for services on other machines, so under
// contention the bot, whose cores are being measured, goes first. A
// starved fake only makes the bot look slower: the model's chunks are
// timed when the fake sends them and the writes when it answers.
func (c *child) renice(n int) error { return renice(c.name, c.cmd.Process.Pid, n) }

func renice(name string, pid, n int) error {
	if n == 0 {
		return nil
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, pid, n); err != nil {
		return fmt.Errorf("renice %s: %w", name, err)
	}
	return nil
}

// stop closes the child's stdin and waits for it to exit.
func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// call sends a JSON request (nil body: GET) to a child's control API and
// decodes the answer into out.
func (c *child) call(ctx context.Context, path string, in, out any) error {
	method, body := http.MethodGet, io.Reader(nil)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.name, path, err)
		}
		method, body = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.name, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.name, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", c.name, path, resp.Status, bytes.TrimSpace(msg))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", c.name, path, err)
	}
	return nil
}

// cpuSeconds is the child's user and system CPU time so far, from
// /proc/<pid>/stat (in clock ticks of 1/100 s, Linux's USER_HZ); 0 when it
// cannot be read. The fakes share the machine's cores with the bot, so the
// report shows what they took.
func (c *child) cpuSeconds() float64 { return pidCPUSeconds(c.cmd.Process.Pid) }

// pidCPUSeconds is a process's user and system CPU time so far; 0 when it
// cannot be read.
func pidCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return statCPUSeconds(string(b))
}

// statCPUSeconds reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command name before them may hold spaces.
func statCPUSeconds(stat string) float64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (ut + st) / 100
}
