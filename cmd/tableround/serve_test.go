package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
)

func TestServeNeedsAPlatform(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	env["AI_PROVIDER"] = "demo"
	var out, errb bytes.Buffer
	if code := run(context.Background(), envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb); code != exitUsage {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "DISCORD_TOKEN or TELEGRAM_TOKEN") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestServeNeverFallsBackToDemo(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	env["DISCORD_TOKEN"] = "x"
	var out, errb bytes.Buffer
	code := run(context.Background(), envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "OPENROUTER_API_KEY") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// nextPort is the last port freeAddr handed out. Ports come from below
// Linux's ephemeral range (32768–60999): a port from ":0" is free only
// until serve binds it, and in between an outgoing connection of a test
// running beside it can take it as its own local port (it did: serve
// then failed to start). A PID-derived start keeps test processes apart.
var nextPort atomic.Int32

// freeAddr returns a 127.0.0.1 address with a port that was free just now
// and that no outgoing connection is given.
func freeAddr(t *testing.T) string {
	t.Helper()
	const low, high = 20000, 32768
	nextPort.CompareAndSwap(0, int32(low+os.Getpid()%(high-low)))
	for range 500 {
		p := nextPort.Add(1)
		if p >= high {
			nextPort.CompareAndSwap(p, low)
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String()
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

func get(t *testing.T, url string) (string, int) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// Tokens that both platforms reject stop each for good, and serve exits
// non-zero instead of retrying them forever.
func TestServeExitsWhenEveryTokenIsRejected(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	dfake := discordfake.New(discordfake.Options{Token: "right-token"})
	t.Cleanup(dfake.Close)
	tfake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(tfake.Close)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo",
		"DISCORD_TOKEN": "wrong-token", "DISCORD_API_URL": dfake.URL(),
		"TELEGRAM_TOKEN": "999:unknown-token", "TELEGRAM_API_URL": tfake.URL(),
		"HTTP_ADDR": freeAddr(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a safety net
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("serve kept retrying rejected tokens: %s", errb.String())
	}
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// doctor, against the same fakes, agrees.
	out.Reset()
	if code := runDoctor(context.Background(), envOf(env), nil, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "✗ Discord bot — the token was rejected (HTTP 401)") ||
		!strings.Contains(out.String(), "✗ Telegram bot — the token was rejected") {
		t.Fatalf("doctor exit %d:\n%s", code, out.String())
	}
}

// One rejected platform is marked in /readyz and stays off; the other goes
// on serving and the process stays ready.
func TestServeKeepsTheOtherPlatformWhenOneIsRejected(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	dfake := discordfake.New(discordfake.Options{Token: "right-token"})
	t.Cleanup(dfake.Close)
	tfake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(tfake.Close)
	tfake.AddBot("100:good-token", "tableround_bot")
	addr := freeAddr(t)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo",
		"DISCORD_TOKEN": "wrong-token", "DISCORD_API_URL": dfake.URL(),
		"TELEGRAM_TOKEN": "100:good-token", "TELEGRAM_API_URL": tfake.URL(),
		"HTTP_ADDR": addr})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb) }()
	var body string
	eventually.Within(t, time.Minute, "discord rejected in /readyz", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK && strings.Contains(body, `"rejected"`) && strings.Contains(body, `"telegram": {`)
	})
	if strings.Contains(body, "wrong-token") {
		t.Fatalf("/readyz shows the token: %s", body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after a clean shutdown", code)
	}
}
